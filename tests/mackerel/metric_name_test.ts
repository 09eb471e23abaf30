import assert from "node:assert/strict";
import fc from "fast-check";
import { isValidMetricName, metricNameProblem } from "../../src/mackerel/metric_name.ts";

/** The API documentation's own pattern for a posted metric name. */
const DOCUMENTED = /^[-a-zA-Z0-9_.]+$/;

Deno.test("metric name: what the API documents is valid, anything else is not", () => {
  for (const name of ["loadavg5", "custom.a-b_c.D9", "filesystem.sda1.size", "-", "."]) {
    assert.equal(isValidMetricName(name), true, name);
    assert.equal(metricNameProblem(name), undefined, name);
  }
  const refused: [string, string][] = [
    ["", "is empty"],
    ["custom.uni.\u540d\u524d", 'contains "\u540d" (U+540D)'],
    ["custom.slash/x", 'contains "/" (U+002F)'],
    ["custom.colon:x", 'contains ":" (U+003A)'],
    ["custom.nul\0x", "contains U+0000"],
    ["custom.space x", "contains U+0020"],
    ["custom.star.*", 'contains "*" (U+002A)'],
    ["custom.esc\x1b[31m", "contains U+001B"],
    ["custom.lone\ud800", "contains U+D800"],
    ["custom.emoji.\u{1f41f}", 'contains "\u{1f41f}" (U+1F41F)'],
    ["custom.del\x7f", "contains U+007F"],
  ];
  for (const [name, problem] of refused) {
    assert.equal(isValidMetricName(name), false, name);
    assert.equal(metricNameProblem(name), problem, name);
  }
});

Deno.test("metric name: the check agrees with the documented pattern on any string", () => {
  const near = fc.string({
    unit: fc.constantFrom(..."aZ09._-/: \0\u00e9\u540d*#"),
    maxLength: 12,
  });
  fc.assert(
    fc.property(fc.oneof(near, fc.string({ unit: "binary" }), fc.string()), (name) => {
      const valid = DOCUMENTED.test(name);
      assert.equal(isValidMetricName(name), valid);
      assert.equal(metricNameProblem(name) === undefined, valid);
    }),
    { numRuns: 1_000 },
  );
});
