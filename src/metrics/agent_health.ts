/**
 * The agent's own health (`[collectors] agent`), so an operator graphs it and sets monitors on it
 * in Mackerel itself:
 *
 * - `custom.mackerel_agent.spool.records`, `.spool_bytes.waiting`: what waits in the spool (all kinds);
 * - `custom.mackerel_agent.dropped.<reason>`: points (or reports) dropped in the round's window:
 *   `full`, `expired`, `unreadable` (the spool's bounds and damage), `invalid` (names or values
 *   the API would refuse) and `refused` (by the API);
 * - `custom.mackerel_agent.post.latency`: how long the last metric post took, in ms;
 * - `custom.mackerel_agent.plugins.failed`, `.timed_out`: plugin runs in the window;
 * - `custom.mackerel_agent.memory.rss`: the agent's resident memory, in bytes;
 * - `custom.mackerel_agent.cpu.percentage`: its CPU time (user and system) over the window, in %
 *   of one CPU.
 *
 * The figures come from the daemon (`src/agent/health.ts`), which sees the spool, the posts and
 * the plugin runs; this collector only reads them each round and turns counts into the window's
 * increments.
 *
 * @module
 */
import {
  type Collector,
  type CollectorDefinition,
  EVERY_OS,
  type MetricValue,
} from "./collector.ts";
import { type AgentHealth, DROP_REASONS } from "./agent_figures.ts";
import { inGraph, type MetricDeclaration } from "./metric_declaration.ts";
import { createWindows } from "./window.ts";

export { type AgentHealth, DROP_REASONS } from "./agent_figures.ts";

const DROP_DESCRIPTIONS: Readonly<Record<typeof DROP_REASONS[number], string>> = {
  full: "Points dropped in the window because the spool was full.",
  expired: "Points dropped in the window because they waited longer than [spool] max_age.",
  unreadable: "Points lost in the window to a damaged spool.",
  invalid: "Points dropped in the window for a name or value the API would refuse.",
  refused: "Points, reports or values the API or the OTLP endpoint refused in the window.",
};

/** Options of {@linkcode createAgentHealthCollector}. */
export interface AgentHealthOptions {
  /** The daemon's figures; none outside the daemon (`once`). */
  readonly health?: () => AgentHealth;
  /** This process's memory and CPU; Deno's and Node's by default. */
  readonly rssBytes?: () => number;
  /** CPU time (user + system) in microseconds. */
  readonly cpuMicros?: () => number | Promise<number>;
}

const PREFIX = "custom.mackerel_agent";

/** Creates the `agent` collector. */
export function createAgentHealthCollector(options: AgentHealthOptions = {}): Collector {
  const rssBytes = options.rssBytes ?? (() => Deno.memoryUsage().rss);
  const cpuMicros = options.cpuMicros ?? processCpuMicros;
  const windows = createWindows<{ cpu: number; counts: Record<string, number> }>();
  return {
    name: "agent",
    async collect({ timeMs }) {
      const cpu = await cpuMicros();
      const health = options.health?.();
      const values: MetricValue[] = [{ name: `${PREFIX}.memory.rss`, value: rssBytes() }];
      const counts: Record<string, number> = {};
      if (health) {
        values.push(
          { name: `${PREFIX}.spool.records`, value: health.spool.records },
          { name: `${PREFIX}.spool_bytes.waiting`, value: health.spool.bytes },
        );
        if (health.postLatencyMs !== undefined) {
          values.push({ name: `${PREFIX}.post.latency`, value: health.postLatencyMs });
        }
        for (const reason of DROP_REASONS) counts[`dropped.${reason}`] = health.dropped[reason];
        counts["plugins.failed"] = health.plugins.failed;
        counts["plugins.timed_out"] = health.plugins.timedOut;
      }
      const window = windows.advance(timeMs, { cpu, counts });
      if (window) {
        const { previous, current, seconds, time } = window;
        const cpu = (current.cpu - previous.cpu) / (seconds * 1e4); // us per s -> % of a CPU
        if (cpu >= 0) values.push({ name: `${PREFIX}.cpu.percentage`, value: cpu, time });
        for (const [name, count] of Object.entries(current.counts)) {
          const delta = count - (previous.counts[name] ?? 0);
          if (delta >= 0) values.push({ name: `${PREFIX}.${name}`, value: delta, time });
        }
      }
      return values;
    },
  };
}

/**
 * This process's CPU time (user + system) in microseconds, from Node's `process.cpuUsage()`.
 * `node:process` is imported on first use: Deno loads a part of its Node polyfills with it (some
 * 0.7 MB resident), which an agent without this opt-in collector never needs.
 */
async function processCpuMicros(): Promise<number> {
  const { default: process } = await import("node:process");
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** One graph per unit, each line described for the README. */
const METRICS: readonly MetricDeclaration[] = [
  ...inGraph("Agent: spool (records waiting)", [{
    name: `${PREFIX}.spool.records`,
    unit: "integer",
    label: "records",
    description: "Records waiting in the spool: rounds, check reports, metadata, OTLP exports.",
  }]),
  ...inGraph("Agent: spool (bytes waiting)", [{
    name: `${PREFIX}.spool_bytes.waiting`,
    unit: "bytes",
    label: "bytes",
    description: "Bytes the spool holds, on disk and in memory.",
  }]),
  ...inGraph(
    "Agent: points dropped and refused",
    DROP_REASONS.map((reason) => ({
      name: `${PREFIX}.dropped.${reason}`,
      unit: "integer" as const,
      description: DROP_DESCRIPTIONS[reason],
    })),
  ),
  ...inGraph("Agent: post latency", [{
    name: `${PREFIX}.post.latency`,
    unit: "milliseconds",
    description: "How long the last metric post to Mackerel took.",
  }]),
  ...inGraph("Agent: plugin runs failed", [
    {
      name: `${PREFIX}.plugins.failed`,
      unit: "integer",
      description: "Plugin runs that failed in the window (timeouts included).",
    },
    {
      name: `${PREFIX}.plugins.timed_out`,
      unit: "integer",
      label: "timed out",
      description: "Plugin runs killed at their timeout in the window.",
    },
  ]),
  ...inGraph("Agent: memory", [{
    name: `${PREFIX}.memory.rss`,
    unit: "bytes",
    label: "RSS",
    description: "The agent's resident memory.",
  }]),
  ...inGraph("Agent: CPU", [{
    name: `${PREFIX}.cpu.percentage`,
    unit: "percentage",
    label: "user + system",
    description: "The agent's CPU time over the window, in % of one CPU.",
  }]),
];

/** The registry's line: off unless `[collectors] agent = true`. */
export const AGENT_HEALTH_COLLECTOR: CollectorDefinition = {
  name: "agent",
  os: EVERY_OS,
  optIn: "agent",
  metrics: METRICS,
  sources: () => [],
  create: ({ health }) => createAgentHealthCollector({ health }),
};
