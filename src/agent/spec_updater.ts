/**
 * Keeps the host's spec current on Mackerel: at once, every hour, and on demand (SIGHUP)
 * (docs/upstream.md, "When the spec is sent").
 *
 * @module
 */
import { logger } from "../log.ts";
import type { Clock } from "../async/clock.ts";

/** Options of {@linkcode runSpecUpdater}. */
export interface SpecUpdaterOptions {
  readonly clock: Clock;
  /** Time between two regular updates (upstream: one hour of the agent's minutes). */
  readonly periodMs: number;
  /** Collects and sends the spec; a failure is logged and waits for the next turn (no retry). */
  readonly update: () => Promise<void>;
  /** Dispatches a `refresh` event to update now. */
  readonly refresh?: EventTarget;
  readonly signal: AbortSignal;
}

/** Updates the spec until `signal` aborts. */
export async function runSpecUpdater(options: SpecUpdaterOptions): Promise<void> {
  const { clock, signal } = options;
  const log = logger("command");
  // One listener for the whole loop, so a refresh asked for during an update is not lost.
  let wake = new AbortController();
  const onRefresh = () => wake.abort();
  options.refresh?.addEventListener("refresh", onRefresh);
  try {
    while (!signal.aborted) {
      try {
        await options.update();
      } catch (error) {
        log.error(
          `Error while updating host specs: ${error instanceof Error ? error.message : error}`,
        );
      }
      await clock.sleep(options.periodMs, AbortSignal.any([signal, wake.signal]));
      wake = new AbortController();
    }
  } finally {
    options.refresh?.removeEventListener("refresh", onRefresh);
  }
}
