/**
 * The `cpu.*.percentage` metrics, from two samples of `<procfs>/stat` (docs/upstream.md, "CPU").
 *
 * Upstream sleeps 60 s between its two samples inside one round; here the collector keeps the
 * previous round's sample instead (`window.ts`), so the values cover one agent interval, are
 * stamped with its start as upstream's are, and no round blocks.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import { logger } from "../log.ts";
import { type Collector, type CollectorDefinition, type MetricValue } from "./collector.ts";
import { createCpuFallback } from "./fallback.ts";
import type { MetricDeclaration } from "./metric_declaration.ts";
import { createWindows } from "./window.ts";

/** The columns of the `cpu` line of `/proc/stat`, in the kernel's order. */
export const STAT_FIELDS = [
  "user",
  "nice",
  "system",
  "idle",
  "iowait",
  "irq",
  "softirq",
  "steal",
  "guest",
  "guestNice",
] as const;

/** One column name of {@linkcode STAT_FIELDS}. */
export type StatField = typeof STAT_FIELDS[number];

/** The aggregate `cpu` line of `/proc/stat`, in USER_HZ ticks; absent columns are 0. */
export type CpuStat =
  & { readonly [K in StatField]: number }
  & {
    /** sum columns - guest - guest_nice (the kernel counts guest time in user and nice too). */
    readonly total: number;
    /** How many columns the kernel wrote (4 on 2.4, 7 on 2.6.0-10, 10 today). */
    readonly statCount: number;
    /** Lines `cpu<digit>...`, i.e. online CPUs. */
    readonly cpuCount: number;
  };

/** Options of {@linkcode createCpuCollector}. */
export interface CpuCollectorOptions {
  /** Where `stat` is read from (its procfs root). */
  readonly source: Source;
}

const COUNTER = /^\d+$/;

/**
 * Parses the text of `/proc/stat`: the first `cpu` line's counters and the number of CPUs.
 *
 * Returns `undefined`, never throws, when there is no `cpu` line with at least four decimal
 * counters, so a garbled read is reported by the caller with the path it read.
 */
export function parseStat(text: string): CpuStat | undefined {
  const lines = text.split("\n");
  const line = lines.find((l) => l.startsWith("cpu ") || l.startsWith("cpu\t"));
  if (line === undefined) return undefined;
  // Columns past guest_nice (a future kernel) are ignored, as their meaning is unknown.
  const tokens = line.trim().split(/\s+/).slice(1, 1 + STAT_FIELDS.length);
  if (tokens.length < 4) return undefined;
  const counters: number[] = [];
  for (const token of tokens) {
    const value = Number(token);
    // Safe integers keep every sum and difference exact (2^53 ticks is millions of years).
    if (!COUNTER.test(token) || !Number.isSafeInteger(value)) return undefined;
    counters.push(value);
  }
  const fields = Object.fromEntries(STAT_FIELDS.map((f, i) => [f, counters[i] ?? 0])) as {
    [K in StatField]: number;
  };
  const sum = counters.reduce((a, b) => a + b, 0);
  return {
    ...fields,
    total: sum - fields.guest - fields.guestNice,
    statCount: tokens.length,
    cpuCount: lines.filter((l) => /^cpu\d/.test(l)).length,
  };
}

/**
 * Why `current` cannot be compared with `previous` (a counter went backwards after a suspend, a
 * CPU hotplug or a wrap, or the shape of the file changed), or `undefined` when it can.
 *
 * iowait is exempt: the kernel documents that it may decrease, and upstream then reports its
 * current value (see {@linkcode cpuUsage}).
 */
export function statReset(previous: CpuStat, current: CpuStat): string | undefined {
  if (previous.statCount !== current.statCount) {
    return `column count changed from ${previous.statCount} to ${current.statCount}`;
  }
  if (previous.cpuCount !== current.cpuCount) {
    return `CPU count changed from ${previous.cpuCount} to ${current.cpuCount}`;
  }
  for (const field of STAT_FIELDS) {
    if (field !== "iowait" && current[field] < previous[field]) {
      return `${field} went from ${previous[field]} to ${current[field]}`;
    }
  }
  if (current.user - current.guest < previous.user - previous.guest) {
    return "user - guest decreased";
  }
  return undefined;
}

/**
 * Computes upstream's CPU table (docs/upstream.md, "CPU") from two samples: each delta × CPUCount
 * × 100 / delta Total.
 *
 * Returns no values when the samples cannot be compared ({@linkcode statReset}) or delta Total is not
 * positive (no tick elapsed), so a value is never negative, NaN or infinite.
 */
export function cpuUsage(previous: CpuStat, current: CpuStat): MetricValue[] {
  if (statReset(previous, current) !== undefined) return [];
  // sum of per-column deltas equals delta total, but stays exact where the totals themselves exceed 2^53.
  const totalDelta = STAT_FIELDS.reduce((sum, f) => sum + (current[f] - previous[f]), 0) -
    (current.guest - previous.guest) - (current.guestNice - previous.guestNice);
  if (!(totalDelta > 0)) return [];
  // Multiply before dividing, as upstream does, so round shares stay exact.
  const percentage = (delta: number) => delta * current.cpuCount * 100 / totalDelta;
  const delta = (field: StatField) => current[field] - previous[field];
  const values: MetricValue[] = [
    {
      name: "cpu.user.percentage",
      value: percentage((current.user - current.guest) - (previous.user - previous.guest)),
    },
    { name: "cpu.nice.percentage", value: percentage(delta("nice")) },
    { name: "cpu.system.percentage", value: percentage(delta("system")) },
    { name: "cpu.idle.percentage", value: percentage(delta("idle")) },
  ];
  const count = current.statCount;
  if (count >= 5) {
    const iowait = current.iowait < previous.iowait ? current.iowait : delta("iowait");
    values.push({ name: "cpu.iowait.percentage", value: percentage(iowait) });
  }
  if (count >= 6) values.push({ name: "cpu.irq.percentage", value: percentage(delta("irq")) });
  if (count >= 7) {
    values.push({ name: "cpu.softirq.percentage", value: percentage(delta("softirq")) });
  }
  if (count >= 8) values.push({ name: "cpu.steal.percentage", value: percentage(delta("steal")) });
  if (count >= 9) values.push({ name: "cpu.guest.percentage", value: percentage(delta("guest")) });
  return values;
}

/** Creates the collector of `cpu.*.percentage` from `<procfs>/stat`; its first call yields nothing. */
export function createCpuCollector({ source }: CpuCollectorOptions): Collector {
  const path = source.procPath("stat");
  const log = logger("metrics.cpuUsage");
  const windows = createWindows<CpuStat>();
  return {
    name: "cpu",
    async collect({ timeMs, signal }) {
      const current = parseStat(await source.readProc("stat"));
      if (current === undefined) {
        throw new Error(`unexpected format of /proc/stat: no "cpu" line of counters in ${path}`);
      }
      signal.throwIfAborted();
      // The newest sample is always the next baseline, so one reset costs exactly one round.
      const window = windows.advance(timeMs, current);
      if (window === undefined) return [];
      const reset = statReset(window.previous, current);
      if (reset !== undefined) {
        log.debug(`counters of ${path} reset (${reset}); skipping this interval`);
        return [];
      }
      return cpuUsage(window.previous, current).map((v) => ({ ...v, time: window.time }));
    },
  };
}

/** What each `cpu.<state>.percentage` counts, in the order they are sent. */
const CPU_STATES = {
  user: "in user mode, guest time excluded",
  nice: "in user mode at a lowered priority (nice)",
  system: "in the kernel",
  idle: "idle",
  iowait: "idle while waiting for I/O",
  irq: "serving hardware interrupts",
  softirq: "serving software interrupts",
  steal: "taken by the hypervisor for other guests",
  guest: "running guest virtual CPUs",
} as const;

const CPU_METRICS: readonly MetricDeclaration[] = Object.entries(CPU_STATES).map((
  [state, what],
) => ({
  name: `cpu.${state}.percentage`,
  unit: "percentage",
  description: `CPU time ${what}, in percent of one CPU (100 per CPU).`,
}));

/**
 * The registry's line: upstream's cpu metrics, always on; `node:os` cpus() where this process may
 * not read /proc (macOS and Windows have collectors of their own).
 */
export const CPU_COLLECTOR: CollectorDefinition = {
  name: "cpu",
  os: ["linux"],
  metrics: CPU_METRICS,
  sources: (source) => [source.procPath("stat")],
  create: ({ source }) => createCpuCollector({ source }),
  fallback: { sysKind: "cpus", os: ["linux"], create: () => createCpuFallback() },
};
