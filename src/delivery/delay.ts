/**
 * The post loop's timing: the per-host post second (docs/upstream.md, "Per-host post delay") and
 * every delay of the post state machine ("Post loop", "Signals"), each defined as a fraction of the
 * agent's minute so that `-interval 1` runs the same schedule sixty times faster
 * (docs/architecture.md, "Principles").
 *
 * @module
 */
import { agentSecondsToMs, DEFAULT_MINUTE_MS } from "../async/minute.ts";

/**
 * Seconds past the minute at which this host posts: the last byte of SHA-1(hostId) mod 60, so that a
 * fleet does not hit the API at second 00 (`246PUVUngPo` -> 40, `21GZjCE5Etb` -> 15).
 */
export async function postDelaySeconds(hostId: string): Promise<number> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(hostId)),
  );
  return digest[digest.length - 1] % 60;
}

/** Seconds waited before the first post after start: half the post delay, rounded down. */
export function initialDelaySeconds(postDelay: number): number {
  return Math.floor(postDelay / 2);
}

/** Every delay of the post loop, in real milliseconds, for one length of the minute. */
export interface PostTimings {
  /** The agent's minute (60 000 upstream, 1 000 with `-interval 1`). */
  readonly minuteMs: number;
  /** One agent second: a sixtieth of the minute; the unit of the post delay. */
  readonly secondMs: number;
  /** Delay before posting while batches wait in the queue (30 s upstream). */
  readonly queuedDelayMs: number;
  /** Delay before posting after a failed post (60 s upstream). */
  readonly errorDelayMs: number;
  /** Delay between posts while draining at shutdown (1 s upstream). */
  readonly terminatingDelayMs: number;
  /** How long a graceful stop may last before the loop gives up (30 s upstream). */
  readonly maxTerminatingMs: number;
  /** A network error ending sooner than this after the try began is retried at once (25 s upstream). */
  readonly immediateRetryWindowMs: number;
}

/** Derives every post-loop delay from the length of the minute. */
export function postTimings(minuteMs: number = DEFAULT_MINUTE_MS): PostTimings {
  if (!(minuteMs > 0) || !Number.isFinite(minuteMs)) {
    throw new RangeError(`the minute must be a positive number of milliseconds, got ${minuteMs}`);
  }
  const s = (seconds: number) => agentSecondsToMs(seconds, minuteMs);
  return Object.freeze({
    minuteMs,
    secondMs: s(1),
    queuedDelayMs: s(30),
    errorDelayMs: s(60),
    terminatingDelayMs: s(1),
    maxTerminatingMs: s(30),
    immediateRetryWindowMs: s(25),
  });
}
