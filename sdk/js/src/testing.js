// Builders for plugin unit tests: a contact, attempts and inputs with
// sensible values, to be adjusted field by field. The same values as the
// Rust SDK's `outdial_sdk::testing`.

import { RetryInput } from "./retry.js";

/** 2026-03-02 15:00:00 UTC, a Monday: the decision time of test inputs. */
export const TEST_NOW_MS = 1_772_463_600_000;

/** A contact in New York. */
export function contact() {
  return {
    id: "contact-1",
    phone: "+12125550100",
    timeZone: "America/New_York",
    attributes: [["name", "Ada"]],
  };
}

/**
 * The bare attempt `number`, ended an hour before TEST_NOW_MS with
 * `outcome` ("answered", "busy", "no-answer", "failed", "canceled",
 * "unknown"); answered ones with 45 s of talk with a person.
 */
export function plainAttempt(number, outcome) {
  const answered = outcome === "answered";
  const endedAt = TEST_NOW_MS - 3_600_000;
  return {
    id: `attempt-${number}`,
    number,
    startedAt: endedAt - 60_000,
    answeredAt: answered ? endedAt - 45_000 : null,
    endedAt,
    outcome,
    sipCode: null,
    talkMs: answered ? 45_000 : 0,
    ringMs: 15_000,
    machineDetection: answered ? "human" : "not-run",
    transcript: null,
    costMicros: null,
    metadata: [],
  };
}

/** Attempt `number` as a labelled attempt without a disposition; set `.disposition` to add one. */
export function attempt(number, outcome) {
  return { attempt: plainAttempt(number, outcome), disposition: null };
}

/**
 * A retry input for `contact()` at TEST_NOW_MS (10:00 in New York) with an
 * empty history; add attempts with `push`.
 */
export function retryInput(maxAttempts) {
  return new RetryInput({
    contact: contact(),
    now: TEST_NOW_MS,
    nowLocal: {
      year: 2026,
      month: 3,
      day: 2,
      hour: 10,
      minute: 0,
      second: 0,
      weekday: 0,
      utcOffsetSeconds: -5 * 3600,
    },
    limits: { maxAttempts },
  });
}
