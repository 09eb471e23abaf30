/**
 * Delivers check reports to Mackerel (docs/upstream.md: "Retry rules", the check sender row of
 * "Post loop", "Long outage", "Check plugins") from the spool, so a CRITICAL raised during an
 * outage arrives after a restart with its original time.
 *
 * Each report is a spool record. The sender wakes every minute, on an immediate wake (a status
 * change) or at stop, takes every report waiting, and posts them per host in chunks of 20 with a
 * pause after each full chunk. A chunk is retried every 30 s (or after the server's Retry-After)
 * until it is accepted. A refused chunk (400) is split to find the refused reports; any other
 * refusal drops it, with an ERROR. Every delay is a fraction of the agent's minute
 * (docs/architecture.md, "Principles").
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import { agentSecondsToMs, nextTick } from "../async/minute.ts";
import { tryWithImmediateRetry } from "../async/retry.ts";
import type { CheckReport } from "../mackerel/api_types.ts";
import { isNetworkError } from "../mackerel/errors.ts";
import { errorMessage, logger } from "../log.ts";
import { type DeliveryEvents, NO_EVENTS } from "./events.ts";
import { classifyFailure } from "./policy.ts";
import { createRefusalJudge } from "./refusal.ts";
import { deliverSplitting, halves } from "./split.ts";
import type { Spool, SpoolEntry } from "./spool.ts";

/** Options of {@linkcode createCheckSender}. */
export interface CheckSenderOptions {
  readonly spool: Spool;
  /** Posts one chunk of reports (the API client's `reportCheckMonitors`). */
  readonly send: (reports: readonly CheckReport[], signal: AbortSignal) => Promise<void>;
  readonly clock: Clock;
  /** The agent's minute in ms (60 000 upstream). */
  readonly minuteMs: number;
  /** How many checks are configured: sizes the pause rule. */
  readonly checkCount: number;
  /** Told every outcome (the status file). */
  readonly events?: DeliveryEvents;
}

/** The running sender. */
export interface CheckSender {
  /** Keeps a report for the next post. */
  put(report: CheckReport): Promise<void>;
  /** Posts now instead of at the next minute (a check changed status). */
  wake(): void;
  /**
   * Posts until `stop` aborts, then once more; what cannot be posted then stays in the spool.
   * `force` ends any wait at once.
   */
  run(stop: AbortSignal, force: AbortSignal): Promise<void>;
}

/** Reports per POST. */
export const CHECK_REPORTS_PER_POST = 20;

const log = logger("command");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Item {
  readonly entry: SpoolEntry;
  readonly report: CheckReport;
}

/** Creates the sender; {@linkcode CheckSender.run} drives it. */
export function createCheckSender(options: CheckSenderOptions): CheckSender {
  const { spool, clock } = options;
  const s = (seconds: number) => agentSecondsToMs(seconds, options.minuteMs);
  const checkCount = Math.max(1, options.checkCount);
  const events = options.events ?? NO_EVENTS;
  let wakeUp = new AbortController();
  /** Aborted by every put: an idle sender waits for it rather than waking every minute. */
  let arrived = new AbortController();
  const judge = createRefusalJudge();
  /** Records being posted, so a wake during a post does not send them twice. */
  const inFlight = new Set<number>();
  /** Whether reports wait to be posted (besides those being posted). */
  const waiting = () => spool.entries("checks").some((e) => !inFlight.has(e.id));

  /** One POST with the immediate network retry; the error, or undefined on success. */
  const attempt = async (items: readonly Item[], signal: AbortSignal): Promise<unknown> => {
    const { failure } = await tryWithImmediateRetry(
      () => options.send(items.map((i) => i.report), signal),
      {
        clock,
        windowMs: s(25),
        isNetworkError,
        allowed: () => !signal.aborted,
        onRetry: (e) =>
          log.warn(
            `ReportCheckMonitors: failed to report (will retry immediately): ${errorMessage(e)}`,
          ),
      },
    );
    return failure?.error;
  };

  /**
   * Posts a chunk until it is accepted or refused; at stop a failure leaves it in the spool.
   * Returns false when the sender must stop posting (stopping, or forced).
   */
  const deliver = async (items: readonly Item[], stop: AbortSignal, force: AbortSignal) => {
    let chunk = items;
    for (;;) {
      const error = await attempt(chunk, force);
      if (error === undefined) {
        judge.forget(chunk.map((i) => i.entry.id));
        await spool.ack(chunk.map((i) => i.entry.id));
        events.delivered("checks", chunk.length);
        judge.delivered();
        return true;
      }
      if (force.aborted) return false;
      let verdict = classifyFailure(error, options.minuteMs);
      if (verdict.kind === "permanent") {
        const kept = await settleRefused(chunk, verdict.splittable, error, force);
        if (kept.length === 0) return true;
        chunk = kept;
        verdict = { kind: "transient" };
      }
      if (stop.aborted) {
        const kept = chunk.every((i) => spool.isDurable(i.entry.id));
        log.warn(
          `ReportCheckMonitors: ${chunk.length} check reports ${
            kept
              ? "are kept in the spool for the next start"
              : "could not be posted before the stop"
          }: ${errorMessage(error)}`,
        );
        return false;
      }
      log.warn(`ReportCheckMonitors: failed to report (will retry): ${errorMessage(error)}`);
      events.failed("checks", error);
      const waitMs = Math.max(s(30), verdict.retryAfterMs ?? 0);
      await clock.sleep(waitMs, AbortSignal.any([stop, force]));
    }
  };

  /**
   * A refused chunk: split to find the refused reports (not while a refusal of everything is
   * suspected), drop those the API refuses while it takes others, deliver the rest. Returns the
   * reports to keep trying.
   */
  const settleRefused = async (
    chunk: readonly Item[],
    splittable: boolean,
    error: unknown,
    force: AbortSignal,
  ): Promise<readonly Item[]> => {
    const ids = chunk.map((i) => i.entry.id);
    const episodeBefore = judge.refusingEverything;
    const parts = splittable && chunk.length > 1 && !judge.careful(ids) ? halves(chunk) : undefined;
    const result = parts
      ? await deliverSplitting(parts, {
        send: (part) => options.send(part.map((i) => i.report), force),
        classify: (e) => classifyFailure(e, options.minuteMs),
        budget: 2 * CHECK_REPORTS_PER_POST,
        signal: force,
      })
      : { delivered: [], refused: chunk, refusal: error, pending: [] };
    const tookOthers = result.delivered.length > 0;
    if (tookOthers) {
      events.delivered("checks", result.delivered.length);
      judge.delivered();
    }
    let dropped = result.refused;
    let kept = result.pending;
    const refusedIds = dropped.map((i) => i.entry.id);
    // Only a refused payload may be a refusal of everything; a 404 refuses the request for good.
    if (splittable && dropped.length > 0 && !judge.refusedAreBad(refusedIds, tookOthers)) {
      if (!episodeBefore) {
        log.error(
          `ReportCheckMonitors: the API refuses every check report it is sent ` +
            `(${errorMessage(result.refusal)}): taken as a fault of the API or a proxy; ` +
            `${chunk.length} check reports are kept and retried`,
        );
      }
      for (const id of refusedIds) judge.suspect(id, [id]);
      kept = [...kept, ...dropped];
      dropped = [];
    }
    if (dropped.length > 0) {
      events.refused("checks", dropped.length, result.refusal);
      log.error(
        `ReportCheckMonitors: the API refused ${dropped.length} check reports ` +
          `(${[...new Set(dropped.map((i) => i.report.name))].join(", ")}), dropped: ${
            errorMessage(result.refusal)
          }`,
      );
    }
    const gone = [...result.delivered, ...dropped].map((i) => i.entry.id);
    judge.forget(gone);
    await spool.ack(gone);
    return kept;
  };

  /** Reads the waiting reports back; records the spool no longer has are skipped. */
  const load = async (): Promise<Item[]> => {
    const items: Item[] = [];
    for (const entry of spool.entries("checks")) {
      if (inFlight.has(entry.id)) continue;
      const body = await spool.read(entry);
      if (body === undefined) continue;
      try {
        items.push({ entry, report: JSON.parse(decoder.decode(body)) as CheckReport });
      } catch {
        log.error(`ReportCheckMonitors: a stored check report is not JSON; dropped`);
        await spool.ack([entry.id]);
      }
    }
    return items;
  };

  const flush = async (stop: AbortSignal, force: AbortSignal): Promise<void> => {
    const items = await load();
    if (items.length === 0) return;
    for (const item of items) inFlight.add(item.entry.id);
    try {
      let pause = s(1);
      if (items.length > 2 * checkCount) {
        pause = s(15);
        if (items.length > CHECK_REPORTS_PER_POST) {
          log.warn(`${items.length} check reports are waiting; pausing 15 seconds between posts`);
        }
      }
      const byHost = Map.groupBy(items, (i) => i.report.hostId);
      for (const group of byHost.values()) {
        for (let i = 0; i < group.length; i += CHECK_REPORTS_PER_POST) {
          const chunk = group.slice(i, i + CHECK_REPORTS_PER_POST);
          if (!await deliver(chunk, stop, force)) return;
          // Do not report many times in a short time.
          if (chunk.length === CHECK_REPORTS_PER_POST) {
            await clock.sleep(pause, AbortSignal.any([stop, force]));
          }
        }
      }
    } finally {
      for (const item of items) inFlight.delete(item.entry.id);
    }
  };

  return {
    async put(report) {
      await spool.put({ kind: "checks", body: encoder.encode(JSON.stringify(report)), count: 1 });
      arrived.abort();
    },
    wake() {
      wakeUp.abort();
    },
    async run(stop, force) {
      let due = clock.now() + options.minuteMs;
      while (!stop.aborted && !force.aborted) {
        if (!waiting()) {
          // Nothing to post: sleep until a report arrives (or a wake, or the stop) instead of
          // waking the agent every minute; then the minute's rhythm goes on where it was.
          arrived = new AbortController();
          await clock.sleep(
            Infinity,
            AbortSignal.any([stop, force, wakeUp.signal, arrived.signal]),
          );
          due = nextTick(due, clock.now(), options.minuteMs);
        }
        await clock.sleep(due - clock.now(), AbortSignal.any([stop, force, wakeUp.signal]));
        if (stop.aborted) break; // the final flush follows
        // A new controller before posting, so a wake during the post triggers the next cycle at once.
        wakeUp = new AbortController();
        await flush(stop, force);
        due = clock.now() + options.minuteMs;
      }
      if (!force.aborted) await flush(stop, force);
    },
  };
}
