/**
 * Benchmark of issue "Plugins": 20 metric plugins every tick. Prints the wall time of one tick and
 * the CPU time the agent itself spends on it (spawning, reading, parsing; the plugins' own CPU is
 * theirs). Run with `deno task bench` (or `deno run -A scripts/plugins_tick.ts`).
 *
 * @module
 */
import process from "node:process";
import type { MetricPluginConfig } from "../src/config/schema.ts";
import { createMetricPlugins } from "../src/plugins/metric.ts";
import { startPluginWatchdog } from "../src/plugins/watchdog.ts";
import { median } from "./bench_procs.ts";

const PLUGINS = 20;
const TICKS = 15;

/** A typical small plugin: a few lines of `name value time`, as mackerel-plugin-* print. */
const plugins: MetricPluginConfig[] = Array.from({ length: PLUGINS }, (_, i) => ({
  name: `p${i}`,
  command: {
    kind: "argv",
    argv: [
      "/bin/sh",
      "-c",
      `now=$(date +%s); for m in a b c d e f g h; do printf 'bench${i}.%s\\t%d\\t%d\\n' $m 42 $now; done`,
    ],
  },
  env: [],
  timeoutSeconds: 30,
  usePluginTimestamp: false,
}));

/** utime + stime of this process and of its reaped children (the plugins), in ms (10 ms ticks). */
function treeCpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 15).map(Number);
  return fields.reduce((a, b) => a + b, 0) * 10;
}

/** Runs the ticks and prints the wall and agent CPU time of one, and what the host paid in all. */
async function measure(label: string): Promise<void> {
  const runner = createMetricPlugins({ plugins });
  await runner.collect(); // warm up: module loading and the first spawns
  const walls: number[] = [];
  const cpus: number[] = [];
  let values = 0;
  const treeBefore = treeCpuMs();
  for (let tick = 0; tick < TICKS; tick++) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const groups = await runner.collect();
    walls.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuBefore);
    cpus.push((cpu.user + cpu.system) / 1000);
    values = groups.reduce((n, g) => n + g.values.length, 0);
  }
  const tree = (treeCpuMs() - treeBefore) / TICKS;
  await runner.stop();
  console.log(`${label}: ${PLUGINS} metric plugins, ${values} values per tick, ${TICKS} ticks`);
  console.log(
    `  wall time per tick: median ${median(walls).toFixed(1)} ms, max ${
      Math.max(...walls).toFixed(1)
    } ms`,
  );
  console.log(
    `  agent CPU per tick: median ${median(cpus).toFixed(1)} ms, max ${
      Math.max(...cpus).toFixed(1)
    } ms`,
  );
  console.log(`  agent and plugins together per tick: ${tree.toFixed(1)} ms (10 ms ticks)`);
}

await measure("without the plugin watchdog");
// The daemon runs with it: each run is listed and unlisted (two pipe writes).
const watchdog = startPluginWatchdog();
await measure("with the plugin watchdog");
// Its own CPU: utime + stime of /proc/<pid>/stat, in clock ticks (10 ms).
const stat = Deno.readTextFileSync(`/proc/${watchdog.pid}/stat`);
const [utime, stime] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 13).map(Number);
const runs = PLUGINS * (TICKS + 1);
console.log(
  `  the watchdog's own CPU: ${(utime + stime) * 10} ms for ${runs} runs ` +
    `(${((utime + stime) * 10_000 / runs).toFixed(0)} µs per run, at 10 ms resolution)`,
);
