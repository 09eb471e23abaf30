import assert from "node:assert/strict";
import { sanitizeMetricKey } from "../../src/metrics/sanitize.ts";

Deno.test("sanitize: each code point outside [A-Za-z0-9_-] becomes one underscore", () => {
  assert.equal(sanitizeMetricKey("abc*defあ.ggg"), "abc_def__ggg");
  assert.equal(sanitizeMetricKey("/dev/mapper/vg-root"), "_dev_mapper_vg-root");
  assert.equal(sanitizeMetricKey("Az09_-"), "Az09_-");
  // An astral character is two UTF-16 units but one rune, so one underscore, as in Go.
  assert.equal(sanitizeMetricKey("disk🙂1"), "disk_1");
  assert.equal(sanitizeMetricKey(""), "");
});
