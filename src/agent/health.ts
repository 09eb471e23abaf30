/**
 * The daemon's figures of its own health, for the `agent` collector (`[collectors] agent`): what
 * waits in the spool, what was dropped and why, how long metric posts take, and how plugin runs
 * end. It reads the outbox's and the status file's counts, times the metric posts and counts the
 * plugin runs that failed or timed out.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import type { OutboxClient, OutboxStats } from "../delivery/outbox.ts";
import { errorMessage } from "../log.ts";
import type { AgentHealth } from "../metrics/agent_figures.ts";
import type { StatusDocument } from "./status.ts";

/** Options of {@linkcode createHealthTracker}. */
export interface HealthTrackerOptions {
  readonly clock: Clock;
  /** The outbox's figures; none without an API key. */
  readonly outbox?: () => OutboxStats;
  /** The status document (refusals by the API). */
  readonly status: () => StatusDocument;
}

/** Collects the figures as the daemon runs. */
export interface HealthTracker {
  /** `client` with its metric posts timed. */
  timed<C extends OutboxClient>(client: C): C;
  /** Told every collector and plugin run, as the status is. */
  ran(group: "collectors" | "plugins", name: string, error?: unknown): void;
  /** The figures now. */
  health(): AgentHealth;
}

/** Creates the tracker. */
export function createHealthTracker(options: HealthTrackerOptions): HealthTracker {
  const { clock } = options;
  let postLatencyMs: number | undefined;
  const plugins = { failed: 0, timedOut: 0 };
  return {
    timed(client) {
      return {
        ...client,
        async postMetricsJson(json: string, signal?: AbortSignal) {
          const start = clock.now();
          await client.postMetricsJson(json, signal);
          postLatencyMs = clock.now() - start;
        },
      };
    },
    ran(group, _name, error) {
      if (group !== "plugins" || error === undefined) return;
      plugins.failed++;
      if (/timed out/.test(errorMessage(error))) plugins.timedOut++;
    },
    health() {
      const stats = options.outbox?.();
      const kinds = Object.values(options.status().delivery.kinds);
      const pending = stats ? Object.values(stats.spool.pending) : [];
      return {
        spool: {
          records: pending.reduce((n, t) => n + t.records, 0),
          bytes: stats ? stats.spool.bytesOnDisk + stats.spool.bytesInMemory : 0,
        },
        dropped: {
          full: stats?.spool.dropped.full.count ?? 0,
          expired: stats?.spool.dropped.expired.count ?? 0,
          // Lost to a damaged spool: read back unreadable, or damaged at start.
          unreadable: (stats?.spool.dropped.unreadable.count ?? 0) +
            (stats?.spool.dropped.damaged.count ?? 0),
          invalid: stats?.invalidPoints ?? 0,
          refused: kinds.reduce((n, k) => n + k.refused, 0),
        },
        ...(postLatencyMs === undefined ? {} : { postLatencyMs }),
        plugins: { ...plugins },
      };
    },
  };
}
