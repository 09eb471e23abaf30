import assert from "node:assert/strict";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import { join } from "node:path";
import {
  createPressureCollector,
  parsePressure,
  PRESSURE_COLLECTOR,
} from "../../src/metrics/pressure.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { at, fixtureTrees, readable, recordingSource, T0 } from "./rounds.ts";

const PRESSURE_GRAPH_DEFS = graphDefsOf(PRESSURE_COLLECTOR.metrics);

Deno.test("pressure: parsePressure reads some and full; an old kernel's cpu has only some", async () => {
  const io = await Deno.readTextFile(join(PROCFS_FIXTURES, "x86", "pressure", "io"));
  assert.deepEqual(parsePressure(io), {
    some: { avg10: 21.35, avg60: 19.23, avg300: 13.48, total: 68568296 },
    full: { avg10: 21.26, avg60: 19.1, avg300: 13.39, total: 54982338 },
  });
  assert.deepEqual(parsePressure("some avg10=0.40 avg60=1.34 avg300=1.72 total=12459337\n"), {
    some: { avg10: 0.4, avg60: 1.34, avg300: 1.72, total: 12459337 },
  });
  assert.deepEqual(parsePressure("some avg10=x avg60=1 avg300=1 total=1\nnonsense\n"), {});
});

Deno.test("pressure: averages every round, stall time in % of the window stamped with its start", async () => {
  const trees = fixtureTrees();
  const collector = createPressureCollector({ source: trees.source });
  const first = await collector.collect(at(T0));
  assert.equal(first.length, 18);
  assert.deepEqual(first.slice(0, 6), [
    { name: "custom.pressure.cpu.some_avg10", value: 1.53 },
    { name: "custom.pressure.cpu.some_avg60", value: 1.87 },
    { name: "custom.pressure.cpu.some_avg300", value: 1.73 },
    { name: "custom.pressure.cpu.full_avg10", value: 0 },
    { name: "custom.pressure.cpu.full_avg60", value: 0 },
    { name: "custom.pressure.cpu.full_avg300", value: 0 },
  ]);
  trees.use("x86-next");
  const second = await collector.collect(at(T0 + 60_000));
  assert.deepEqual(second.filter((v) => v.name.startsWith("custom.pressure.io.")), [
    { name: "custom.pressure.io.some_avg10", value: 18.4 },
    { name: "custom.pressure.io.some_avg60", value: 19.95 },
    { name: "custom.pressure.io.some_avg300", value: 13.72 },
    { name: "custom.pressure.io.full_avg10", value: 18.31 },
    { name: "custom.pressure.io.full_avg60", value: 19.8 },
    { name: "custom.pressure.io.full_avg300", value: 13.62 },
  ]);
  // Δtotal µs ÷ (60 s × 10⁶ µs/s) × 100: 1.2 s of 60 is 2 %.
  const time = T0 / 1000;
  assert.deepEqual(second.filter((v) => v.name.startsWith("custom.pressure.stall.")), [
    { name: "custom.pressure.stall.cpu_some", value: 2, time },
    { name: "custom.pressure.stall.cpu_full", value: 0, time },
    { name: "custom.pressure.stall.io_some", value: 20, time },
    { name: "custom.pressure.stall.io_full", value: 19, time },
    { name: "custom.pressure.stall.memory_some", value: 0.1, time },
    { name: "custom.pressure.stall.memory_full", value: 0, time },
  ]);
});

Deno.test("pressure: every metric sent has a line in the graph definitions", async () => {
  const trees = fixtureTrees();
  const collector = createPressureCollector({ source: trees.source });
  await collector.collect(at(T0));
  const sent = (await collector.collect(at(T0 + 60_000))).map((v) => v.name).sort();
  const defined = PRESSURE_GRAPH_DEFS.flatMap((g) => g.metrics.map((m) => m.name)).sort();
  assert.deepEqual(sent, defined);
  for (const graph of PRESSURE_GRAPH_DEFS) {
    for (const metric of graph.metrics) assert.ok(metric.name.startsWith(`${graph.name}.`));
  }
});

const live = await readable("/proc/pressure/cpu");

Deno.test({
  name: `pressure: live values are the kernel's${live ? "" : " (skipped: no /proc/pressure here)"}`,
  ignore: !live,
  async fn() {
    const { source, take } = recordingSource();
    const collector = createPressureCollector({ source });
    await collector.collect(at(T0));
    const before = take();
    const values = new Map(
      (await collector.collect(at(T0 + 60_000))).map((v) => [v.name, v.value]),
    );
    const after = take();
    // An independent reading of the texts the collector was given: `key=value` pairs per line.
    const field = (texts: Map<string, string>, resource: string, kind: string, key: string) => {
      const line = texts.get(`pressure/${resource}`)!.split("\n").find((l) => l.startsWith(kind));
      const pair = line?.split(" ").find((p) => p.startsWith(`${key}=`));
      return pair === undefined ? undefined : Number(pair.slice(key.length + 1));
    };
    for (const resource of ["cpu", "io", "memory"]) {
      for (const kind of ["some", "full"]) {
        const total = field(after, resource, kind, "total");
        if (total === undefined) continue;
        assert.equal(
          values.get(`custom.pressure.${resource}.${kind}_avg60`),
          field(after, resource, kind, "avg60"),
        );
        const stalled = total - field(before, resource, kind, "total")!;
        assert.equal(values.get(`custom.pressure.stall.${resource}_${kind}`), stalled / 600_000);
      }
    }
  },
});
