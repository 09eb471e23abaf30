/**
 * Processes and scheduler activity (`[collectors] processes`), from `<procfs>/stat`:
 *
 * - `custom.processes.running`, `custom.processes.blocked`: `procs_running` (runnable tasks,
 *   including the reader) and `procs_blocked` (waiting for I/O) at the round's time;
 * - `custom.processes.forks.per_second` (`processes`), `custom.processes.context_switches.per_second`
 *   (`ctxt`) and `custom.processes.interrupts.per_second` (the first number of `intr`): rates over
 *   the round's window, each in its own graph as their sizes differ by orders of magnitude.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { GraphDef } from "../mackerel/api_types.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";

/** The lines of `/proc/stat` this collector reads. */
export interface ProcStat {
  readonly running?: number;
  readonly blocked?: number;
  readonly forks?: number;
  readonly contextSwitches?: number;
  readonly interrupts?: number;
  /** Boot time, epoch seconds (`btime`): when the kernel's counters started. */
  readonly bootTime?: number;
}

const KEYS: Readonly<Record<string, keyof ProcStat>> = {
  procs_running: "running",
  procs_blocked: "blocked",
  processes: "forks",
  ctxt: "contextSwitches",
  intr: "interrupts",
  btime: "bootTime",
};

/** Parses the process lines of `/proc/stat`; an absent or garbled line is left out. */
export function parseProcStat(text: string): ProcStat {
  const stat: { -readonly [K in keyof ProcStat]: number } = {};
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    const key = KEYS[line.slice(0, space)];
    if (key === undefined) continue;
    // `intr` is followed by one count per interrupt line: only the first, the total, is used.
    const first = line.slice(space + 1).trimStart().split(" ", 1)[0];
    const value = Number(first);
    if (/^\d+$/.test(first) && Number.isSafeInteger(value)) stat[key] = value;
  }
  return stat;
}

const RATES = ["forks", "contextSwitches", "interrupts"] as const;
const RATE_NAMES = {
  forks: "custom.processes.forks.per_second",
  contextSwitches: "custom.processes.context_switches.per_second",
  interrupts: "custom.processes.interrupts.per_second",
} as const;

/** Options of {@linkcode createProcessesCollector}. */
export interface ProcessesCollectorOptions {
  readonly source: Source;
}

/** Creates the `processes` collector. */
export function createProcessesCollector({ source }: ProcessesCollectorOptions): Collector {
  return createCounterRateCollector({
    name: "processes",
    metricName: (_, counter) => RATE_NAMES[counter as typeof RATES[number]],
    read: async () => {
      const stat = parseProcStat(await source.readProc("stat"));
      const gauges: MetricValue[] = [];
      if (stat.running !== undefined) {
        gauges.push({ name: "custom.processes.running", value: stat.running });
      }
      if (stat.blocked !== undefined) {
        gauges.push({ name: "custom.processes.blocked", value: stat.blocked });
      }
      const rates: Record<string, number> = {};
      for (const rate of RATES) if (stat[rate] !== undefined) rates[rate] = stat[rate];
      return { gauges, counters: new Map([["stat", rates]]) };
    },
  });
}

const rateGraph = (rate: typeof RATES[number], title: string): GraphDef => ({
  name: RATE_NAMES[rate].slice(0, -".per_second".length),
  displayName: `${title} (per second)`,
  unit: "float",
  metrics: [{ name: RATE_NAMES[rate], displayName: title, isStacked: false }],
});

/** Running and blocked processes; each rate in a graph of its own. */
export const PROCESSES_GRAPH_DEFS: readonly GraphDef[] = [
  {
    name: "custom.processes",
    displayName: "Processes",
    unit: "integer",
    metrics: [
      { name: "custom.processes.running", displayName: "running", isStacked: false },
      { name: "custom.processes.blocked", displayName: "blocked", isStacked: false },
    ],
  },
  rateGraph("forks", "Forks"),
  rateGraph("contextSwitches", "Context Switches"),
  rateGraph("interrupts", "Interrupts"),
];

/** The registry's line: off unless `[collectors] processes = true`. */
export const PROCESSES_COLLECTOR: CollectorDefinition = {
  name: "processes",
  optIn: "processes",
  sources: (source) => [source.procPath("stat")],
  graphDefs: PROCESSES_GRAPH_DEFS,
  create: ({ source }) => createProcessesCollector({ source }),
};
