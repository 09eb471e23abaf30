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
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { inGraph, type MetricDeclaration } from "./metric_declaration.ts";

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

/** A rate in a graph of its own, labelled with the graph's title. */
const rate = (name: string, title: string, description: string): MetricDeclaration[] =>
  inGraph(`${title} (per second)`, [{ name, unit: "float", label: title, description }]);

/**
 * The registry's line: off unless `[collectors] processes = true`. Running and blocked processes;
 * each rate in a graph of its own.
 */
export const PROCESSES_COLLECTOR: CollectorDefinition = {
  name: "processes",
  os: ["linux"],
  optIn: "processes",
  metrics: [
    ...inGraph("Processes", [
      {
        name: "custom.processes.running",
        unit: "integer",
        description: "Runnable tasks, the reader included (procs_running).",
      },
      {
        name: "custom.processes.blocked",
        unit: "integer",
        description: "Tasks blocked waiting for I/O (procs_blocked).",
      },
    ]),
    ...rate(RATE_NAMES.forks, "Forks", "Processes and threads created per second (processes)."),
    ...rate(RATE_NAMES.contextSwitches, "Context Switches", "Context switches per second (ctxt)."),
    ...rate(RATE_NAMES.interrupts, "Interrupts", "Interrupts served per second (intr)."),
  ],
  sources: (source) => [source.procPath("stat")],
  create: ({ source }) => createProcessesCollector({ source }),
};
