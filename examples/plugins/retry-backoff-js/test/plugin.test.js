// The Rust plugin's unit tests (plugins/retry-backoff), on the JavaScript one.

import assert from "node:assert/strict";
import { test } from "node:test";
import { DAY_MS, HOUR_MS, MINUTE_MS, followUpAt, giveUp, retryAt } from "outdial-plugin-sdk";
import { attempt, retryInput } from "outdial-plugin-sdk/testing";
import backoff from "../plugin.js";

const delayOf = (decision, input) => {
  assert.equal(decision.tag, "retry-at", `expected a retry, got ${JSON.stringify(decision)}`);
  return decision.val - input.now;
};

test("the delay doubles with each attempt up to the maximum", () => {
  const plugin = backoff.configure({ base_delay: "10m", jitter: "0", max_delay: "30m" });
  const input = retryInput(5);
  const delays = [1, 2, 3, 4].map((number) => {
    input.push(attempt(number, "no-answer"));
    return delayOf(plugin.decide(input), input);
  });
  assert.deepEqual(delays, [10 * MINUTE_MS, 20 * MINUTE_MS, 30 * MINUTE_MS, 30 * MINUTE_MS]);
});

test("each outcome uses its own base delay", () => {
  const plugin = backoff.configure({ base_delay_busy: "2m", base_delay_no_answer: "1h", jitter: "0" });
  const busy = retryInput(3).push(attempt(1, "busy"));
  const unanswered = retryInput(3).push(attempt(1, "no-answer"));
  assert.deepEqual(plugin.decide(busy), retryAt(busy.now + 2 * MINUTE_MS));
  assert.deepEqual(plugin.decide(unanswered), retryAt(unanswered.now + HOUR_MS));
});

test("jitter stays within its fraction and repeats for the same attempt", () => {
  const plugin = backoff.configure({ base_delay: "10m", jitter: "0.5" });
  for (let n = 0; n < 200; n += 1) {
    const last = attempt(1, "busy");
    last.attempt.id = `attempt-${n}`;
    const input = retryInput(3).push(last);
    const first = plugin.decide(input);
    assert.deepEqual(first, plugin.decide(input));
    const delay = delayOf(first, input);
    assert.ok(delay >= 5 * MINUTE_MS && delay <= 15 * MINUTE_MS, `${delay}`);
  }
});

test("the jitter of the conformance case's attempt is the Rust plugin's", () => {
  // fnv1a("batch-9-41-1") >> 11 over 2^53 is 0.80735: a spread of
  // +0.12294 of 10 minutes at jitter 0.2, as the Rust plugin computes it.
  const plugin = backoff.configure({ base_delay: "10m", jitter: "0.2" });
  const last = attempt(1, "busy");
  last.attempt.id = "batch-9-41-1";
  const input = retryInput(5).push(last);
  assert.equal(delayOf(plugin.decide(input), input), 673_763);
});

test("it gives up when attempts are exhausted or the disposition is terminal", () => {
  const plugin = backoff.configure({});
  const used = retryInput(2).push(attempt(1, "busy")).push(attempt(2, "busy"));
  assert.equal(plugin.decide(used).tag, "give-up");

  const answered = attempt(1, "answered");
  answered.disposition = { label: "do_not_call", terminal: true };
  assert.deepEqual(plugin.decide(retryInput(5).push(answered)), giveUp('disposition "do_not_call" is terminal'));
});

test("a requested callback becomes a follow-up", () => {
  const plugin = backoff.configure({});
  const input = retryInput(5);
  const answered = attempt(1, "answered");
  answered.disposition = { label: "callback_requested", terminal: false, followUpAt: input.now + DAY_MS };
  input.push(answered);
  assert.deepEqual(plugin.decide(input), followUpAt(input.now + DAY_MS));
});

test("bad config values are refused with their key", () => {
  assert.throws(() => backoff.configure({ jitter: "2" }), { tag: "invalid-config", val: 'key "jitter" has value "2": expected 0 to 1' });
  assert.throws(() => backoff.configure({ max_delay: "often" }), (error) => error.val.includes('key "max_delay"'));
  assert.throws(() => backoff.configure({ multiplier: "0.5" }), (error) => error.val.includes('key "multiplier"'));
});

test("an empty history is refused as invalid input", () => {
  assert.throws(() => backoff.configure({}).decide(retryInput(3)), { tag: "invalid-input", val: "no attempt has been made" });
});
