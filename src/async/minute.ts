/**
 * The agent's minute: every schedule of the agent (collection, posting, checks, metadata) is a
 * fraction or a multiple of it, so that `-interval 1` runs the same shape sixty times faster
 * (docs/architecture.md, "Principles").
 *
 * @module
 */

/** Upstream's minute in milliseconds, the default of every timing. */
export const DEFAULT_MINUTE_MS = 60_000;

/**
 * Converts agent seconds (sixtieths of the minute) to real milliseconds; multiplies before dividing
 * so that whole results stay exact (30 s of a 1 000 ms minute is 500, not 500.00000000000006).
 */
export function agentSecondsToMs(seconds: number, minuteMs: number): number {
  return seconds * minuteMs / 60;
}

/**
 * The first of `due`, `due + periodMs`, `due + 2 × periodMs`... that is not before `now`: where a
 * loop that skipped idle ticks takes its rhythm up again.
 */
export function nextTick(due: number, now: number, periodMs: number): number {
  if (!(periodMs > 0)) throw new RangeError(`periodMs must be positive: ${periodMs}`);
  return due >= now ? due : due + Math.ceil((now - due) / periodMs) * periodMs;
}
