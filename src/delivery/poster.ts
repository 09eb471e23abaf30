/**
 * The post loop: drives the post queue's state machine with a clock, an injected POST function and
 * stop signals (reference §6.3–§6.6). It owns sleeping, the immediate network retry, logging and
 * graceful termination; the HTTP client is somebody else's.
 *
 * @module
 */
import type { MetricPoint } from "../mackerel/types.ts";
import { logger } from "../log.ts";
import { type Clock, realClock } from "../async/clock.ts";
import { tryWithImmediateRetry } from "../async/retry.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import { initialDelaySeconds } from "./delay.ts";
import type { Batch, Dropped, PostQueue } from "./queue.ts";

const log = logger("command");

/** How the loop ended: everything posted (or nothing to post), or cut short (upstream exits 1). */
export type PosterResult = "drained" | "forced";

/** Sends one POST of metric points; rejects on any failure. Must honour `signal` to stop early. */
export type PostFunction = (points: readonly MetricPoint[], signal: AbortSignal) => Promise<void>;

/** Options of {@linkcode createPoster}. */
export interface PosterOptions {
  /** The state machine; its minute and post delay set every wait. */
  readonly queue: PostQueue;
  /** Sends points to the API (or elsewhere). */
  readonly post: PostFunction;
  /** True for transport errors, which earn one immediate retry. */
  readonly isNetworkError: (error: unknown) => boolean;
  /** Stop request: drain the queue, then end. */
  readonly signal: AbortSignal;
  /** Second stop request: end at once. */
  readonly force?: AbortSignal;
  /** Real time unless a test brings a virtual clock. */
  readonly clock?: Clock;
}

/** A post loop and the entry point its producers push batches through. */
export interface Poster {
  /** The queue being driven. */
  readonly queue: PostQueue;
  /** Queues one round's points (empty rounds are skipped); wakes the loop. */
  enqueue(points: readonly MetricPoint[]): void;
  /** Runs the loop until drained after a stop request, or forced; call once. */
  run(): Promise<PosterResult>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function logDropped(queue: PostQueue, dropped: Dropped): void {
  if (dropped.batches === 0) return;
  log.warn(
    `Post queue is full (${queue.capacity} batches): dropped the oldest ${dropped.batches} ` +
      `batches, ${dropped.points} points`,
  );
}

function logAbandoned(batches: readonly Batch[]): void {
  for (const batch of batches) {
    // Upstream prints the batch JSON; the count makes the loss readable without counting it.
    log.error(
      "Post values may be invalid and abandoned: {json} ({count} points, {tries} failures)",
      {
        json: JSON.stringify(batch.points),
        count: batch.points.length,
        tries: batch.requeues,
      },
    );
  }
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (for a POST that ignores it). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Creates the post loop for `options.queue`. */
export function createPoster(options: PosterOptions): Poster {
  const { queue, post, isNetworkError, signal, force } = options;
  const clock = options.clock ?? realClock;
  const { timings } = queue;
  /** Whole seconds of the agent's minute, as upstream's log lines print them. */
  const seconds = (ms: number) => Math.round(ms / timings.secondMs);
  let wake: (() => void) | undefined;
  let started = false;
  let finished = false;

  const enqueue = (points: readonly MetricPoint[]): void => {
    if (points.length === 0) return;
    if (finished) {
      // A round that finished after a forced stop: nothing will post it any more.
      log.warn(`The post loop has ended: ${points.length} points of a late round not posted`);
      return;
    }
    logDropped(queue, queue.enqueue(points));
    wake?.();
  };

  const waitForWork = (interrupt: AbortSignal): Promise<void> => {
    if (queue.size > 0 || interrupt.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        interrupt.removeEventListener("abort", done);
        wake = undefined;
        resolve();
      };
      wake = done;
      interrupt.addEventListener("abort", done, { once: true });
    });
  };

  /** One try plus, for a quick network error, one immediate retry; true when delivered. */
  const postWithRetry = async (points: readonly MetricPoint[], forced: AbortSignal) => {
    const { failure, retried } = await tryWithImmediateRetry(
      () => untilAborted(post(points, forced), forced),
      {
        clock,
        windowMs: timings.immediateRetryWindowMs,
        isNetworkError,
        allowed: () => !forced.aborted,
        onRetry: (error) =>
          log.warn(`Failed to post metrics value (will retry immediately): ${describe(error)}`),
      },
    );
    if (!failure) {
      log.debug("Posting metrics succeeded.");
      return { delivered: true, retried };
    }
    if (!forced.aborted) {
      log.warn(`Failed to post metrics value (will retry): ${describe(failure.error)}`);
    }
    return { delivered: false, retried };
  };

  const forcedExit = (inFlight: readonly MetricPoint[]): PosterResult => {
    const lost = queue.pointCount + inFlight.length;
    if (lost > 0) log.warn(`Terminating before posting everything: ${lost} points not posted`);
    return "forced";
  };

  const loop = async (interrupt: AbortSignal, forced: AbortSignal): Promise<PosterResult> => {
    const initial = agentSecondsToMs(
      initialDelaySeconds(queue.postDelaySeconds),
      timings.minuteMs,
    );
    log.debug(`wait ${seconds(initial)} seconds before initial posting.`);
    // A stop here drains what is queued; upstream returns at once and loses it.
    await clock.sleep(initial, interrupt);

    while (true) {
      if (forced.aborted) return forcedExit([]);
      if (signal.aborted) queue.terminate();
      if (queue.state === "terminating" && queue.size === 0) return "drained";
      if (queue.size === 0) {
        await waitForWork(interrupt);
        continue;
      }
      const next = queue.next(clock.now())!;
      if (next.batches.length > 1) log.debug("Merging datapoints with next queued ones");
      log.debug(`Sleep ${seconds(next.delayMs)} seconds before posting.`);
      // Once terminating the stop signal has fired already; only a forced end may cut the wait.
      await clock.sleep(next.delayMs, queue.state === "terminating" ? forced : interrupt);
      if (forced.aborted) return forcedExit(next.points);
      if (signal.aborted) queue.terminate(); // a stop while sleeping posts at once

      const { delivered, retried } = await postWithRetry(next.points, forced);
      if (forced.aborted && !delivered) return forcedExit(next.points);
      if (delivered) {
        const outcome = queue.onSuccess();
        if (outcome.recovered || retried) log.debug("Posting metrics recovered.");
        if (outcome.done) return "drained";
      } else {
        const outcome = queue.onFailure(next.batches);
        logAbandoned(outcome.abandoned);
        logDropped(queue, outcome.dropped);
      }
    }
  };

  const run = async (): Promise<PosterResult> => {
    if (started) throw new Error("the poster is already running");
    started = true;
    // interrupt = stop or forced; forced = second stop request or the graceful-stop limit passed.
    const interrupt = new AbortController();
    const forced = new AbortController();
    const ended = new AbortController();
    const onForce = () => {
      forced.abort(new Error("forced to stop"));
      interrupt.abort();
    };
    const onStop = () => {
      interrupt.abort();
      clock.sleep(timings.maxTerminatingMs, ended.signal).then(() => {
        if (!ended.signal.aborted) onForce();
      });
    };
    if (signal.aborted) onStop();
    else signal.addEventListener("abort", onStop, { once: true });
    if (force?.aborted) onForce();
    else force?.addEventListener("abort", onForce, { once: true });
    try {
      return await loop(interrupt.signal, forced.signal);
    } finally {
      finished = true;
      ended.abort();
      signal.removeEventListener("abort", onStop);
      force?.removeEventListener("abort", onForce);
    }
  };

  return { queue, enqueue, run };
}
