/**
 * Encoding a `POST /api/v0/tsdb` body of 2,000 points: the Go-compatible encoder against the
 * typed fast path the spool uses (byte-identical, see tests/mackerel/json_test.ts). Run with
 * `deno task bench`.
 *
 * @module
 */
import { encodeGoJson, encodeMetricPoints } from "../src/mackerel/json.ts";

const points = Array.from({ length: 2_000 }, (_, i) => ({
  hostId: "3yAQ2ctKe6t",
  name: `custom.plugin${i % 20}.metric${i}.value`,
  time: 1_764_000_000,
  value: Math.round(Math.random() * 1e9) / 1000,
}));

Deno.bench(
  "tsdb body of 2,000 points: Go-compatible encoder",
  { group: "json", baseline: true },
  () => {
    encodeGoJson(
      points.map((p) => ({ hostId: p.hostId, name: p.name, time: p.time, value: p.value })),
    );
  },
);

Deno.bench("tsdb body of 2,000 points: typed fast path", { group: "json" }, () => {
  encodeMetricPoints(points);
});
