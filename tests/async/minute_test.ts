import assert from "node:assert/strict";
import { nextTick } from "../../src/async/minute.ts";

Deno.test("nextTick: the first tick of the rhythm that is not before now", () => {
  assert.equal(nextTick(60_000, 30_000, 60_000), 60_000);
  assert.equal(nextTick(60_000, 60_000, 60_000), 60_000);
  assert.equal(nextTick(60_000, 60_001, 60_000), 120_000);
  assert.equal(nextTick(60_000, 610_000, 60_000), 660_000);
  assert.throws(() => nextTick(0, 1, 0), RangeError);
});
