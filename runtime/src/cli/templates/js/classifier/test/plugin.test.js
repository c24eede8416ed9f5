import assert from "node:assert/strict";
import { test } from "node:test";
import { contact, plainAttempt } from "outdial-plugin-sdk/testing";
import rules, { LABELS } from "../plugin.js";

const classify = (attempt, config = {}) => rules.configure(config).classify(contact(), attempt, []);

function answeredBy(machineDetection) {
  const attempt = plainAttempt(1, "answered");
  attempt.machineDetection = machineDetection;
  return attempt;
}

test("a person answering ends the contact unless configured otherwise", () => {
  const person = classify(answeredBy("human"));
  assert.equal(person.label, "human_answered");
  assert.equal(person.terminal, true);
  assert.equal(classify(answeredBy("human"), { human_answered_is_terminal: "false" }).terminal, false);
});

test("a machine, a fax or call screening is voicemail", () => {
  for (const detection of ["machine", "fax", "call-screening"]) {
    assert.equal(classify(answeredBy(detection)).label, "voicemail", detection);
  }
  assert.equal(classify(answeredBy("machine")).terminal, false);
  assert.equal(classify(answeredBy("machine"), { voicemail_is_terminal: "true" }).terminal, true);
});

test("busy, no answer and failures are labelled and retried", () => {
  const labelOf = (outcome) => classify(plainAttempt(1, outcome));
  assert.equal(labelOf("busy").label, "busy");
  assert.equal(labelOf("no-answer").label, "no_answer");
  for (const outcome of ["failed", "canceled", "unknown"]) {
    assert.equal(labelOf(outcome).label, "failed", outcome);
    assert.equal(labelOf(outcome).terminal, false, outcome);
  }
});

test("every label it returns is declared", () => {
  assert.deepEqual(rules.metadata().labels, LABELS);
});

test("refuses a flag that is not true or false, naming the key", () => {
  assert.throws(() => rules.configure({ voicemail_is_terminal: "yes" }), (error) =>
    error.val.includes('key "voicemail_is_terminal"'),
  );
});
