/**
 * The metric post loop: drives the post queue's state machine (docs/upstream.md,
 * "Per-host post delay" to "Signals") over rounds kept in the spool. It owns sleeping, the
 * immediate network retry, logging and graceful termination; what a failure means is the policy's
 * (./policy.ts), the HTTP is the client's.
 *
 * A round leaves the spool only once the API has taken it. A transient failure requeues it at the
 * tail (as upstream); a refused payload (400) is split to find the refused points, the rest is
 * delivered; any other refusal drops the round with an ERROR. At a stop the queue drains one
 * second apart as upstream's does; when a post fails while draining and everything left is on
 * disk, the loop ends at once and the spool keeps it for the next start.
 *
 * @module
 */
import { type Clock, realClock } from "../async/clock.ts";
import { tryWithImmediateRetry } from "../async/retry.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import { errorMessage, logger } from "../log.ts";
import { encodeMetricPoints } from "../mackerel/json.ts";
import type { MetricPoint } from "../mackerel/types.ts";
import { isNetworkError } from "../mackerel/errors.ts";
import { initialDelaySeconds } from "./delay.ts";
import { type DeliveryEvents, NO_EVENTS } from "./events.ts";
import { classifyFailure } from "./policy.ts";
import type { PostQueue } from "./queue.ts";
import { deliverSplitting, halves } from "./split.ts";
import type { Spool, SpoolEntry } from "./spool.ts";

const log = logger("command");

/** How the loop ended: all posted; stopped with the rest on disk; or cut short (upstream exits 1). */
export type PosterResult = "drained" | "kept" | "forced";

/** Sends one `POST /api/v0/tsdb` body; rejects on any failure. Must honour `signal`. */
export type PostJson = (json: string, signal: AbortSignal) => Promise<void>;

/** Options of {@linkcode createPoster}. */
export interface PosterOptions {
  /** The state machine; its minute and post delay set every wait. */
  readonly queue: PostQueue<SpoolEntry>;
  /** Where the rounds are kept until the API has them. */
  readonly spool: Spool;
  readonly post: PostJson;
  /** Stop request: drain the queue, then end. */
  readonly signal: AbortSignal;
  /** Second stop request: end at once. */
  readonly force?: AbortSignal;
  /** Real time unless a test brings a virtual clock. */
  readonly clock?: Clock;
  /** Requests one refused payload may cost while searching for the refused points; 32. */
  readonly splitBudget?: number;
  /** Told every outcome (the status file). */
  readonly events?: DeliveryEvents;
}

/** A post loop and the entry point rounds are handed to once they are in the spool. */
export interface Poster {
  /** The queue being driven. */
  readonly queue: PostQueue<SpoolEntry>;
  /** Queues a round already in the spool; wakes the loop. */
  enqueue(entry: SpoolEntry): void;
  /** Runs the loop until drained after a stop request, or forced; call once. */
  run(): Promise<PosterResult>;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const DEFAULT_SPLIT_BUDGET = 32;

/** Settles with `promise`, or rejects as soon as `signal` aborts (for a POST that ignores it). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Joins JSON arrays (`[a,b]`, `[c]` -> `[a,b,c]`) without parsing them. */
function joinArrays(arrays: readonly string[]): string {
  const inner = arrays.map((a) => a.slice(1, -1)).filter((a) => a !== "");
  return `[${inner.join(",")}]`;
}

/** A few names of refused points, for the log line. */
function someNames(points: readonly MetricPoint[]): string {
  const names = [...new Set(points.map((p) => p.name))];
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n)).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** Creates the post loop for `options.queue`. */
export function createPoster(options: PosterOptions): Poster {
  const { queue, spool, post, signal, force } = options;
  const clock = options.clock ?? realClock;
  const { timings } = queue;
  const splitBudget = options.splitBudget ?? DEFAULT_SPLIT_BUDGET;
  const events = options.events ?? NO_EVENTS;
  /** Whole seconds of the agent's minute, as upstream's log lines print them. */
  const seconds = (ms: number) => Math.round(ms / timings.secondMs);
  let wake: (() => void) | undefined;
  let started = false;
  let finished = false;

  const enqueue = (entry: SpoolEntry): void => {
    if (finished) {
      // A round that finished after the loop ended: the spool has it, or nothing will post it.
      if (spool.isDurable(entry.id)) {
        log.info(`${entry.count} points of a late round are kept in the spool for the next start`);
      } else {
        log.warn(`The post loop has ended: ${entry.count} points of a late round not posted`);
      }
      return;
    }
    queue.enqueue(entry);
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

  /** One try plus, for a quick network error, one immediate retry. */
  const postWithRetry = (json: string, forced: AbortSignal) =>
    tryWithImmediateRetry(() => untilAborted(post(json, forced), forced), {
      clock,
      windowMs: timings.immediateRetryWindowMs,
      isNetworkError,
      allowed: () => !forced.aborted,
      onRetry: (error) =>
        log.warn(`Failed to post metrics value (will retry immediately): ${errorMessage(error)}`),
    });

  /** Rounds not posted yet: in flight, then waiting. */
  const leftover = (inFlight: readonly SpoolEntry[]) => {
    const byId = new Map([...inFlight, ...queue.waiting()].map((e) => [e.id, e]));
    return [...byId.values()].filter((e) => spool.has(e.id));
  };

  /** Whether every round still to post survives a restart. */
  const allOnDisk = (inFlight: readonly SpoolEntry[]) =>
    leftover(inFlight).every((e) => spool.isDurable(e.id));

  /** Says what an end leaves over: kept on disk for the next start, or lost with memory. */
  const reportLeftovers = (inFlight: readonly SpoolEntry[], result: PosterResult): PosterResult => {
    const left = leftover(inFlight);
    if (left.length === 0) return result;
    const points = left.reduce((n, e) => n + e.count, 0);
    const lost = left.filter((e) => !spool.isDurable(e.id)).reduce((n, e) => n + e.count, 0);
    if (lost === 0) {
      log.info(
        `${points} points of ${left.length} rounds are kept in the spool for the next start`,
      );
    } else {
      log.warn(`Terminating before posting everything: ${lost} points not posted`);
    }
    return result;
  };

  /** Posts the parts of a refused payload alone; delivers what the API takes. */
  const split = async (
    entries: readonly SpoolEntry[],
    points: readonly MetricPoint[],
    forced: AbortSignal,
  ) => {
    const result = await deliverSplitting(halves(points), {
      send: (part) => untilAborted(post(encodeMetricPoints(part), forced), forced),
      classify: (error) => classifyFailure(error, timings.minuteMs),
      budget: splitBudget,
      signal: forced,
    });
    if (result.delivered.length > 0) events.delivered("metrics", result.delivered.length);
    if (result.refused.length > 0) {
      events.refused("metrics", result.refused.length, result.refusal);
      log.error(
        `The API refused ${result.refused.length} points (${someNames(result.refused)}), ` +
          `dropped; the other ${result.delivered.length} points were delivered: ${
            errorMessage(result.refusal)
          }`,
      );
    }
    let rest: SpoolEntry | undefined;
    if (result.pending.length > 0) {
      // The remainder becomes a round of its own (collected when the oldest part was), then the
      // originals go: a crash in between posts some points twice, never loses them.
      rest = await spool.put({
        kind: "metrics",
        body: encoder.encode(encodeMetricPoints(result.pending)),
        count: result.pending.length,
        at: Math.min(...entries.map((e) => e.at)),
      });
    }
    await spool.ack(entries.map((e) => e.id));
    if (result.transient) events.failed("metrics", result.transient.error);
    return { rest, transient: result.transient };
  };

  /** Posts one dequeued set of rounds and records the outcome; true when the loop should end. */
  const postRounds = async (
    taken: readonly SpoolEntry[],
    forced: AbortSignal,
  ): Promise<PosterResult | undefined> => {
    const bodies: string[] = [];
    const entries: SpoolEntry[] = [];
    for (const entry of taken) {
      const body = await spool.read(entry);
      if (body !== undefined) {
        bodies.push(decoder.decode(body));
        entries.push(entry);
      } else if (spool.has(entry.id)) {
        queue.enqueue(entry); // could not be read just now: later, at the tail
      } // else dropped by the spool's bounds meanwhile
    }
    if (entries.length === 0) return undefined;
    const json = joinArrays(bodies);
    const { failure, retried } = await postWithRetry(json, forced);
    if (!failure) {
      log.debug("Posting metrics succeeded.");
      events.delivered("metrics", entries.reduce((n, e) => n + e.count, 0));
      await spool.ack(entries.map((e) => e.id));
      const outcome = queue.onSuccess();
      if (outcome.recovered || retried) log.debug("Posting metrics recovered.");
      return outcome.done ? "drained" : undefined;
    }
    if (forced.aborted) return reportLeftovers(entries, "forced");
    const verdict = classifyFailure(failure.error, timings.minuteMs);
    if (verdict.kind === "transient") {
      log.warn(`Failed to post metrics value (will retry): ${errorMessage(failure.error)}`);
      events.failed("metrics", failure.error);
      const hold = verdict.retryAfterMs === undefined ? 0 : clock.now() + verdict.retryAfterMs;
      queue.onFailure(entries, hold);
      // Requeued above: what is left is all in the queue.
      if (queue.state === "terminating" && allOnDisk([])) return reportLeftovers([], "kept");
      return undefined;
    }
    const points = bodies.flatMap((b) => JSON.parse(b) as MetricPoint[]);
    if (verdict.splittable && points.length > 1) {
      const { rest, transient } = await split(entries, points, forced);
      if (rest === undefined) {
        const outcome = queue.onSuccess();
        return outcome.done ? "drained" : undefined;
      }
      const hold = transient?.failure.kind === "transient" && transient.failure.retryAfterMs
        ? clock.now() + transient.failure.retryAfterMs
        : 0;
      queue.onFailure([rest], hold);
      if (forced.aborted) return reportLeftovers([], "forced");
      if (queue.state === "terminating" && allOnDisk([])) return reportLeftovers([], "kept");
      return undefined;
    }
    log.error(
      `The API refused ${points.length} points, dropped: ${errorMessage(failure.error)}`,
    );
    events.refused("metrics", points.length, failure.error);
    await spool.ack(entries.map((e) => e.id));
    queue.onFailure([]);
    return queue.state === "terminating" && queue.size === 0 ? "drained" : undefined;
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
      if (forced.aborted) return reportLeftovers([], "forced");
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
      if (forced.aborted) return reportLeftovers(next.batches, "forced");
      if (signal.aborted) queue.terminate(); // a stop while sleeping posts at once
      const ended = await postRounds(next.batches, forced);
      if (ended) return ended;
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
