// The Rust plugin's unit tests (plugins/classify-rules), on the JavaScript one.

import assert from "node:assert/strict";
import { test } from "node:test";
import { DAY_MS } from "outdial-plugin-sdk";
import { contact, plainAttempt } from "outdial-plugin-sdk/testing";
import rules, { LABELS, sentiment } from "../plugin.js";

const classify = (attempt, config = {}) => rules.configure(config).classify(contact(), attempt, []);

function answeredSaying(transcript) {
  const attempt = plainAttempt(1, "answered");
  attempt.transcript = transcript;
  return attempt;
}

test("voicemail and call screening are not a human answer", () => {
  const voicemail = plainAttempt(1, "answered");
  voicemail.machineDetection = "machine";
  assert.equal(classify(voicemail).label, "voicemail");
  assert.equal(classify(voicemail).terminal, false);
  assert.equal(classify(voicemail, { voicemail_is_terminal: "true" }).terminal, true);
  const screened = plainAttempt(1, "answered");
  screened.machineDetection = "call-screening";
  assert.equal(classify(screened).label, "call_screening");
});

test("SIP codes say wrong number, busy or no answer", () => {
  const failed = plainAttempt(1, "failed");
  const labelFor = (sipCode) => classify({ ...failed, sipCode }).label;
  assert.equal(labelFor(404), "wrong_number");
  assert.equal(classify({ ...failed, sipCode: 404 }).terminal, true);
  assert.equal(labelFor(486), "busy");
  assert.equal(labelFor(480), "no_answer");
  assert.equal(labelFor(503), "failed");
  assert.equal(labelFor(null), "failed");
});

test("the strongest intent in the transcript wins", () => {
  const dnc = classify(answeredSaying("I'm not interested, stop calling me"));
  assert.equal(dnc.label, "do_not_call");
  assert.equal(dnc.terminal, true);
  const interested = classify(answeredSaying("Sounds good, tell me more"));
  assert.equal(interested.label, "interested");
  assert.equal(interested.score, 0.9);
  assert.ok(interested.sentiment > 0);
});

test("a stronger phrase wins even inside or after a weaker one", () => {
  // "interested" lies inside "not interested"; "remove me" comes last.
  assert.equal(classify(answeredSaying("Sounds good but I am not interested, please remove me")).label, "do_not_call");
  assert.equal(classify(answeredSaying("No, I'm NOT INTERESTED.")).label, "not_interested");
});

test("a callback request carries its follow-up time", () => {
  const attempt = answeredSaying("Not a good time, can you call me back tomorrow?");
  const result = classify(attempt);
  assert.equal(result.label, "callback_requested");
  assert.equal(result.followUpAt, attempt.endedAt + DAY_MS);
  assert.equal(result.terminal, false);
  assert.equal(classify(attempt, { callback_delay: "2h" }).followUpAt, attempt.endedAt + 2 * 3_600_000);
});

test("without intent, talk time decides between not interested and a human answer", () => {
  const short = plainAttempt(1, "answered");
  short.talkMs = 3_000;
  assert.equal(classify(short).label, "not_interested");
  assert.equal(classify(plainAttempt(1, "answered")).label, "human_answered");
  assert.equal(classify(short, { short_call: "1s" }).label, "human_answered");
});

test("every outcome gets a declared label", () => {
  for (const outcome of ["answered", "busy", "no-answer", "failed", "canceled", "unknown"]) {
    const { label } = classify(plainAttempt(1, outcome));
    assert.ok(LABELS.includes(label), label);
  }
});

test("an empty phrase list never matches, and custom phrases replace the defaults", () => {
  const custom = { do_not_call_phrases: " | ", interested_phrases: "tell me more" };
  assert.equal(classify(answeredSaying("Stop calling. Tell me more."), custom).label, "interested");
  assert.equal(classify(answeredSaying("Sí, ¡me interesa!"), { interested_phrases: "¡me interesa!" }).label, "interested");
});

test("sentiment words count in any case and script", () => {
  assert.equal(sentiment("GREAT, great. Great!"), 1);
  assert.equal(sentiment("good NOT"), 0);
  // The Kelvin sign lowercases to an ASCII "k", so this is "thanks"; a
  // fullwidth "Ｎo" lowercases to "ｎo", which is not "no".
  assert.equal(sentiment("THAN\u212AS"), 1);
  assert.equal(sentiment("Ｎo"), null);
  assert.equal(sentiment(""), null);
  assert.equal(sentiment('(yes) "no"\ngreat…'), 1 / 3);
});

test("a 64 KB transcript of one long word or of many short ones is read", () => {
  assert.equal(sentiment("😀".repeat(16 * 1024)), null);
  assert.equal(sentiment("yes ".repeat(16 * 1024)), 1);
});

test("bad config values are refused with their key", () => {
  assert.throws(() => rules.configure({ callback_delay: "tomorrow" }), (error) => error.val.includes('key "callback_delay"'));
  assert.throws(() => rules.configure({ voicemail_is_terminal: "yes" }), (error) => error.val.includes('key "voicemail_is_terminal"'));
});
