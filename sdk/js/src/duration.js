// The one duration grammar of outdial, the same as the Rust SDK's
// `sdk/src/duration.rs`: the host's config, the conformance cases and every
// plugin read "1h30m" the same way.

/** What a duration looks like, for messages. */
export const DURATION_EXPECTED = 'a duration like "90s", "10m", "2h", "1d" or "1h30m"';

const I64_MAX = 9_223_372_036_854_775_807n;

const UNIT_MS = new Map([
  ["ms", 1n],
  ["s", 1_000n],
  ["m", 60_000n],
  ["min", 60_000n],
  ["h", 3_600_000n],
  ["d", 86_400_000n],
]);

// Rust's `char::is_whitespace` (Unicode White_Space). JavaScript's `trim`
// differs: it also strips U+FEFF and keeps U+0085, so it is not used.
const RUST_WHITESPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Trim whitespace exactly as Rust's `str::trim` does. */
export function rustTrim(text) {
  return text.replace(RUST_WHITESPACE, "");
}

const isAsciiDigit = (char) => char >= "0" && char <= "9";

/**
 * The exact sum as a BigInt, or null: parses "500ms", "90s", "10m" (or
 * "10min"), "2h", "1d", or a sum of them such as "1h30m" or "1d 12h". No
 * unit, an unknown unit, a sign, a fraction or a sum beyond a signed 64-bit
 * number of milliseconds is refused.
 */
export function parseDurationMsExact(raw) {
  if (typeof raw !== "string") {
    return null;
  }
  let rest = rustTrim(raw);
  if (rest.length === 0) {
    return null;
  }
  let total = 0n;
  while (rest.length > 0) {
    let digits = 0;
    while (digits < rest.length && isAsciiDigit(rest[digits])) {
      digits += 1;
    }
    // A number must be followed by a unit, and a unit preceded by a number.
    if (digits === rest.length || digits === 0) {
      return null;
    }
    const number = BigInt(rest.slice(0, digits));
    rest = rest.slice(digits);
    let unitLength = 0;
    while (unitLength < rest.length && !isAsciiDigit(rest[unitLength])) {
      unitLength += 1;
    }
    const unitMs = UNIT_MS.get(rustTrim(rest.slice(0, unitLength)));
    if (unitMs === undefined) {
      return null;
    }
    total += number * unitMs;
    if (total > I64_MAX) {
      return null;
    }
    rest = rest.slice(unitLength);
  }
  return total;
}

/**
 * Parse a duration such as "90s", "10m", "2h", "1d", "500ms" or "1h30m"
 * into milliseconds as a Number, or null when it is not one. Beyond 2^53 ms
 * (285,000 years) the Number is rounded; `parseDurationMsExact` is exact.
 */
export function parseDurationMs(raw) {
  const exact = parseDurationMsExact(raw);
  return exact === null ? null : Number(exact);
}
