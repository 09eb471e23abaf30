/**
 * Collectors built only on Deno built-ins that need `--allow-sys`, used when /proc is unreadable
 * (Deno opens /proc only with `--allow-all`). They give fewer metrics than the primary ones.
 *
 * Known traps: `Deno.systemMemoryInfo().cached` reports 0 on Linux, and `node:os` `cpus()` has no
 * iowait, softirq, steal or guest, so these are never the primary source.
 *
 * @module
 */
import { logger } from "../log.ts";
import { denoBuiltins } from "../platform/platform.ts";
import type { Collector, MetricValue } from "./collector.ts";
import { createWindows } from "./window.ts";

/** Creates `loadavg1/5/15` from `Deno.loadavg()` (`--allow-sys=loadavg`). */
export function createLoadavgFallback(): Collector {
  return {
    name: "loadavg",
    collect() {
      const [loadavg1, loadavg5, loadavg15] = Deno.loadavg();
      return Promise.resolve([
        { name: "loadavg1", value: loadavg1 },
        { name: "loadavg5", value: loadavg5 },
        { name: "loadavg15", value: loadavg15 },
      ]);
    },
  };
}

/**
 * Creates `memory.*` from `Deno.systemMemoryInfo()` (`--allow-sys=systemMemoryInfo`).
 *
 * Only the values it gets right are sent: total, used (total - available), mem_available,
 * swap_total and swap_free. Its `cached` is wrong and it has no SwapCached, so `memory.cached` and
 * `memory.swap_cached` are left out rather than sent as 0.
 */
export function createMemoryFallback(): Collector {
  return {
    name: "memory",
    collect() {
      const info = Deno.systemMemoryInfo();
      return Promise.resolve([
        { name: "memory.total", value: info.total },
        { name: "memory.used", value: info.total - info.available },
        { name: "memory.mem_available", value: info.available },
        { name: "memory.swap_total", value: info.swapTotal },
        { name: "memory.swap_free", value: info.swapFree },
      ]);
    },
  };
}

/** `node:os` CPU times summed over all CPUs, in milliseconds. */
interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly sys: number;
  readonly idle: number;
  readonly irq: number;
  readonly cpuCount: number;
}

const TIME_FIELDS = ["user", "nice", "sys", "idle", "irq"] as const;
const METRIC_OF = {
  user: "cpu.user.percentage",
  nice: "cpu.nice.percentage",
  sys: "cpu.system.percentage",
  idle: "cpu.idle.percentage",
  irq: "cpu.irq.percentage",
} as const;

async function sampleCpus(): Promise<CpuTimes> {
  const all = await denoBuiltins.cpuTimes();
  const sum = (field: typeof TIME_FIELDS[number]) => all.reduce((acc, cpu) => acc + cpu[field], 0);
  return {
    user: sum("user"),
    nice: sum("nice"),
    sys: sum("sys"),
    idle: sum("idle"),
    irq: sum("irq"),
    cpuCount: all.length,
  };
}

/**
 * Creates `cpu.{user,nice,system,idle,irq}.percentage` from `node:os` `cpus()`
 * (`--allow-sys=cpus`), scaled to CPUCount × 100 like the primary and stamped like it with the
 * previous round's time; its first call yields nothing.
 */
export function createCpuFallback(): Collector {
  const log = logger("metrics.cpuUsage");
  const windows = createWindows<CpuTimes>();
  return {
    name: "cpu",
    async collect({ timeMs }) {
      const window = windows.advance(timeMs, await sampleCpus());
      if (window === undefined) return [];
      const { previous: baseline, current, time } = window;
      const backwards = TIME_FIELDS.find((f) => current[f] < baseline[f]);
      if (backwards !== undefined || current.cpuCount !== baseline.cpuCount) {
        log.debug(`CPU times reset (${backwards ?? "CPU count changed"}); skipping this interval`);
        return [];
      }
      const total = (t: CpuTimes) => TIME_FIELDS.reduce((acc, f) => acc + t[f], 0);
      const totalDelta = total(current) - total(baseline);
      if (!(totalDelta > 0)) return [];
      const values: MetricValue[] = TIME_FIELDS.map((f) => ({
        name: METRIC_OF[f],
        value: (current[f] - baseline[f]) * current.cpuCount * 100 / totalDelta,
        time,
      }));
      return values;
    },
  };
}
