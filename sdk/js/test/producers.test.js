import assert from "node:assert/strict";
import { test } from "node:test";

import { producersSection } from "../src/producers.js";

test("a producers section names the language as the binary format writes it", () => {
  const section = producersSection({ language: [["JavaScript", ""]] });
  const text = (s) => [s.length, ...Buffer.from(s)];
  const payload = [...text("producers"), 1, ...text("language"), 1, ...text("JavaScript"), 0];
  assert.deepEqual([...section], [0, payload.length, ...payload]);
});

test("a long section's size takes several LEB128 bytes", () => {
  const version = "x".repeat(200);
  const section = producersSection({ "processed-by": [["tool", version]] });
  // Size 232 is 0xe8 0x01; the version's length 200 is 0xc8 0x01.
  assert.deepEqual([...section.subarray(0, 3)], [0, 0xe8, 0x01]);
  assert.equal(section.length, 3 + 232);
  assert.deepEqual([...section.subarray(-202, -200)], [0xc8, 0x01]);
});
