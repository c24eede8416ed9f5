// A plugin's configuration: the key/value pairs from the campaign config,
// with typed readers whose errors name the key and the bad value, as the
// Rust SDK's `Config` does.

import { DURATION_EXPECTED, parseDurationMs, rustTrim } from "./duration.js";
import { PluginError } from "./errors.js";

// What Rust's `f64::from_str` accepts, so "multiplier" reads alike in both
// SDKs: no hex, no underscores, no empty string (which `Number` takes as 0).
const FLOAT_GRAMMAR = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

function parseFloatLikeRust(text) {
  if (!FLOAT_GRAMMAR.test(text)) {
    return null;
  }
  const lower = text.toLowerCase().replace(/^\+/, "");
  if (lower === "inf" || lower === "infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (lower === "nan" || lower === "-nan") return NaN;
  return Number(text);
}

export class Config {
  /**
   * Wrap key/value pairs: a list of `[key, value]` as the host hands them
   * over, or a plain object such as `{ base_delay: "10m" }` in tests.
   */
  constructor(entries = []) {
    const pairs = Array.isArray(entries) ? entries : Object.entries(entries ?? {});
    this.pairs = pairs.map(([key, value], index) => {
      if (typeof key !== "string" || typeof value !== "string") {
        throw PluginError.invalidConfig(
          `config entry ${index} must be a string key and a string value, got ${JSON.stringify([key, value])}`,
        );
      }
      return [key, value];
    });
  }

  /** A Config from whatever a caller holds: a Config, a pair list or an object. */
  static from(config) {
    return config instanceof Config ? config : new Config(config);
  }

  /** The raw value of `key`, or undefined; the last of repeated keys wins. */
  get(key) {
    for (let index = this.pairs.length - 1; index >= 0; index -= 1) {
      if (this.pairs[index][0] === key) {
        return this.pairs[index][1];
      }
    }
    return undefined;
  }

  /** Whether `key` is set. */
  has(key) {
    return this.get(key) !== undefined;
  }

  /** The value of `key`, or an `invalid-config` error naming the missing key. */
  required(key) {
    const raw = this.get(key);
    if (raw === undefined) {
      throw PluginError.invalidConfig(`key "${key}" is required`);
    }
    return raw;
  }

  /** The value of `key` as written, or `fallback` when it is not set. */
  string(key, fallback) {
    return this.get(key) ?? fallback;
  }

  /**
   * The value of `key` read as a duration such as "90s", "10m", "2h", "1d",
   * "500ms" or "1h30m", in milliseconds; `fallbackMs` when not set.
   */
  durationMs(key, fallbackMs) {
    const raw = this.get(key);
    if (raw === undefined) {
      return fallbackMs;
    }
    const ms = parseDurationMs(raw);
    if (ms === null) {
      throw PluginError.invalidConfig(`key "${key}" has value "${raw}": expected ${DURATION_EXPECTED}`);
    }
    return ms;
  }

  /**
   * The value of `key` read as a number (Rust's float grammar: "2", "0.5",
   * "1e3"), `fallback` when not set. `min`/`max` bound it, inclusive;
   * `integer: true` refuses fractions.
   */
  number(key, fallback, { min, max, integer = false } = {}) {
    const raw = this.get(key);
    if (raw === undefined) {
      return fallback;
    }
    const value = parseFloatLikeRust(rustTrim(raw));
    if (value === null || (integer && !Number.isInteger(value))) {
      throw PluginError.invalidConfig(
        `key "${key}" has value "${raw}": expected ${integer ? "a whole number" : "a number"}`,
      );
    }
    const tooLow = min !== undefined && !(value >= min);
    const tooHigh = max !== undefined && !(value <= max);
    if (tooLow || tooHigh || Number.isNaN(value)) {
      const range =
        min !== undefined && max !== undefined
          ? `${min} to ${max}`
          : min !== undefined
            ? `at least ${min}`
            : max !== undefined
              ? `at most ${max}`
              : "a number";
      throw PluginError.invalidConfig(`key "${key}" has value "${raw}": expected ${range}`);
    }
    return value;
  }

  /** The value of `key` read as "true" or "false"; `fallback` when not set. */
  boolean(key, fallback) {
    const raw = this.get(key);
    if (raw === undefined) {
      return fallback;
    }
    const trimmed = rustTrim(raw);
    if (trimmed === "true" || trimmed === "false") {
      return trimmed === "true";
    }
    throw PluginError.invalidConfig(`key "${key}" has value "${raw}": expected true or false`);
  }

  /** Every pair, in declaration order, as `[key, value]`. */
  entries() {
    return this.pairs.map(([key, value]) => [key, value]);
  }
}
