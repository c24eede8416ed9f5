import assert from "node:assert/strict";
import { test } from "node:test";
import { DURATION_EXPECTED, parseDurationMs, parseDurationMsExact } from "../src/duration.js";

// The same cases as sdk/src/duration.rs, so both SDKs read durations alike.
test("every unit parses alone", () => {
  assert.equal(parseDurationMs("500ms"), 500);
  assert.equal(parseDurationMs("90s"), 90_000);
  assert.equal(parseDurationMs("10m"), 600_000);
  assert.equal(parseDurationMs("10min"), 600_000);
  assert.equal(parseDurationMs("2h"), 7_200_000);
  assert.equal(parseDurationMs("1d"), 86_400_000);
});

test("sums of units add up", () => {
  assert.equal(parseDurationMs("1h30m"), 5_400_000);
  assert.equal(parseDurationMs("1d 12h"), 129_600_000);
  assert.equal(parseDurationMs("2m30s500ms"), 150_500);
  assert.equal(parseDurationMs(" 1 h 30 m "), 5_400_000);
});

test("anything else is refused", () => {
  for (const bad of ["", "10", "m", "ten minutes", "3w", "-5m", "1.5h", "3 weeks", "1h30", "99999999999999999d", "   "]) {
    assert.equal(parseDurationMs(bad), null, JSON.stringify(bad));
  }
  assert.equal(parseDurationMs(undefined), null);
});

test("the limit is a signed 64-bit count of milliseconds, as in Rust", () => {
  assert.equal(parseDurationMsExact("9223372036854775807ms"), 9_223_372_036_854_775_807n);
  assert.equal(parseDurationMsExact("9223372036854775808ms"), null);
  assert.equal(parseDurationMsExact("106751991167d"), 106_751_991_167n * 86_400_000n);
  assert.equal(parseDurationMsExact("106751991168d"), null);
});

test("whitespace is trimmed as Rust trims it", () => {
  // Rust's trim keeps U+FEFF and strips U+0085; JavaScript's trim does the opposite.
  assert.equal(parseDurationMs("\u00855m\u0085"), 300_000);
  assert.equal(parseDurationMs("\ufeff5m"), null);
});

test("the message names the expected forms", () => {
  assert.equal(DURATION_EXPECTED, 'a duration like "90s", "10m", "2h", "1d" or "1h30m"');
});
