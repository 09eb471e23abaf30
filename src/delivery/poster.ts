/**
 * The metric post loop: drives the post queue's state machine (docs/upstream.md,
 * "Per-host post delay" to "Signals") over rounds kept in the spool. It owns sleeping, the
 * immediate network retry, logging and the drain at a stop; what a failure means is the policy's
 * (./policy.ts), the HTTP is the client's.
 *
 * A round leaves the spool only once the API has taken it. A transient failure (a refused key
 * included) requeues it at the tail, as upstream; a refused payload (400) is split to find the
 * refused points and the rest is delivered - unless the API refuses every point alone, which is
 * taken as a fault of the path and kept (./refusal.ts); any other refusal drops the round with an
 * ERROR. At a stop the queue drains one second apart as upstream's does; when a post fails while
 * draining and everything left is on disk, the loop ends at once and the spool keeps it for the
 * next start.
 *
 * @module
 */
import { raceAbort } from "../async/abort.ts";
import { type Clock, realClock } from "../async/clock.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import { tryWithImmediateRetry } from "../async/retry.ts";
import { errorMessage, logger } from "../log.ts";
import { isNetworkError } from "../mackerel/errors.ts";
import { encodeMetricPoints } from "../mackerel/json.ts";
import type { MetricPoint } from "../mackerel/types.ts";
import { initialDelaySeconds } from "./delay.ts";
import { type DeliveryEvents, NO_EVENTS } from "./events.ts";
import { classifyFailure, type Failure } from "./policy.ts";
import type { PostQueue } from "./queue.ts";
import { createRefusalJudge, type RefusalJudge } from "./refusal.ts";
import { deliverSplitting, type SplitResult } from "./split.ts";
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
  /** Real time unless a test brings a virtual clock. */
  readonly clock?: Clock;
  /** Requests one refused payload may cost while searching for the refused points; 32. */
  readonly splitBudget?: number;
  /** Told every outcome (the status file). */
  readonly events?: DeliveryEvents;
  /** The first POST waits for this (upstream posts the graph definitions first), a minute at most. */
  readonly firstPostAfter?: Promise<unknown>;
}

/** A post loop and the entry point rounds are handed to once they are in the spool. */
export interface Poster {
  /** The queue being driven. */
  readonly queue: PostQueue<SpoolEntry>;
  /** Queues a round already in the spool; wakes the loop. */
  enqueue(entry: SpoolEntry): void;
  /**
   * Runs the loop until `stop` aborts and the queue is drained (or what is left is on disk and the
   * API fails), or until `force` aborts; call once.
   */
  run(stop: AbortSignal, force: AbortSignal): Promise<PosterResult>;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const DEFAULT_SPLIT_BUDGET = 32;

/** What one run of the loop works with. */
interface Loop {
  readonly options: PosterOptions;
  readonly queue: PostQueue<SpoolEntry>;
  readonly spool: Spool;
  readonly clock: Clock;
  readonly events: DeliveryEvents;
  readonly judge: RefusalJudge;
  readonly stop: AbortSignal;
  readonly force: AbortSignal;
  /** `stop` or `force`: ends the waits that a stop cuts short. */
  readonly interrupt: AbortSignal;
  /** Wakes the wait for work. */
  wake?: () => void;
}

/** Creates the post loop for `options.queue`. */
export function createPoster(options: PosterOptions): Poster {
  const { queue, spool } = options;
  let loop: Loop | undefined;
  let finished = false;
  return {
    queue,
    enqueue(entry) {
      if (finished) return reportLate(spool, entry);
      queue.enqueue(entry);
      loop?.wake?.();
    },
    async run(stop, force) {
      if (loop) throw new Error("the poster is already running");
      loop = {
        options,
        queue,
        spool,
        clock: options.clock ?? realClock,
        events: options.events ?? NO_EVENTS,
        judge: createRefusalJudge(),
        stop,
        force,
        interrupt: AbortSignal.any([stop, force]),
      };
      try {
        return await runLoop(loop);
      } finally {
        finished = true;
      }
    },
  };
}

/** A round that finished after the loop ended: the spool has it, or nothing will post it. */
function reportLate(spool: Spool, entry: SpoolEntry): void {
  if (spool.isDurable(entry.id)) {
    log.info(`${entry.count} points of a late round are kept in the spool for the next start`);
  } else {
    log.warn(`The post loop has ended: ${entry.count} points of a late round not posted`);
  }
}

/** Whole seconds of the agent's minute, as upstream's log lines print them. */
function seconds(loop: Loop, ms: number): number {
  return Math.round(ms / loop.queue.timings.secondMs);
}

async function runLoop(loop: Loop): Promise<PosterResult> {
  const { queue, clock, stop, force, interrupt } = loop;
  const initial = agentSecondsToMs(
    initialDelaySeconds(queue.postDelaySeconds),
    queue.timings.minuteMs,
  );
  log.debug(`wait ${seconds(loop, initial)} seconds before initial posting.`);
  // A stop here drains what is queued; upstream returns at once and loses it.
  await clock.sleep(initial, interrupt);
  await waitForFirst(loop);
  while (true) {
    if (force.aborted) return reportLeftovers(loop, [], "forced");
    if (stop.aborted) queue.terminate();
    if (queue.state === "terminating" && queue.size === 0) return "drained";
    if (queue.size === 0) {
      await waitForWork(loop);
      continue;
    }
    const next = queue.next(clock.now())!;
    if (next.batches.length > 1) log.debug("Merging datapoints with next queued ones");
    log.debug(`Sleep ${seconds(loop, next.delayMs)} seconds before posting.`);
    // Once terminating the stop has come already; only a forced end may cut the wait.
    await clock.sleep(next.delayMs, queue.state === "terminating" ? force : interrupt);
    if (force.aborted) return reportLeftovers(loop, next.batches, "forced");
    if (stop.aborted) queue.terminate(); // a stop while sleeping posts at once
    const ended = await postRounds(loop, next.batches);
    if (ended) return ended;
  }
}

/**
 * Waits until what must precede the first POST has settled (the graph definitions), a minute at
 * most: a sender that never settles must not hold the metrics back.
 */
async function waitForFirst(loop: Loop): Promise<void> {
  const first = loop.options.firstPostAfter;
  if (first === undefined) return;
  const settled = new AbortController();
  const settle = () => settled.abort();
  first.then(settle, settle);
  await loop.clock.sleep(
    loop.queue.timings.minuteMs,
    AbortSignal.any([loop.interrupt, settled.signal]),
  );
}

function waitForWork(loop: Loop): Promise<void> {
  if (loop.queue.size > 0 || loop.interrupt.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      loop.interrupt.removeEventListener("abort", done);
      loop.wake = undefined;
      resolve();
    };
    loop.wake = done;
    loop.interrupt.addEventListener("abort", done, { once: true });
  });
}

/** One POST of `json`, plus an immediate retry after a quick network error. */
function postWithRetry(loop: Loop, json: string) {
  const { force } = loop;
  return tryWithImmediateRetry(() => raceAbort(loop.options.post(json, force), force), {
    clock: loop.clock,
    windowMs: loop.queue.timings.immediateRetryWindowMs,
    isNetworkError,
    allowed: () => !force.aborted,
    onRetry: (error) =>
      log.warn(`Failed to post metrics value (will retry immediately): ${errorMessage(error)}`),
  });
}

/** The rounds of `taken` the spool still has, with their bodies; others are requeued or gone. */
async function readRounds(loop: Loop, taken: readonly SpoolEntry[]) {
  const rounds: { entry: SpoolEntry; json: string }[] = [];
  for (const entry of taken) {
    const body = await loop.spool.read(entry);
    if (body !== undefined) rounds.push({ entry, json: decoder.decode(body) });
    else if (loop.spool.has(entry.id)) loop.queue.enqueue(entry); // later, at the tail
    // else dropped by the spool's bounds meanwhile
  }
  return rounds;
}

/** Posts one dequeued set of rounds and records the outcome; the result when the loop ends. */
async function postRounds(
  loop: Loop,
  taken: readonly SpoolEntry[],
): Promise<PosterResult | undefined> {
  const { queue, events, force } = loop;
  const rounds = await readRounds(loop, taken);
  if (rounds.length === 0) return undefined;
  const entries = rounds.map((r) => r.entry);
  const { failure, retried } = await postWithRetry(loop, joinArrays(rounds.map((r) => r.json)));
  if (!failure) {
    log.debug("Posting metrics succeeded.");
    events.delivered("metrics", entries.reduce((n, e) => n + e.count, 0));
    loop.judge.delivered();
    await ack(loop, entries);
    const outcome = queue.onSuccess();
    if (outcome.recovered || retried) log.debug("Posting metrics recovered.");
    return outcome.done ? "drained" : undefined;
  }
  if (force.aborted) return reportLeftovers(loop, entries, "forced");
  const verdict = classifyFailure(failure.error, queue.timings.minuteMs);
  if (verdict.kind === "transient") {
    log.warn(`Failed to post metrics value (will retry): ${errorMessage(failure.error)}`);
    events.failed("metrics", failure.error);
    return requeue(loop, entries, verdict);
  }
  const points = rounds.map((r) => JSON.parse(r.json) as MetricPoint[]);
  if (verdict.splittable && points.flat().length > 1) {
    const { left, transient } = await split(loop, entries, points, failure.error);
    if (left.length === 0) {
      const outcome = queue.onSuccess();
      return outcome.done ? "drained" : undefined;
    }
    if (force.aborted) return reportLeftovers(loop, left, "forced");
    return requeue(loop, left, transient?.failure);
  }
  const count = points.flat().length;
  log.error(`The API refused ${count} points, dropped: ${errorMessage(failure.error)}`);
  events.refused("metrics", count, failure.error);
  await ack(loop, entries);
  queue.onFailure([]);
  return queue.state === "terminating" && queue.size === 0 ? "drained" : undefined;
}

/** Puts rounds back at the tail after a transient failure; ends a drain when all is on disk. */
function requeue(
  loop: Loop,
  entries: readonly SpoolEntry[],
  failure?: Failure,
): PosterResult | undefined {
  const { queue, clock } = loop;
  const retryAfterMs = failure?.kind === "transient" ? failure.retryAfterMs : undefined;
  queue.onFailure(entries, retryAfterMs ? clock.now() + retryAfterMs : 0);
  // Requeued: what is left is all in the queue.
  if (queue.state === "terminating" && allOnDisk(loop, [])) {
    return reportLeftovers(loop, [], "kept");
  }
  return undefined;
}

/** Removes delivered or given-up rounds from the spool and from the judge's memory. */
async function ack(loop: Loop, entries: readonly SpoolEntry[]): Promise<void> {
  const ids = entries.map((e) => e.id);
  loop.judge.forget(ids);
  await loop.spool.ack(ids);
}

/** A point and the index of the round it came from. */
interface Item {
  readonly round: number;
  readonly point: MetricPoint;
}

/**
 * Posts the parts of a refused payload alone - each round, then halves - and delivers what the API
 * takes. Points refused one by one are dropped with an ERROR when the API takes others (now, or
 * since they were first kept); otherwise they are kept, as a refusal of everything. What is left
 * stays a round of its own: a round untouched as it was, the rest of a round as a new one.
 */
async function split(
  loop: Loop,
  entries: readonly SpoolEntry[],
  rounds: readonly MetricPoint[][],
  error: unknown,
): Promise<{ left: SpoolEntry[]; transient?: SplitResult<Item>["transient"] }> {
  const { events, judge, force } = loop;
  const ids = entries.map((e) => e.id);
  const wasSuspect = judge.suspecting(ids);
  const result = await deliverSplitting(
    rounds.map((points, round) => points.map((point) => ({ round, point }))),
    {
      send: (part) =>
        raceAbort(loop.options.post(encodeMetricPoints(part.map((i) => i.point)), force), force),
      classify: (e) => classifyFailure(e, loop.queue.timings.minuteMs),
      budget: loop.options.splitBudget ?? DEFAULT_SPLIT_BUDGET,
      halveAfterDelivery: wasSuspect,
      signal: force,
    },
  );
  const tookOthers = result.delivered.length > 0;
  if (tookOthers) {
    events.delivered("metrics", result.delivered.length);
    judge.delivered();
  }
  const pending = [...result.pending];
  let kept = false;
  if (!result.transient && (result.refused.length > 0 || !tookOthers)) {
    const refusedIds = [...new Set([...result.refused, ...pending].map((i) => ids[i.round]))];
    if (judge.refusedAreBad(refusedIds, tookOthers)) {
      if (result.refused.length > 0) dropRefused(loop, result);
    } else {
      pending.push(...result.refused);
      kept = true;
      reportRefusedEverything(loop, pending.length, result.refusal ?? error, !wasSuspect);
    }
  }
  const left = await keepPending(loop, entries, pending, kept);
  if (result.transient) events.failed("metrics", result.transient.error);
  return { left, transient: result.transient };
}

/**
 * What is left of each round after a split: a round none of whose points went stays as it is; of
 * the others a new round holds the rest (collected when its round was), then the originals go (a
 * crash in between posts some points twice, never loses them). `suspect`: kept as a refusal of
 * everything, for the judge.
 */
async function keepPending(
  loop: Loop,
  entries: readonly SpoolEntry[],
  pending: readonly Item[],
  suspect: boolean,
): Promise<SpoolEntry[]> {
  const byRound = Map.groupBy(pending, (i) => i.round);
  const left: SpoolEntry[] = [];
  const gone: SpoolEntry[] = [];
  for (const [round, entry] of entries.entries()) {
    const items = byRound.get(round) ?? [];
    if (items.length === entry.count) {
      left.push(entry);
    } else {
      if (items.length > 0) {
        left.push(
          await loop.spool.put({
            kind: "metrics",
            body: encoder.encode(encodeMetricPoints(items.map((i) => i.point))),
            count: items.length,
            at: entry.at,
          }),
        );
      }
      gone.push(entry);
    }
    if (suspect && items.length > 0) loop.judge.suspect(left.at(-1)!.id, [entry.id]);
  }
  await ack(loop, gone);
  return left;
}

function dropRefused(loop: Loop, result: SplitResult<Item>): void {
  loop.events.refused("metrics", result.refused.length, result.refusal);
  log.error(
    `The API refused ${result.refused.length} points (${
      someNames(result.refused.map((i) => i.point))
    }), ` +
      `dropped; the other ${result.delivered.length} points were delivered: ${
        errorMessage(result.refusal)
      }`,
  );
}

/** One ERROR when a refusal of everything begins; a WARNING for each retry after it. */
function reportRefusedEverything(loop: Loop, points: number, error: unknown, first: boolean): void {
  loop.events.failed("metrics", error);
  const words = `the API refuses every point it is sent (${errorMessage(error)}): taken as a ` +
    `fault of the API or a proxy, not of the points; ${points} points are kept and retried`;
  if (first) log.error(`Posting metrics: ${words}`);
  else log.warn(`Failed to post metrics value (will retry): ${errorMessage(error)}`);
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

/** Rounds not posted yet: in flight, then waiting. */
function leftover(loop: Loop, inFlight: readonly SpoolEntry[]): SpoolEntry[] {
  const byId = new Map([...inFlight, ...loop.queue.waiting()].map((e) => [e.id, e]));
  return [...byId.values()].filter((e) => loop.spool.has(e.id));
}

/** Whether every round still to post survives a restart. */
function allOnDisk(loop: Loop, inFlight: readonly SpoolEntry[]): boolean {
  return leftover(loop, inFlight).every((e) => loop.spool.isDurable(e.id));
}

/** Says what an end leaves over: kept on disk for the next start, or lost with memory. */
function reportLeftovers(
  loop: Loop,
  inFlight: readonly SpoolEntry[],
  result: PosterResult,
): PosterResult {
  const left = leftover(loop, inFlight);
  if (left.length === 0) return result;
  const points = left.reduce((n, e) => n + e.count, 0);
  const lost = left.filter((e) => !loop.spool.isDurable(e.id)).reduce((n, e) => n + e.count, 0);
  if (lost === 0) {
    log.info(`${points} points of ${left.length} rounds are kept in the spool for the next start`);
  } else {
    log.warn(`Terminating before posting everything: ${lost} points not posted`);
  }
  return result;
}
