/**
 * A fixed-count, fixed-delay retry, interruptible by a signal (upstream's Songmu/retry).
 *
 * @module
 */
import type { Clock } from "./clock.ts";

/** Options of {@linkcode retry}. */
export interface RetryOptions {
  /** At most this many attempts. */
  readonly attempts: number;
  /** Wait between attempts. */
  readonly delayMs: number;
  readonly clock: Clock;
  /** Whether an error is worth another attempt; all are by default. */
  readonly retryable?: (error: unknown) => boolean;
  /** Called before each wait with the error that caused it. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
  /** Stops retrying; the last error is thrown. */
  readonly signal?: AbortSignal;
}

/** Calls `fn` until it succeeds, the attempts run out, or the error is not retryable. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const last = attempt >= options.attempts || options.signal?.aborted ||
        !(options.retryable?.(error) ?? true);
      if (last) throw error;
      options.onRetry?.(error, attempt);
      await options.clock.sleep(options.delayMs, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}

/** Options of {@linkcode tryWithImmediateRetry}. */
export interface ImmediateRetryOptions {
  readonly clock: Clock;
  /** A failure that ended sooner than this after the try began is retried at once (25 s upstream). */
  readonly windowMs: number;
  readonly isNetworkError: (error: unknown) => boolean;
  /** Whether a retry is still wanted (not when the agent is being forced to stop). */
  readonly allowed?: () => boolean;
  /** Called with the error before the immediate retry. */
  readonly onRetry?: (error: unknown) => void;
}

/** How {@linkcode tryWithImmediateRetry} ended: the last error (none on success), and whether it retried. */
export interface ImmediateRetryResult {
  readonly failure?: { readonly error: unknown };
  readonly retried: boolean;
}

/**
 * One try, plus one immediate retry when it failed quickly with a network error: upstream's rule
 * for metric posts and check reports, since a reset connection usually works again at once.
 */
export async function tryWithImmediateRetry(
  fn: () => Promise<void>,
  options: ImmediateRetryOptions,
): Promise<ImmediateRetryResult> {
  const attempt = async () => {
    try {
      await fn();
      return undefined;
    } catch (error) {
      return { error };
    }
  };
  const startedAt = options.clock.now();
  const failure = await attempt();
  if (
    failure === undefined || !(options.allowed?.() ?? true) ||
    !options.isNetworkError(failure.error) ||
    options.clock.now() - startedAt >= options.windowMs
  ) {
    return { failure, retried: false };
  }
  options.onRetry?.(failure.error);
  return { failure: await attempt(), retried: true };
}
