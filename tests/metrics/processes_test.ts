import assert from "node:assert/strict";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import { join } from "node:path";
import {
  createProcessesCollector,
  parseProcStat,
  PROCESSES_COLLECTOR,
} from "../../src/metrics/processes.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { at, fixtureTrees, readable, recordingSource, T0 } from "./rounds.ts";

const PROCESSES_GRAPH_DEFS = graphDefsOf(PROCESSES_COLLECTOR.metrics);

Deno.test("processes: parseProcStat reads the process lines, the total of intr and the boot time", async () => {
  const stat = await Deno.readTextFile(join(PROCFS_FIXTURES, "x86", "stat"));
  assert.deepEqual(parseProcStat(stat), {
    interrupts: 4190321,
    contextSwitches: 7322913,
    bootTime: 1718000000,
    forks: 48213,
    running: 2,
    blocked: 0,
  });
  assert.deepEqual(parseProcStat("ctxt x\nprocs_running -1\nprocesses\nintr 12 3\n"), {
    interrupts: 12,
  });
});

Deno.test("processes: running and blocked each round, forks, switches and interrupts per second", async () => {
  const trees = fixtureTrees();
  const collector = createProcessesCollector({ source: trees.source });
  assert.deepEqual(await collector.collect(at(T0)), [
    { name: "custom.processes.running", value: 2 },
    { name: "custom.processes.blocked", value: 0 },
  ]);
  trees.use("x86-next");
  const time = T0 / 1000;
  assert.deepEqual(await collector.collect(at(T0 + 10_000)), [
    { name: "custom.processes.running", value: 1 },
    { name: "custom.processes.blocked", value: 0 },
    { name: "custom.processes.forks.per_second", value: 1.7, time }, // 17 in 10 s
    { name: "custom.processes.context_switches.per_second", value: 620.1, time }, // 6201
    { name: "custom.processes.interrupts.per_second", value: 169, time }, // 1690
  ]);
  // After a reboot-like drop every counter is left out for one round, never sent negative.
  trees.use("reset");
  assert.deepEqual(await collector.collect(at(T0 + 20_000)), [
    { name: "custom.processes.running", value: 1 },
    { name: "custom.processes.blocked", value: 0 },
  ]);
});

Deno.test("processes: every metric sent has a line in the graph definitions", async () => {
  const trees = fixtureTrees();
  const collector = createProcessesCollector({ source: trees.source });
  await collector.collect(at(T0));
  trees.use("x86-next");
  const sent = (await collector.collect(at(T0 + 60_000))).map((v) => v.name).sort();
  const defined = PROCESSES_GRAPH_DEFS.flatMap((g) => g.metrics.map((m) => m.name)).sort();
  assert.deepEqual(sent, defined);
  for (const graph of PROCESSES_GRAPH_DEFS) {
    for (const metric of graph.metrics) {
      assert.ok(metric.name.startsWith(`${graph.name}.`));
      assert.ok(!metric.name.slice(graph.name.length + 1).includes("."), metric.name);
    }
  }
});

const live = await readable("/proc/stat");

Deno.test({
  name: `processes: live values are the kernel's${live ? "" : " (skipped: cannot open /proc)"}`,
  ignore: !live,
  async fn() {
    const { source, take } = recordingSource();
    const collector = createProcessesCollector({ source });
    await collector.collect(at(T0));
    const before = take().get("stat")!;
    const values = new Map(
      (await collector.collect(at(T0 + 60_000))).map((v) => [v.name, v.value]),
    );
    const after = take().get("stat")!;
    const line = (text: string, key: string) =>
      Number(text.split("\n").find((l) => l.startsWith(`${key} `))!.split(" ")[1]);
    assert.equal(values.get("custom.processes.running"), line(after, "procs_running"));
    assert.equal(values.get("custom.processes.blocked"), line(after, "procs_blocked"));
    const rate = (key: string) => (line(after, key) - line(before, key)) / 60;
    assert.equal(values.get("custom.processes.forks.per_second"), rate("processes"));
    assert.equal(values.get("custom.processes.context_switches.per_second"), rate("ctxt"));
    assert.equal(values.get("custom.processes.interrupts.per_second"), rate("intr"));
    // The reading process itself is runnable.
    assert.ok(values.get("custom.processes.running")! >= 1);
  },
});
