/**
 * The agent's notion of time: a wall clock and an abortable sleep, injected so that the scheduler
 * and the post queue can run in virtual time under test (DESIGN.md principle 2).
 *
 * @module
 */

/** Wall-clock time and sleeping, as the agent's loops see them. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /**
   * Waits `ms` milliseconds (0 or less: the next turn). Resolves early when `signal` aborts and never
   * rejects, so a loop simply re-checks its signals after every sleep instead of catching.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sleeps on a real timer; resolves early (never rejects) when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The clock of a running agent: `Date.now()` and real timers. */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: abortableSleep,
});
