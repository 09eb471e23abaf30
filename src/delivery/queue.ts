/**
 * The post queue as a pure state machine: which rounds the next POST carries and how long to wait
 * before it (docs/upstream.md, "Post loop"). No I/O and no timers; the driver (`poster.ts`) sleeps,
 * posts and logs.
 *
 * The queue holds references to rounds kept in the spool (their id and point count), not the
 * points: the spool bounds what is kept (by bytes and age) and drops the oldest first, so the
 * queue itself has no capacity and no requeue limit (upstream drops a batch after 60 failures; a
 * durable spool keeps it until its age bound).
 *
 * @module
 */
import { agentSecondsToMs } from "../async/minute.ts";
import { type PostTimings, postTimings } from "./delay.ts";

/** The loop states of upstream's post loop; `first` at start. */
export type PostState = "first" | "default" | "queued" | "hadError" | "terminating";

/** One round waiting to be posted: its spool record and the points in it. */
export interface QueuedRound {
  readonly id: number;
  readonly count: number;
}

/** Rounds merged into one POST at most. */
export const MAX_BATCHES_PER_POST = 2;

/** The next POST: its rounds, and the wait before sending. */
export interface Dequeued<R extends QueuedRound = QueuedRound> {
  readonly batches: readonly R[];
  readonly delayMs: number;
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
}

/** The state machine of the post loop, over rounds of type `R`. */
export interface PostQueue<R extends QueuedRound = QueuedRound> {
  /** The delays in force, derived from the minute. */
  readonly timings: PostTimings;
  /** Seconds past the minute this host posts at. */
  readonly postDelaySeconds: number;
  /** Current loop state. */
  readonly state: PostState;
  /** Rounds waiting (not counting those of a POST in flight). */
  readonly size: number;
  /** Points waiting, over all rounds. */
  readonly pointCount: number;
  /** The rounds waiting, oldest first. */
  waiting(): readonly R[];
  /** Appends a round. */
  enqueue(round: R): void;
  /** Takes the next POST (<= 2 rounds) and its delay, then picks the next state; none when empty. */
  next(nowMs: number): Dequeued<R> | undefined;
  /** Records a successful POST. */
  onSuccess(): SuccessOutcome;
  /**
   * Records a failed POST: the rounds given go back to the tail; no POST is made before
   * `holdUntilMs` (a `Retry-After`), on top of the usual delay.
   */
  onFailure(requeue: readonly R[], holdUntilMs?: number): void;
  /** Switches to `terminating`; returns false when it already was (a second stop request). */
  terminate(): boolean;
}

/** Creates an empty post queue in state `first`. */
export function createPostQueue<R extends QueuedRound = QueuedRound>(
  options: PostQueueOptions,
): PostQueue<R> {
  const timings = postTimings(options.minuteMs);
  const { postDelaySeconds } = options;
  if (!Number.isInteger(postDelaySeconds) || postDelaySeconds < 0 || postDelaySeconds >= 60) {
    throw new RangeError(
      `post delay must be an integer in [0, 60) seconds, got ${postDelaySeconds}`,
    );
  }
  const postDelayMs = agentSecondsToMs(postDelaySeconds, timings.minuteMs);

  const rounds: R[] = [];
  let points = 0;
  let state: PostState = "first";
  let lastFailed = false;
  let holdUntil = 0;

  const push = (round: R) => {
    rounds.push(round);
    points += round.count;
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
    get state() {
      return state;
    },
    get size() {
      return rounds.length;
    },
    get pointCount() {
      return points;
    },
    waiting: () => [...rounds],
    enqueue: push,
    next(nowMs) {
      const taken = rounds.splice(0, MAX_BATCHES_PER_POST);
      if (taken.length === 0) return undefined;
      points -= taken.reduce((n, r) => n + r.count, 0);
      // A Retry-After is not honoured while draining at a stop: the graceful limit is short, and
      // what cannot be posted then stays in the spool.
      const hold = state === "terminating" ? 0 : holdUntil - nowMs;
      const delayMs = Math.max(delayFor(state, nowMs), hold);
      // Chosen before sleeping, as upstream does: a backlog keeps the short queued delay.
      if (state !== "terminating") state = rounds.length > 0 ? "queued" : "default";
      return { batches: taken, delayMs };
    },
    onSuccess() {
      const recovered = lastFailed;
      lastFailed = false;
      holdUntil = 0;
      return { done: state === "terminating" && rounds.length === 0, recovered };
    },
    onFailure(requeue, holdUntilMs = 0) {
      lastFailed = true;
      holdUntil = holdUntilMs;
      if (state !== "terminating") state = "hadError";
      for (const round of requeue) push(round);
    },
    terminate() {
      if (state === "terminating") return false;
      state = "terminating";
      return true;
    },
  };
}
