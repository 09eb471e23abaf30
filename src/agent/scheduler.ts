/**
 * The collection ticker (docs/upstream.md, "Collection ticker"): a round at once, then one at the
 * start of every minute.
 *
 * The minute is `-interval` long (docs/architecture.md, "Principles"). At most `maxConcurrent`
 * rounds run at once; a tick that finds them all busy is skipped with a WARNING rather than piling
 * up work.
 *
 * @module
 */
import { aborted, NEVER_ABORTS } from "../async/abort.ts";
import { logger } from "../log.ts";
import type { Clock } from "../async/clock.ts";

/** Options of {@linkcode runScheduler}. */
export interface SchedulerOptions {
  readonly clock: Clock;
  /** Length of the agent's minute in milliseconds. */
  readonly minuteMs: number;
  /** Rounds allowed to run at once (upstream: 3). */
  readonly maxConcurrent?: number;
  /** Runs one round stamped with `timeMs`, the tick's time. */
  readonly round: (timeMs: number) => Promise<void>;
  /** Stops the ticker; rounds in progress finish on their own. */
  readonly signal: AbortSignal;
  /** Stops waiting for rounds in progress. */
  readonly force?: AbortSignal;
}

/** Ticks until `signal` aborts; resolves once every started round has settled (or `force` aborts). */
export async function runScheduler(options: SchedulerOptions): Promise<void> {
  const { clock, minuteMs, signal } = options;
  const maxConcurrent = options.maxConcurrent ?? 3;
  const log = logger("agent");
  const running = new Set<Promise<void>>();
  let tickMs = clock.now();
  while (!signal.aborted) {
    if (running.size >= maxConcurrent) {
      log.warn(`${running.size} collection rounds are still running; skipping this one`);
    } else {
      const round = options.round(tickMs).catch((error) => {
        log.error(`collection round failed: ${error instanceof Error ? error.message : error}`);
      });
      const tracked: Promise<void> = round.finally(() => running.delete(tracked));
      running.add(tracked);
    }
    const now = clock.now();
    tickMs = (Math.floor(now / minuteMs) + 1) * minuteMs;
    await clock.sleep(tickMs - now, signal);
  }
  await Promise.race([Promise.all(running), aborted(options.force ?? NEVER_ABORTS)]);
}
