/**
 * The window a rate covers: the previous round's sample and this round's (docs/architecture.md,
 * "Principles").
 *
 * Upstream samples, sleeps the interval, samples again, and stamps the result with the round's
 * start. We keep the previous round's sample instead of sleeping, so the same window ends at this
 * round: its value is stamped with the previous round's time, and divided by the nominal length,
 * the difference of the two scheduled round times (60 s in the daemon, 1 s in `once`), never by a
 * measured wall-clock gap.
 *
 * @module
 */

/** Two samples of one rate collector and the window between their rounds. */
export interface Window<T> {
  readonly previous: T;
  readonly current: T;
  /** Nominal length of the window in seconds (> 0). */
  readonly seconds: number;
  /** Epoch seconds of the window's start, the previous round: the values' timestamp. */
  readonly time: number;
}

/** Keeps the previous round's sample; see {@linkcode createWindows}. */
export interface Windows<T> {
  /**
   * Records `sample` as the round at `timeMs` and returns the window since the previous round, or
   * `undefined` on the first sample. A round not later than the kept one (a repeat, or a slow
   * round finishing after its successor) is ignored and keeps the newer baseline.
   */
  advance(timeMs: number, sample: T): Window<T> | undefined;
}

/** Creates the sample keeper of one rate collector. */
export function createWindows<T>(): Windows<T> {
  let kept: { readonly timeMs: number; readonly sample: T } | undefined;
  return {
    advance(timeMs, sample) {
      const before = kept;
      if (before !== undefined && !(timeMs > before.timeMs)) return undefined;
      kept = { timeMs, sample };
      if (before === undefined) return undefined;
      return {
        previous: before.sample,
        current: sample,
        seconds: (timeMs - before.timeMs) / 1000,
        time: Math.floor(before.timeMs / 1000),
      };
    },
  };
}
