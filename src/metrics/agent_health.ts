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
import process from "node:process";
import type { GraphDef } from "../mackerel/api_types.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { createWindows } from "./window.ts";

/** Why points were dropped, each counted since the agent started. */
export const DROP_REASONS = ["full", "expired", "unreadable", "invalid", "refused"] as const;

/** What the daemon reports of itself each round; counts are totals since it started. */
export interface AgentHealth {
  /** Records waiting in the spool (every kind) and their bytes, on disk and in memory. */
  readonly spool: { readonly records: number; readonly bytes: number };
  readonly dropped: Readonly<Record<typeof DROP_REASONS[number], number>>;
  /** The last metric post's duration in ms; absent before the first. */
  readonly postLatencyMs?: number;
  readonly plugins: { readonly failed: number; readonly timedOut: number };
}

/** Options of {@linkcode createAgentHealthCollector}. */
export interface AgentHealthOptions {
  /** The daemon's figures; none outside the daemon (`once`). */
  readonly health?: () => AgentHealth;
  /** This process's memory and CPU; Deno's and Node's by default. */
  readonly rssBytes?: () => number;
  /** CPU time (user + system) in microseconds. */
  readonly cpuMicros?: () => number;
}

const PREFIX = "custom.mackerel_agent";

/** Creates the `agent` collector. */
export function createAgentHealthCollector(options: AgentHealthOptions = {}): Collector {
  const rssBytes = options.rssBytes ?? (() => Deno.memoryUsage().rss);
  const cpuMicros = options.cpuMicros ?? (() => {
    const { user, system } = process.cpuUsage();
    return user + system;
  });
  const windows = createWindows<{ cpu: number; counts: Record<string, number> }>();
  return {
    name: "agent",
    collect({ timeMs }) {
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
      const window = windows.advance(timeMs, { cpu: cpuMicros(), counts });
      if (window) {
        const { previous, current, seconds, time } = window;
        const cpu = (current.cpu - previous.cpu) / (seconds * 1e4); // us per s -> % of a CPU
        if (cpu >= 0) values.push({ name: `${PREFIX}.cpu.percentage`, value: cpu, time });
        for (const [name, count] of Object.entries(current.counts)) {
          const delta = count - (previous.counts[name] ?? 0);
          if (delta >= 0) values.push({ name: `${PREFIX}.${name}`, value: delta, time });
        }
      }
      return Promise.resolve(values);
    },
  };
}

const line = (name: string, displayName: string) => ({ name, displayName, isStacked: false });

/** One graph per unit. */
export const AGENT_HEALTH_GRAPH_DEFS: readonly GraphDef[] = [
  {
    name: `${PREFIX}.spool`,
    displayName: "Agent: spool (records waiting)",
    unit: "integer",
    metrics: [line(`${PREFIX}.spool.records`, "records")],
  },
  {
    name: `${PREFIX}.spool_bytes`,
    displayName: "Agent: spool (bytes waiting)",
    unit: "bytes",
    metrics: [line(`${PREFIX}.spool_bytes.waiting`, "bytes")],
  },
  {
    name: `${PREFIX}.dropped`,
    displayName: "Agent: points dropped and refused",
    unit: "integer",
    metrics: DROP_REASONS.map((r) => line(`${PREFIX}.dropped.${r}`, r)),
  },
  {
    name: `${PREFIX}.post`,
    displayName: "Agent: post latency",
    unit: "milliseconds",
    metrics: [line(`${PREFIX}.post.latency`, "latency")],
  },
  {
    name: `${PREFIX}.plugins`,
    displayName: "Agent: plugin runs failed",
    unit: "integer",
    metrics: [
      line(`${PREFIX}.plugins.failed`, "failed"),
      line(`${PREFIX}.plugins.timed_out`, "timed out"),
    ],
  },
  {
    name: `${PREFIX}.memory`,
    displayName: "Agent: memory",
    unit: "bytes",
    metrics: [line(`${PREFIX}.memory.rss`, "RSS")],
  },
  {
    name: `${PREFIX}.cpu`,
    displayName: "Agent: CPU",
    unit: "percentage",
    metrics: [line(`${PREFIX}.cpu.percentage`, "user + system")],
  },
];

/** The registry's line: off unless `[collectors] agent = true`. */
export const AGENT_HEALTH_COLLECTOR: CollectorDefinition = {
  name: "agent",
  optIn: "agent",
  sources: () => [],
  graphDefs: AGENT_HEALTH_GRAPH_DEFS,
  create: ({ health }) => createAgentHealthCollector({ health }),
};
