/**
 * Stopping and deadlines, written once: every wait that a stop or a deadline may cut short goes
 * through here rather than through a hand-rolled `Promise.race` with its own listener and timer.
 *
 * - {@linkcode aborted}: a promise of a signal's abort;
 * - {@linkcode raceAbort}: an operation that settles no later than a signal's abort, for work that
 *   cannot be cancelled itself (a statfs, a POST that ignores its signal);
 * - {@linkcode deadline} and {@linkcode withDeadline}: an operation given at most so many
 *   milliseconds, with the words "timed out after ..." when it takes longer;
 * - {@linkcode NEVER_ABORTS}: the signal of a caller that nothing stops;
 * - {@linkcode createStopping}: the agent's stop, graceful then forced, with the one timer that
 *   turns the first into the second.
 *
 * @module
 */
import { type Clock, MAX_TIMER_MS, realClock } from "./clock.ts";

/** A signal that never aborts: for callers that nothing stops. */
export const NEVER_ABORTS: AbortSignal = new AbortController().signal;

/** One promise per signal, so that waiting on a signal many times adds one listener, not many. */
const abortPromises = new WeakMap<AbortSignal, Promise<void>>();

/** Resolves once `signal` aborts (at once when it has); never rejects. */
export function aborted(signal: AbortSignal): Promise<void> {
  let promise = abortPromises.get(signal);
  if (promise === undefined) {
    promise = signal.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => resolve(), { once: true })
      );
    abortPromises.set(signal, promise);
  }
  return promise;
}

/**
 * Settles as `promise` does, or rejects with `signal.reason` as soon as `signal` aborts. The
 * operation itself goes on (it could not be stopped); its outcome is then ignored.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {}); // settled later, and nobody waits for it any more
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The reason of a deadline's abort: `timed out after <n> seconds`. */
export class DeadlineError extends Error {
  /** The deadline that passed, in milliseconds. */
  readonly ms: number;
  constructor(ms: number) {
    super(`timed out after ${ms / 1000} seconds`);
    this.name = "DeadlineError";
    this.ms = ms;
  }
}

/** A signal that aborts when a deadline passes or a parent signal aborts. */
export interface Deadline {
  /** Aborted with a {@linkcode DeadlineError} at the deadline, or with the parent's reason. */
  readonly signal: AbortSignal;
  /** Clears the timer and the listener on the parent; call once the operation is over. */
  dispose(): void;
}

/** Checks a deadline's length: timers past {@linkcode MAX_TIMER_MS} would fire at once. */
function checkMs(ms: number): void {
  if (!(ms >= 0 && ms <= MAX_TIMER_MS)) {
    throw new RangeError(`deadline ms must be between 0 and ${MAX_TIMER_MS}, got ${ms}`);
  }
}

/** Starts a deadline of `ms` milliseconds, cut short by `parent`. */
export function deadline(ms: number, parent?: AbortSignal): Deadline {
  checkMs(ms);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineError(ms)), ms);
  const onParent = () => controller.abort(parent!.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener("abort", onParent, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}

/** Options of {@linkcode withDeadline}. */
export interface WithDeadlineOptions {
  /** The most the operation may take, in milliseconds. */
  readonly ms: number;
  /** Stops the operation early (the agent's stop). */
  readonly signal?: AbortSignal;
}

/**
 * Runs `operation` with a signal that aborts at the deadline or when `options.signal` does, and
 * settles no later than that: it rejects with a {@linkcode DeadlineError} or the stop's reason even
 * when the operation ignores its signal.
 */
export async function withDeadline<T>(
  operation: (signal: AbortSignal) => Promise<T>,
  options: WithDeadlineOptions,
): Promise<T> {
  const limit = deadline(options.ms, options.signal);
  try {
    return await raceAbort(operation(limit.signal), limit.signal);
  } finally {
    limit.dispose();
  }
}

/**
 * A signal that aborts `ms` milliseconds after `signal` does: the moment a stop stops waiting for
 * work that does not end on its own. Its timer starts only once `signal` aborts.
 */
export function afterAbort(signal: AbortSignal, ms: number): AbortSignal {
  checkMs(ms);
  const controller = new AbortController();
  const start = () => setTimeout(() => controller.abort(signal.reason), ms);
  if (signal.aborted) start();
  else signal.addEventListener("abort", start, { once: true });
  return controller.signal;
}

/** A graceful stop, then a forced one. */
export interface Stopping {
  /** Aborted by the first request: finish what is started, hand over, drain. */
  readonly stop: AbortSignal;
  /** Aborted by a second request, or when the grace has passed since the first: end now. */
  readonly force: AbortSignal;
  /** Asks for the graceful stop and starts the grace; false when it was asked for already. */
  requestStop(): boolean;
  /** Forces the stop at once. */
  forceStop(): void;
  /** Ends the grace timer (the agent stopped in time). */
  dispose(): void;
}

/** Options of {@linkcode createStopping}. */
export interface StoppingOptions {
  /** How long a graceful stop may take before it is forced. */
  readonly graceMs: number;
  /** Real time by default; tests bring a virtual clock. */
  readonly clock?: Clock;
  /** Told when the grace has passed and the stop is forced. */
  readonly onGraceOver?: () => void;
}

/** The stop of a daemon: every loop watches `stop` and `force`; one timer links the two. */
export function createStopping(options: StoppingOptions): Stopping {
  if (!(options.graceMs >= 0)) throw new RangeError(`graceMs must be >= 0, got ${options.graceMs}`);
  const clock = options.clock ?? realClock;
  const stop = new AbortController();
  const force = new AbortController();
  const disposed = new AbortController();
  const forceStop = () => force.abort(new Error("the agent is forced to stop"));
  return {
    stop: stop.signal,
    force: force.signal,
    requestStop() {
      if (stop.signal.aborted) return false;
      stop.abort(new Error("the agent is stopping"));
      const grace = AbortSignal.any([force.signal, disposed.signal]);
      clock.sleep(options.graceMs, grace).then(() => {
        if (grace.aborted) return;
        options.onGraceOver?.();
        forceStop();
      });
      return true;
    },
    forceStop,
    dispose: () => disposed.abort(),
  };
}
