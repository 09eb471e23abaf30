import assert from "node:assert/strict";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import { createDiagnosticCollector, DIAGNOSTIC_COLLECTOR } from "../../src/metrics/diagnostic.ts";
import { at, T0 } from "./rounds.ts";

const DIAGNOSTIC_GRAPH_DEFS = graphDefsOf(DIAGNOSTIC_COLLECTOR.metrics);

Deno.test("diagnostic: the agent's memory figures map to custom.agent.memory.*", async () => {
  const collector = createDiagnosticCollector(() => ({
    rss: 50_000_000,
    heapTotal: 8_000_000,
    heapUsed: 6_000_000,
    external: 1_000_000,
  }));
  assert.deepEqual(await collector.collect(at(T0)), [
    { name: "custom.agent.memory.alloc", value: 7_000_000 },
    { name: "custom.agent.memory.sys", value: 50_000_000 },
    { name: "custom.agent.memory.heapAlloc", value: 6_000_000 },
    { name: "custom.agent.memory.heapSys", value: 8_000_000 },
  ]);
});

Deno.test("diagnostic: every metric has a line in the graph definition", async () => {
  const names = (await createDiagnosticCollector().collect(at(T0))).map((v) => v.name);
  assert.deepEqual(DIAGNOSTIC_GRAPH_DEFS[0].metrics.map((m) => m.name), names);
  assert.equal(DIAGNOSTIC_GRAPH_DEFS[0].unit, "bytes");
});
