import assert from "node:assert/strict";
import {
  AGENT_HEALTH_COLLECTOR,
  type AgentHealth,
  createAgentHealthCollector,
} from "../../src/metrics/agent_health.ts";
import { isValidMetricName } from "../../src/mackerel/metric_name.ts";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import { at, T0 } from "./rounds.ts";

const health = (dropped: number, failed: number, timedOut: number): AgentHealth => ({
  spool: { records: 3, bytes: 4096 },
  dropped: { full: dropped, expired: 0, unreadable: 0, invalid: 1, refused: 2 },
  postLatencyMs: 42,
  plugins: { failed, timedOut },
});

Deno.test("agent health: the spool, RSS and latency each round; drops, plugin failures and CPU over the window", async () => {
  let figures = health(0, 1, 0);
  let cpu = 1_000_000;
  const collector = createAgentHealthCollector({
    health: () => figures,
    rssBytes: () => 50 << 20,
    cpuMicros: () => cpu,
  });
  assert.equal(collector.name, "agent");
  assert.deepEqual(await collector.collect(at(T0)), [
    { name: "custom.mackerel_agent.memory.rss", value: 50 << 20 },
    { name: "custom.mackerel_agent.spool.records", value: 3 },
    { name: "custom.mackerel_agent.spool_bytes.waiting", value: 4096 },
    { name: "custom.mackerel_agent.post.latency", value: 42 },
  ]);
  figures = health(40, 3, 1);
  cpu += 600_000; // 0.6 s of CPU in 60 s: 1 %
  const time = T0 / 1000;
  const values = await collector.collect(at(T0 + 60_000));
  assert.deepEqual(values.slice(4), [
    { name: "custom.mackerel_agent.cpu.percentage", value: 1, time },
    { name: "custom.mackerel_agent.dropped.full", value: 40, time },
    { name: "custom.mackerel_agent.dropped.expired", value: 0, time },
    { name: "custom.mackerel_agent.dropped.unreadable", value: 0, time },
    { name: "custom.mackerel_agent.dropped.invalid", value: 0, time },
    { name: "custom.mackerel_agent.dropped.refused", value: 0, time },
    { name: "custom.mackerel_agent.plugins.failed", value: 2, time },
    { name: "custom.mackerel_agent.plugins.timed_out", value: 1, time },
  ]);
});

Deno.test("agent health: every metric it sends has a graph, and every name is one the API takes", async () => {
  const collector = createAgentHealthCollector({ health: () => health(1, 1, 1) });
  await collector.collect(at(T0));
  const names = (await collector.collect(at(T0 + 60_000))).map((v) => v.name);
  const defs = graphDefsOf(AGENT_HEALTH_COLLECTOR.metrics);
  const graphed = new Set(defs.flatMap((d) => d.metrics.map((m) => m.name)));
  assert.deepEqual(names.filter((n) => !graphed.has(n)), []);
  assert.ok([...graphed].every(isValidMetricName));
  assert.equal(AGENT_HEALTH_COLLECTOR.optIn, "agent");
});
