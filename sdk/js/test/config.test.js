import assert from "node:assert/strict";
import { test } from "node:test";
import { Config, PluginError } from "../src/index.js";

const refusal = (message) => (error) => {
  assert.ok(error instanceof PluginError, `expected a PluginError, got ${error}`);
  assert.equal(error.tag, "invalid-config");
  assert.equal(error.val, message);
  return true;
};

test("a compound duration is read as its sum", () => {
  assert.equal(new Config({ base_delay: "1h30m" }).durationMs("base_delay", 0), 5_400_000);
  assert.equal(new Config({}).durationMs("base_delay", 42), 42);
});

test("a bad duration is refused with its key and value, in the Rust SDK's words", () => {
  assert.throws(
    () => new Config({ max_delay: "soon" }).durationMs("max_delay", 0),
    refusal('key "max_delay" has value "soon": expected a duration like "90s", "10m", "2h", "1d" or "1h30m"'),
  );
});

test("the last value of a repeated key wins", () => {
  const config = new Config([
    ["a", "1"],
    ["a", "2"],
  ]);
  assert.equal(config.get("a"), "2");
  assert.deepEqual(config.entries(), [
    ["a", "1"],
    ["a", "2"],
  ]);
});

test("numbers follow Rust's float grammar and their bounds", () => {
  const config = new Config({ a: " 2.5 ", b: "1e2", c: ".5", d: "0x10", e: "", f: "200", g: "nan", h: "1_000" });
  assert.equal(config.number("a", 0), 2.5);
  assert.equal(config.number("b", 0), 100);
  assert.equal(config.number("c", 0), 0.5);
  assert.equal(config.number("missing", 7), 7);
  assert.throws(() => config.number("d", 0), refusal('key "d" has value "0x10": expected a number'));
  assert.throws(() => config.number("e", 0), refusal('key "e" has value "": expected a number'));
  assert.throws(() => config.number("h", 0), refusal('key "h" has value "1_000": expected a number'));
  assert.throws(() => config.number("f", 0, { min: 1, max: 100 }), refusal('key "f" has value "200": expected 1 to 100'));
  assert.throws(() => config.number("g", 0, { min: 0, max: 1 }), refusal('key "g" has value "nan": expected 0 to 1'));
  assert.throws(() => config.number("a", 0, { integer: true }), refusal('key "a" has value " 2.5 ": expected a whole number'));
});

test("booleans, strings and required keys", () => {
  const config = new Config({ on: "true", off: " false", maybe: "yes", name: "Ada" });
  assert.equal(config.boolean("on", false), true);
  assert.equal(config.boolean("off", true), false);
  assert.equal(config.boolean("missing", true), true);
  assert.throws(() => config.boolean("maybe", false), refusal('key "maybe" has value "yes": expected true or false'));
  assert.equal(config.string("name", "x"), "Ada");
  assert.equal(config.string("missing", "x"), "x");
  assert.equal(config.required("name"), "Ada");
  assert.throws(() => config.required("token"), refusal('key "token" is required'));
});

test("entries that are not strings are refused with their place", () => {
  assert.throws(() => new Config([["a", 1]]), refusal('config entry 0 must be a string key and a string value, got ["a",1]'));
});
