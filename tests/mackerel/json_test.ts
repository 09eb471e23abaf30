import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeGoJson, encodeMetricPoints } from "../../src/mackerel/json.ts";

/** What the API client sent before the fast path: Go JSON of the four fields, in order. */
const slowPath = (
  points: readonly { hostId: string; name: string; time: number; value: number }[],
) =>
  encodeGoJson(
    points.map((p) => ({ hostId: p.hostId, name: p.name, time: p.time, value: p.value })),
  );

const point = fc.record({
  hostId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{11}$/), fc.string({ unit: "binary" })),
  name: fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/),
    fc.string({ unit: "binary" }), // anything: quotes, <>&, U+2028, lone surrogates, controls
  ),
  time: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer()),
  value: fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, 0.1 + 0.2),
  ),
});

Deno.test("json: the metric fast path writes exactly what the Go encoder writes", () => {
  fc.assert(
    fc.property(fc.array(point, { maxLength: 20 }), (points) => {
      assert.equal(encodeMetricPoints(points), slowPath(points));
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("json: the metric fast path refuses what Go refuses (NaN, ±Infinity)", () => {
  for (const value of [NaN, Infinity, -Infinity]) {
    const points = [{ hostId: "h", name: "n", time: 1, value }];
    assert.throws(() => encodeMetricPoints(points), /json: unsupported value/);
    assert.throws(() => slowPath(points), /json: unsupported value/);
  }
  assert.equal(encodeMetricPoints([]), "[]");
  assert.equal(
    encodeMetricPoints([{ hostId: "2Xj9fQk7Hn3", name: "a<b", time: 1, value: -0 }]),
    '[{"hostId":"2Xj9fQk7Hn3","name":"a\\u003cb","time":1,"value":-0}]',
  );
});
