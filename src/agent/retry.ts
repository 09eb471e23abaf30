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
