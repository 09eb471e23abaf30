/**
 * The agent's deadline: a signal that aborts with a `TimeoutError` after a delay, and that can be
 * called off once the work it guards is done.
 *
 * `AbortSignal.timeout` cannot be called off: its timer runs to its end and aborts the signal even
 * when nobody waits any more. At the real pace every such timer is one more wake-up of an
 * otherwise idle process, and a wake-up after seconds of idleness costs the runtime a few hundred
 * microseconds of CPU (README, "Cost on the host"); a round and a post each guarded by a 30 s
 * timeout woke the agent twice more a minute.
 *
 * @module
 */

/** A deadline running; {@linkcode Deadline.clear} calls it off. */
export interface Deadline {
  /** Aborts with a `TimeoutError` `DOMException` when the time is up. */
  readonly signal: AbortSignal;
  /** Calls the deadline off: the signal never aborts. Idempotent. */
  clear(): void;
}

/** Starts a deadline of `ms` milliseconds (at most 2^31-1, the longest a timer takes). */
export function startDeadline(ms: number): Deadline {
  if (!(ms >= 0 && ms <= 2 ** 31 - 1)) {
    throw new RangeError(`deadline ms must be in [0, 2^31-1]: ${ms}`);
  }
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError"));
  }, ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
