/**
 * A deterministic virtual clock for tests of time-driven loops.
 *
 * Sleeps register timers on a virtual timeline; nothing fires on its own. {@linkcode VirtualClock.run}
 * settles pending promise chains (one real macrotask turn), then jumps straight to the earliest
 * timer, again and again until the awaited promise settles, so an hour of agent time costs a few
 * hundred event-loop turns. Timers due at the same instant fire in the order they were set. The code
 * under test must not wait on real I/O or real timers while the clock runs: only on this clock.
 *
 * @module
 */
import type { Clock } from "../../src/async/clock.ts";

/** A {@linkcode Clock} whose time only moves when the test says so. */
export interface VirtualClock extends Clock {
  /** Timers not yet fired. */
  readonly pending: number;
  /** Moves time forward by `ms`, firing due timers in order and settling work between them. */
  advance(ms: number): Promise<void>;
  /**
   * Jumps from timer to timer until `task` settles, and returns its result. Throws when `task` is
   * still pending with no timer left (a deadlock) or when virtual time would pass `limitMs` after
   * the start of the call.
   */
  run<T>(task: Promise<T>, limitMs?: number): Promise<T>;
  /** Calls `fn` at virtual time `now() + ms` (e.g. to send a stop request mid-test). */
  after(ms: number, fn: () => void): void;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

/** Lets every promise chain that does not wait on I/O or timers run to its next wait. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Creates a virtual clock reading `startMs` (epoch ms). */
export function createVirtualClock(startMs: number): VirtualClock {
  let now = startMs;
  let seq = 0;
  const timers: Timer[] = [];

  const schedule = (ms: number, fire: () => void): Timer => {
    const timer = { at: now + Math.max(0, ms), seq: seq++, fire };
    // Kept sorted by (at, seq); a linear insert is plenty for test-sized queues.
    let i = timers.length;
    while (i > 0 && (timers[i - 1].at > timer.at)) i--;
    timers.splice(i, 0, timer);
    return timer;
  };

  const fireNext = (): void => {
    const timer = timers.shift()!;
    now = Math.max(now, timer.at);
    timer.fire();
  };

  const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = () => {
        const i = timers.indexOf(timer);
        if (i >= 0) timers.splice(i, 1);
        resolve();
      };
      const timer = schedule(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });

  return {
    now: () => now,
    sleep,
    get pending() {
      return timers.length;
    },
    after(ms, fn) {
      schedule(ms, fn);
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      while (timers.length > 0 && timers[0].at <= target) {
        fireNext();
        await settle();
      }
      now = target;
    },
    async run<T>(task: Promise<T>, limitMs = Number.POSITIVE_INFINITY): Promise<T> {
      let settled = false;
      const watched = task.finally(() => {
        settled = true;
      });
      watched.catch(() => {}); // rethrown below through `await watched`
      const deadline = now + limitMs;
      await settle();
      while (!settled) {
        if (timers.length === 0) {
          throw new Error(`virtual clock: task still pending at ${now} with no timer left`);
        }
        if (timers[0].at > deadline) {
          throw new Error(`virtual clock: task still pending after ${limitMs} ms of virtual time`);
        }
        fireNext();
        await settle();
      }
      return await watched;
    },
  };
}

/**
 * An AbortSignal that aborts when `clock` reaches `now() + ms`: the stop request of a loop under
 * test. Its timer is set at once, so it fires before any timer the loop sets for the same instant.
 */
export function abortAfter(clock: VirtualClock, ms: number): AbortSignal {
  const stop = new AbortController();
  clock.after(ms, () => stop.abort());
  return stop.signal;
}

/** A bare clock reading `startMs` that only moves by `advance`, for code that reads `now()` only. */
export function manualClock(startMs: number): { now(): number; advance(ms: number): void } {
  let ms = startMs;
  return { now: () => ms, advance: (by) => void (ms += by) };
}
