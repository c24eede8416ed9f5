// The two JavaScript engines jco builds components with disagree on how the
// contract's values look in JavaScript:
//
// | WIT          | QuickJS (`--backend qjs`) | StarlingMonkey        |
// |--------------|---------------------------|-----------------------|
// | s64, u64     | Number (rounded past 2^53)| BigInt                |
// | option none  | null                      | undefined             |
//
// Plugin code sees one shape whatever the engine: 64-bit times, talk times
// and costs as Numbers (milliseconds since 1970 stay exact far past 2^53's
// reach), every absent option as null, and the decision seed as a BigInt.
// It may hand back either a Number or a BigInt; these functions give the
// engine what it takes.

export const QUICKJS = "quickjs";
export const STARLINGMONKEY = "starlingmonkey";
export const ENGINES = [QUICKJS, STARLINGMONKEY];

/** The name of an engine, checked: "quickjs" or "starlingmonkey". */
export function checkEngine(engine) {
  if (!ENGINES.includes(engine)) {
    throw new Error(`unknown engine "${engine}": expected one of ${ENGINES.join(", ")}`);
  }
  return engine;
}

/**
 * A whole number of milliseconds (or micros) from plugin code, as a Number:
 * a BigInt is converted, a fraction truncated toward zero as Rust's `as i64`
 * does; anything else is a bug, reported with `what` naming the field.
 */
export function wholeNumber(value, what) {
  if (typeof value === "bigint") {
    return Number(value);
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    return Math.trunc(value);
  }
  throw new TypeError(`${what} must be a whole number (a Number or a BigInt), got ${describe(value)}`);
}

/** A 64-bit integer in the form `engine` takes. */
export function int64ToEngine(value, what, engine) {
  if (engine === STARLINGMONKEY) {
    return typeof value === "bigint" ? value : BigInt(wholeNumber(value, what));
  }
  return wholeNumber(value, what);
}

/** An optional 64-bit integer (null or undefined for none) for `engine`. */
export function optionalInt64ToEngine(value, what, engine) {
  return value === null || value === undefined ? none(engine) : int64ToEngine(value, what, engine);
}

/** An optional plain value (a string, a float) for `engine`. */
export function optionalToEngine(value, engine) {
  return value === null || value === undefined ? none(engine) : value;
}

/** How `engine` spells an absent option. */
export function none(engine) {
  return engine === STARLINGMONKEY ? undefined : null;
}

/**
 * A value the engine handed over, in the one shape plugin code sees:
 * BigInts as Numbers, undefined as null, records copied. QuickJS's values
 * already have that shape and are passed through without a copy.
 */
export function fromEngine(value, engine) {
  if (engine === QUICKJS) {
    return value;
  }
  return normalize(value);
}

function normalize(value) {
  if (value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (value === null || typeof value !== "object") return value;
  if (ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(normalize);
  const copy = {};
  for (const key of Object.keys(value)) {
    copy[key] = normalize(value[key]);
  }
  return copy;
}

/** A u64 seed as a BigInt, whether the engine gave a Number or a BigInt. */
export function seedFromEngine(value) {
  return typeof value === "bigint" ? value : BigInt(Math.trunc(Number(value)));
}

function describe(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  return value === undefined ? "undefined" : String(value);
}
