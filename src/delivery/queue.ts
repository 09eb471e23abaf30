/**
 * The post queue as a pure state machine: which batches the next POST carries and how long to wait
 * before it (reference §6.4). No I/O and no timers; the driver (`poster.ts`) sleeps, posts and logs.
 *
 * Deliberate difference from upstream: a full queue drops its oldest batches (and says how many
 * points) instead of blocking the producer, which upstream lets stall collection.
 *
 * @module
 */
import type { MetricPoint } from "../mackerel/types.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import { type PostTimings, postTimings } from "./delay.ts";

/** The loop states of upstream's post loop; `first` at start. */
export type PostState = "first" | "default" | "queued" | "hadError" | "terminating";

/** One round's points, with the number of failed posts it has been through. */
export interface Batch {
  readonly points: readonly MetricPoint[];
  readonly requeues: number;
}

/** Batches held at most: 360 one-minute rounds, about six hours of outage. */
export const DEFAULT_CAPACITY = 360;
/** Failed posts a batch survives; the next failure abandons it. */
export const DEFAULT_MAX_REQUEUES = 60;
/** Batches merged into one POST at most. */
export const MAX_BATCHES_PER_POST = 2;

/** What a full queue threw away to make room. */
export interface Dropped {
  readonly batches: number;
  readonly points: number;
}

/** The next POST: its batches, their points in order, and the wait before sending. */
export interface Dequeued {
  readonly batches: readonly Batch[];
  readonly points: readonly MetricPoint[];
  readonly delayMs: number;
}

/** The result of a failed POST: batches given up on (with their failure count), and room made for the requeued ones. */
export interface FailureOutcome {
  readonly abandoned: readonly Batch[];
  readonly dropped: Dropped;
}

/** The result of a successful POST. */
export interface SuccessOutcome {
  /** The stop was requested and nothing is left: the loop ends. */
  readonly done: boolean;
  /** The previous POST had failed. */
  readonly recovered: boolean;
}

/** Options of {@linkcode createPostQueue}. */
export interface PostQueueOptions {
  /** Seconds past the minute this host posts at (see `postDelaySeconds` in `delay.ts`). */
  readonly postDelaySeconds: number;
  /** The agent's minute in ms; 60 000 unless `-interval` shrinks it. */
  readonly minuteMs?: number;
  /** Batches held at most before the oldest are dropped; 360. */
  readonly capacity?: number;
  /** Failed posts a batch survives; 60. */
  readonly maxRequeues?: number;
}

/** The state machine of the post loop. */
export interface PostQueue {
  /** The delays in force, derived from the minute. */
  readonly timings: PostTimings;
  /** Seconds past the minute this host posts at. */
  readonly postDelaySeconds: number;
  /** Batches held at most. */
  readonly capacity: number;
  /** Current loop state. */
  readonly state: PostState;
  /** Batches waiting (not counting those of a POST in flight). */
  readonly size: number;
  /** Points waiting, over all batches. */
  readonly pointCount: number;
  /** Appends a batch; when full, drops the oldest batches first and reports them. */
  enqueue(points: readonly MetricPoint[]): Dropped;
  /** Takes the next POST (≤ 2 batches) and its delay, then picks the next state; none when empty. */
  next(nowMs: number): Dequeued | undefined;
  /** Records a successful POST. */
  onSuccess(): SuccessOutcome;
  /** Records a failed POST: counts a failure on each batch and requeues it at the tail, or abandons it. */
  onFailure(batches: readonly Batch[]): FailureOutcome;
  /** Switches to `terminating`; returns false when it already was (a second stop request). */
  terminate(): boolean;
}

const NOTHING_DROPPED: Dropped = Object.freeze({ batches: 0, points: 0 });

/** Creates an empty post queue in state `first`. */
export function createPostQueue(options: PostQueueOptions): PostQueue {
  const timings = postTimings(options.minuteMs);
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  const maxRequeues = options.maxRequeues ?? DEFAULT_MAX_REQUEUES;
  const { postDelaySeconds } = options;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`post queue capacity must be a positive integer, got ${capacity}`);
  }
  if (!Number.isInteger(postDelaySeconds) || postDelaySeconds < 0 || postDelaySeconds >= 60) {
    throw new RangeError(
      `post delay must be an integer in [0, 60) seconds, got ${postDelaySeconds}`,
    );
  }
  const postDelayMs = agentSecondsToMs(postDelaySeconds, timings.minuteMs);

  const batches: Batch[] = [];
  let points = 0;
  let state: PostState = "first";
  let lastFailed = false;

  const push = (batch: Batch): Dropped => {
    batches.push(batch);
    points += batch.points.length;
    if (batches.length <= capacity) return NOTHING_DROPPED;
    const removed = batches.splice(0, batches.length - capacity);
    const removedPoints = removed.reduce((n, b) => n + b.points.length, 0);
    points -= removedPoints;
    return { batches: removed.length, points: removedPoints };
  };

  const delayFor = (current: PostState, nowMs: number): number => {
    switch (current) {
      case "first":
        return 0; // upstream posts at once so that the host's graphs appear
      case "queued":
        return timings.queuedDelayMs;
      case "hadError":
        return timings.errorDelayMs;
      case "terminating":
        return timings.terminatingDelayMs;
      case "default": {
        const intoMinute = ((nowMs % timings.minuteMs) + timings.minuteMs) % timings.minuteMs;
        return Math.max(0, postDelayMs - intoMinute);
      }
    }
  };

  return {
    timings,
    postDelaySeconds,
    capacity,
    get state() {
      return state;
    },
    get size() {
      return batches.length;
    },
    get pointCount() {
      return points;
    },
    enqueue: (batchPoints) => push({ points: batchPoints, requeues: 0 }),
    next(nowMs) {
      const taken = batches.splice(0, MAX_BATCHES_PER_POST);
      if (taken.length === 0) return undefined;
      const flat = taken.flatMap((b) => b.points);
      points -= flat.length;
      const delayMs = delayFor(state, nowMs);
      // Chosen before sleeping, as upstream does: a backlog keeps the short queued delay.
      if (state !== "terminating") state = batches.length > 0 ? "queued" : "default";
      return { batches: taken, points: flat, delayMs };
    },
    onSuccess() {
      const recovered = lastFailed;
      lastFailed = false;
      return { done: state === "terminating" && batches.length === 0, recovered };
    },
    onFailure(failed) {
      lastFailed = true;
      if (state !== "terminating") state = "hadError";
      const abandoned: Batch[] = [];
      let droppedBatches = 0;
      let droppedPoints = 0;
      for (const batch of failed) {
        const requeues = batch.requeues + 1;
        if (requeues > maxRequeues) {
          abandoned.push({ points: batch.points, requeues });
          continue;
        }
        const dropped = push({ points: batch.points, requeues });
        droppedBatches += dropped.batches;
        droppedPoints += dropped.points;
      }
      return { abandoned, dropped: { batches: droppedBatches, points: droppedPoints } };
    },
    terminate() {
      if (state === "terminating") return false;
      state = "terminating";
      return true;
    },
  };
}
