import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DAY_MS,
  MINUTE_MS,
  PluginError,
  fnv1a,
  followUpAt,
  giveUp,
  outcomeGroup,
  retryAt,
  retryStrategy,
  unitInterval,
} from "../src/index.js";
import { TEST_NOW_MS, attempt, retryInput } from "../src/testing.js";

const fixedDelay = retryStrategy({
  name: "fixed-delay",
  version: "0.1.0",
  keys: { delay: "Wait before each retry. Default: 15m." },
  configure: (config) => ({ delay: config.durationMs("delay", 15 * MINUTE_MS) }),
  decide(input, { delay }) {
    return input.settledByDispositionOrLimit() ?? retryAt(input.now + delay);
  },
});

test("a plugin describes itself as the WIT metadata record", () => {
  assert.deepEqual(fixedDelay.metadata(), {
    name: "fixed-delay",
    version: "0.1.0",
    kind: "retry-strategy",
    configKeys: [{ name: "delay", required: false, description: "Wait before each retry. Default: 15m." }],
    labels: [],
  });
});

test("a configured plugin decides natively", () => {
  const plugin = fixedDelay.configure({ delay: "20m" });
  const input = retryInput(3).push(attempt(1, "busy"));
  assert.deepEqual(plugin.decide(input), retryAt(TEST_NOW_MS + 20 * MINUTE_MS));
});

test("undeclared config keys are refused, as the host refuses them", () => {
  assert.throws(
    () => fixedDelay.configure({ dealy: "5m" }),
    (error) => error instanceof PluginError && error.val === 'key "dealy" is not one plugin "fixed-delay" accepts: expected one of delay',
  );
});

test("decisions accept a Number or a BigInt and keep whole milliseconds", () => {
  assert.deepEqual(retryAt(10n), { tag: "retry-at", val: 10 });
  assert.deepEqual(followUpAt(10.9), { tag: "follow-up-at", val: 10 });
  assert.deepEqual(giveUp("done"), { tag: "give-up", val: "done" });
  assert.throws(() => retryAt("soon"), /retryAt's time must be a whole number/);
  assert.throws(() => retryAt(NaN), /got NaN/);
});

test("a decide that returns something else is an internal error naming the plugin", () => {
  const broken = retryStrategy({ name: "broken", version: "0.1.0", decide: () => 42 });
  assert.throws(
    () => broken.configure({}).decide(retryInput(3)),
    (error) => error.tag === "internal" && error.val.startsWith('plugin "broken": decide must return'),
  );
});

test("it gives up at the limit, on a terminal disposition, and follows a requested callback", () => {
  const plugin = fixedDelay.configure({});
  const used = retryInput(2).push(attempt(1, "busy")).push(attempt(2, "busy"));
  assert.deepEqual(plugin.decide(used), giveUp("2 of 2 attempts made"));

  const stop = attempt(1, "answered");
  stop.disposition = { label: "do_not_call", terminal: true, score: null, sentiment: null, followUpAt: null };
  assert.deepEqual(plugin.decide(retryInput(5).push(stop)), giveUp('disposition "do_not_call" is terminal'));

  const callback = attempt(1, "answered");
  callback.disposition = { label: "callback_requested", terminal: false, followUpAt: TEST_NOW_MS + DAY_MS };
  assert.deepEqual(plugin.decide(retryInput(5).push(callback)), followUpAt(TEST_NOW_MS + DAY_MS));

  const passed = attempt(1, "answered");
  passed.disposition = { label: "callback_requested", terminal: false, followUpAt: TEST_NOW_MS - DAY_MS };
  assert.deepEqual(plugin.decide(retryInput(5).push(passed)), followUpAt(TEST_NOW_MS));
});

test("the input reads attempts as the host would hand them", () => {
  const voicemail = attempt(2, "answered");
  voicemail.attempt.machineDetection = "machine";
  voicemail.disposition = { label: "voicemail", terminal: false };
  const input = retryInput(5).push(attempt(1, "no-answer")).push(voicemail);
  assert.equal(input.attemptsMade, 2);
  assert.equal(input.last().number, 2);
  assert.equal(input.label(2), "voicemail");
  assert.equal(input.label(1), null);
  assert.equal(input.outline(3), null);
  assert.equal(input.outline(0), null);
  assert.equal(input.outlines().length, 2);
  assert.equal(input.attempt(1).attempt.id, "attempt-1");
  assert.equal(input.contact().timeZone, "America/New_York");
  assert.equal(input.seed, fnv1a("attempt-2"));
  assert.throws(() => retryInput(3).lastAttempt(), /no attempt has been made/);
});

test("outcome groups match the Rust SDK's", () => {
  const group = (outcome, machineDetection = "not-run") => outcomeGroup({ outcome, machineDetection });
  assert.deepEqual(
    [group("busy"), group("no-answer"), group("answered", "fax"), group("answered", "call-screening"), group("canceled"), group("answered", "human")],
    [0, 1, 2, 3, 4, 5],
  );
});

test("the seed is the host's FNV-1a and its unit interval is Rust's", () => {
  assert.equal(fnv1a("batch-9-41-1"), 14892910914322007089n);
  const exact = unitInterval(14892910914322007089n);
  assert.equal(exact, Number(14892910914322007089n >> 11n) / 2 ** 53);
  // QuickJS hands the seed over as a rounded Number: within 2^-52 of exact.
  assert.ok(Math.abs(unitInterval(Number(14892910914322007089n)) - exact) <= 2 ** -52);
  assert.ok(unitInterval(Number(2n ** 64n - 1n)) < 1);
  assert.equal(unitInterval(0n), 0);
});

test("atLocal finds a local wall-clock time in UTC", () => {
  const input = retryInput(3);
  // 10:00 in New York at TEST_NOW_MS; tomorrow 09:30 there is 14:30 UTC.
  assert.equal(input.atLocal(1, 9, 30), TEST_NOW_MS + DAY_MS - 30 * MINUTE_MS);
});
