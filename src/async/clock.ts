/**
 * The agent's notion of time: a wall clock and an abortable sleep, injected so that the scheduler
 * and the post queue can run in virtual time under test (docs/architecture.md, "Principles").
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

/** The longest delay a timer takes; a longer one fires after 1 ms, so longer sleeps are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sleeps on a real timer; resolves early (never rejects) when `signal` aborts. Any length works: a
 * sleep past {@linkcode MAX_TIMER_MS} is chained from timers that each stay within it.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    let left = Number.isNaN(ms) ? 0 : Math.max(0, ms); // Infinity: until aborted
    let id: ReturnType<typeof setTimeout>;
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const arm = () => {
      const step = Math.min(left, MAX_TIMER_MS);
      left -= step;
      id = setTimeout(left > 0 ? arm : done, step);
    };
    arm();
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The clock of a running agent: `Date.now()` and real timers. */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: abortableSleep,
});
