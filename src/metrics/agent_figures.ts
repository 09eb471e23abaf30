/**
 * The figures the daemon reports of itself to the `agent` collector (./agent_health.ts), apart
 * from it so that the collectors' setup (./collector.ts) can carry them without importing the
 * collector.
 *
 * @module
 */

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
