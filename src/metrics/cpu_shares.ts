/**
 * `cpu.user/system/idle.percentage` as macOS and Windows report them: each a share of the user,
 * system and idle time of every CPU together, 0 to 100 in all (Linux instead scales to 100 per CPU).
 *
 * On macOS this is `iostat`'s arithmetic (system_cmds `iostat.c`, `cpustats`): the ticks of
 * `host_statistics(HOST_CPU_LOAD_INFO)`, the sum over CPUs of what `node:os` `cpus()` reads
 * (`host_processor_info`), with nice time left out of both the share and the total. On Windows it
 * is what PDH's `\Processor(_Total)` counters measure, from the same per-CPU times `cpus()` reads
 * (`NtQuerySystemInformation`), where Deno's `sys` is kernel time less idle time.
 *
 * @module
 */
import type { Collector, MetricValue } from "./collector.ts";
import { createWindows } from "./window.ts";
import type { CpuTimes } from "../platform/platform.ts";

/** User, system and idle time summed over CPUs, in the built-in's milliseconds. */
export interface CpuTotals {
  readonly user: number;
  readonly sys: number;
  readonly idle: number;
  readonly cpuCount: number;
}

/** Sums the times of every CPU. */
export function sumCpuTimes(cpus: readonly CpuTimes[]): CpuTotals {
  let user = 0, sys = 0, idle = 0;
  for (const cpu of cpus) {
    user += cpu.user;
    sys += cpu.sys;
    idle += cpu.idle;
  }
  return { user, sys, idle, cpuCount: cpus.length };
}

/**
 * The three shares between two samples, or none when they cannot be compared (a counter went
 * back, the CPU count changed, no time passed).
 */
export function cpuShares(previous: CpuTotals, current: CpuTotals): MetricValue[] {
  if (previous.cpuCount !== current.cpuCount) return [];
  const user = current.user - previous.user;
  const sys = current.sys - previous.sys;
  const idle = current.idle - previous.idle;
  if (user < 0 || sys < 0 || idle < 0) return [];
  const total = user + sys + idle;
  if (!(total > 0)) return [];
  return [
    { name: "cpu.user.percentage", value: user * 100 / total },
    { name: "cpu.system.percentage", value: sys * 100 / total },
    { name: "cpu.idle.percentage", value: idle * 100 / total },
  ];
}

/**
 * Creates the collector of the three shares over each window between two rounds, stamped with the
 * window's start; its first call yields nothing.
 */
export function createCpuSharesCollector(cpuTimes: () => Promise<CpuTimes[]>): Collector {
  const windows = createWindows<CpuTotals>();
  return {
    name: "cpu",
    async collect({ timeMs }) {
      const window = windows.advance(timeMs, sumCpuTimes(await cpuTimes()));
      if (window === undefined) return [];
      const values = cpuShares(window.previous, window.current);
      return values.map((v) => ({ ...v, time: window.time }));
    },
  };
}
