// The component adapters, driven natively with fake WIT imports in the
// shapes each engine uses: QuickJS (Numbers, null) and StarlingMonkey
// (BigInts, undefined).

import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginError, classifier, disposition, giveUp, retryAt, retryStrategy } from "../src/index.js";
import { exportClassifier, exportRetryStrategy } from "../src/component.js";

const logged = [];
const host = { log: (level, message) => logged.push([level, message]), reportPanic: (message) => logged.push(["panic", message]) };

const strategy = retryStrategy({
  name: "ten-minutes",
  version: "0.1.0",
  keys: { note: "Anything." },
  decide(input) {
    if (input.attemptsExhausted()) return giveUp("done");
    if (input.label(input.attemptsMade) === "boom") throw new TypeError("kaboom");
    if (input.label(input.attemptsMade) === "refuse") throw PluginError.invalidInput("refused");
    return retryAt(BigInt(input.now) + 600_000n); // a BigInt is accepted too
  },
});

function retryContext(label, wide) {
  const outline = {
    number: 1,
    startedAt: wide ? 1n : 1,
    answeredAt: wide ? undefined : null,
    endedAt: wide ? 2n : 2,
    outcome: "busy",
    sipCode: wide ? undefined : null,
    talkMs: wide ? 0n : 0,
    ringMs: wide ? 0n : 0,
    machineDetection: "not-run",
    costMicros: wide ? undefined : null,
    disposition: wide ? undefined : null,
  };
  return {
    outline: (number) => (number === 1 ? outline : wide ? undefined : null),
    outlines: () => [outline],
    label: () => label,
    attempt: () => undefined,
    getContact: () => ({ id: "c", phone: "+1", timeZone: "UTC", attributes: [] }),
  };
}

const rawInput = (wide, attemptsMade = 1) => ({
  now: wide ? 1_000n : 1_000,
  nowLocal: { year: 2026, month: 3, day: 2, hour: 0, minute: 0, second: 1, weekday: 0, utcOffsetSeconds: 0 },
  limits: { maxAttempts: 3 },
  attemptsMade,
  seed: wide ? 18446744073709551615n : 18446744073709552000,
});

test("QuickJS gets Numbers back, StarlingMonkey BigInts", () => {
  const quick = exportRetryStrategy(strategy, { host, retryContext: retryContext(null, false), engine: "quickjs" });
  quick.configure([]);
  assert.deepEqual(quick.decide(rawInput(false)), { tag: "retry-at", val: 601_000 });

  const starling = exportRetryStrategy(strategy, { host, retryContext: retryContext(null, true), engine: "starlingmonkey" });
  starling.configure([]);
  assert.deepEqual(starling.decide(rawInput(true)), { tag: "retry-at", val: 601_000n });
  assert.deepEqual(starling.decide(rawInput(true, 3)), { tag: "give-up", val: "done" });
});

test("describe answers the metadata and configure refusals are WIT errors", () => {
  const exported = exportRetryStrategy(strategy, { host, retryContext: retryContext(null, false), engine: "quickjs" });
  assert.equal(exported.describe().kind, "retry-strategy");
  assert.throws(
    () => exported.configure([["nope", "1"]]),
    (error) => error.tag === "invalid-config" && error.val.includes('key "nope"'),
  );
});

test("a typed refusal goes back as itself, a bug as an internal error naming where", () => {
  const refusing = exportRetryStrategy(strategy, { host, retryContext: retryContext("refuse", false), engine: "quickjs" });
  refusing.configure([]);
  assert.throws(() => refusing.decide(rawInput(false)), (error) => error.tag === "invalid-input" && error.val === "refused");

  const buggy = exportRetryStrategy(strategy, { host, retryContext: retryContext("boom", false), engine: "quickjs" });
  buggy.configure([]);
  assert.throws(
    () => buggy.decide(rawInput(false)),
    (error) => error.tag === "internal" && error.val.startsWith('plugin "ten-minutes" decide threw TypeError: kaboom'),
  );
});

test("a call before configure traps with a reason reported to the host", () => {
  const exported = exportRetryStrategy(strategy, { host, retryContext: retryContext(null, false), engine: "quickjs" });
  assert.throws(() => exported.decide(rawInput(false)), /called before configure succeeded/);
  assert.deepEqual(logged.at(-1), ["panic", 'plugin "ten-minutes" called before configure succeeded']);
});

const labeller = classifier({
  name: "labeller",
  version: "0.1.0",
  labels: ["callback_requested", "busy"],
  classify(contact, attempt) {
    if (attempt.outcome === "busy") return disposition("busy", false);
    if (attempt.outcome === "failed") return disposition("undeclared", true);
    return disposition("callback_requested", false, { score: 0.6, followUpAt: attempt.endedAt + 1000 });
  },
});

const rawAttempt = (outcome, wide) => ({
  id: "a-1",
  number: 1,
  startedAt: wide ? 1n : 1,
  answeredAt: wide ? undefined : null,
  endedAt: wide ? 5_000n : 5_000,
  outcome,
  sipCode: wide ? undefined : null,
  talkMs: wide ? 0n : 0,
  ringMs: wide ? 0n : 0,
  machineDetection: "human",
  transcript: wide ? undefined : null,
  costMicros: wide ? undefined : null,
  metadata: [],
});

test("a classifier's disposition takes each engine's option and 64-bit shapes", () => {
  const contact = { id: "c", phone: "+1", timeZone: "UTC", attributes: [] };
  const quick = exportClassifier(labeller, { host, engine: "quickjs" });
  quick.configure([]);
  assert.deepEqual(quick.classify(contact, rawAttempt("answered", false), []), {
    label: "callback_requested",
    terminal: false,
    score: 0.6,
    sentiment: null,
    followUpAt: 6_000,
  });
  const starling = exportClassifier(labeller, { host, engine: "starlingmonkey" });
  starling.configure([]);
  assert.deepEqual(starling.classify(contact, rawAttempt("answered", true), []), {
    label: "callback_requested",
    terminal: false,
    score: 0.6,
    sentiment: undefined,
    followUpAt: 6_000n,
  });
  assert.deepEqual(starling.classify(contact, rawAttempt("busy", true), []).followUpAt, undefined);
});

test("an undeclared label is an internal error naming it", () => {
  const exported = exportClassifier(labeller, { host, engine: "quickjs" });
  exported.configure([]);
  assert.throws(
    () => exported.classify({}, rawAttempt("failed", false), []),
    (error) => error.tag === "internal" && error.val.includes('label "undeclared" is not declared'),
  );
});
