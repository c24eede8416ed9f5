import assert from "node:assert/strict";
import { test } from "node:test";
import { DAY_MS, MINUTE_MS, followUpAt, giveUp, retryAt } from "outdial-plugin-sdk";
import { attempt, retryInput } from "outdial-plugin-sdk/testing";
import strategy from "../plugin.js";

test("waits the default delay after no answer", () => {
  const input = retryInput(3).push(attempt(1, "no-answer"));
  assert.deepEqual(strategy.configure({}).decide(input), retryAt(input.now + 15 * MINUTE_MS));
});

test("waits the configured delays, the busy one after a busy line", () => {
  const plugin = strategy.configure({ delay: "1h", busy_delay: "5m" });
  const unanswered = retryInput(3).push(attempt(1, "no-answer"));
  const busy = retryInput(3).push(attempt(1, "busy"));
  assert.deepEqual(plugin.decide(unanswered), retryAt(unanswered.now + 60 * MINUTE_MS));
  assert.deepEqual(plugin.decide(busy), retryAt(busy.now + 5 * MINUTE_MS));
});

test("gives up when the attempt limit is reached", () => {
  const input = retryInput(2).push(attempt(1, "busy")).push(attempt(2, "no-answer"));
  assert.deepEqual(strategy.configure({}).decide(input), giveUp("2 of 2 attempts made"));
});

test("honours the disposition: a requested callback, a terminal label", () => {
  const input = retryInput(5);
  const callback = attempt(1, "answered");
  callback.disposition = { label: "callback_requested", terminal: false, followUpAt: input.now + DAY_MS };
  assert.deepEqual(strategy.configure({}).decide(input.push(callback)), followUpAt(input.now + DAY_MS));

  const refused = attempt(1, "answered");
  refused.disposition = { label: "do_not_call", terminal: true };
  assert.equal(strategy.configure({}).decide(retryInput(5).push(refused)).tag, "give-up");
});

test("refuses a delay it cannot read, naming the key", () => {
  assert.throws(() => strategy.configure({ delay: "soon" }), { tag: "invalid-config" });
  assert.throws(() => strategy.configure({ dealy: "5m" }), (error) => error.val.includes('key "dealy"'));
});
