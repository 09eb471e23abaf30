/**
 * Delivers states - metadata values (docs/upstream.md, "Metadata plugins") and the graph
 * definitions of metric plugins ("Graph definitions") - from the spool. A state is kept by key (a
 * host's metadata namespace, or the one set of graph definitions); a newer value supersedes an
 * older one that was not sent yet.
 *
 * Every minute (at once for graph definitions), the newest value of each key is sent. A transient
 * failure keeps it for the next minute, as upstream does for a 5xx; a refusal drops it, and a
 * refused metadata value is reported so that its plugin's next run sends it again.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import { nextTick } from "../async/minute.ts";
import { errorMessage, logger } from "../log.ts";
import { type DeliveryEvents, NO_EVENTS } from "./events.ts";
import { classifyFailure } from "./policy.ts";
import type { RecordKind } from "./record.ts";
import type { Spool, SpoolEntry } from "./spool.ts";

/** The kinds of record this sender owns. */
export type StateKind = Extract<RecordKind, "metadata" | "graphdefs">;

/** Options of {@linkcode createStateSender}. */
export interface StateSenderOptions {
  readonly spool: Spool;
  /** Sends one state (its decoded body) to the API. */
  readonly send: (kind: StateKind, value: unknown, signal: AbortSignal) => Promise<void>;
  /** Called (and awaited) for each state the API refused, with its decoded body. */
  readonly onRefused?: (kind: StateKind, value: unknown) => void | Promise<void>;
  /** Names a state in log lines (`metadata "ns"`). */
  readonly describe: (kind: StateKind, value: unknown) => string;
  readonly clock: Clock;
  /** The agent's minute in ms. */
  readonly minuteMs: number;
  /** Told every outcome (the status file). */
  readonly events?: DeliveryEvents;
}

/** The running sender. */
export interface StateSender {
  /** Keeps a value under `key`, superseding the older ones; `urgent` sends it at once. */
  put(kind: StateKind, key: string, value: unknown, urgent?: boolean): Promise<void>;
  /** Sends every minute until `stop` aborts, then once more. */
  run(stop: AbortSignal, force: AbortSignal): Promise<void>;
}

const log = logger("command");
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const STATE_KINDS: readonly StateKind[] = ["graphdefs", "metadata"];

/** Creates the sender; {@linkcode StateSender.run} drives it. */
export function createStateSender(options: StateSenderOptions): StateSender {
  const { spool, clock } = options;
  let wakeUp = new AbortController();
  /** Aborted by every put: an idle sender waits for it rather than waking every minute. */
  let arrived = new AbortController();
  const events = options.events ?? NO_EVENTS;
  const waiting = () => STATE_KINDS.some((kind) => spool.entries(kind).length > 0);

  /** The newest record of each key, and the older ones it supersedes. */
  const newestByKey = () => {
    const newest = new Map<string, SpoolEntry>();
    const superseded: number[] = [];
    for (const kind of STATE_KINDS) {
      for (const entry of spool.entries(kind)) {
        const key = `${kind}:${entry.key ?? ""}`;
        const older = newest.get(key);
        if (older) superseded.push(older.id);
        newest.set(key, entry);
      }
    }
    return { newest: [...newest.values()], superseded };
  };

  const flush = async (final: boolean, force: AbortSignal): Promise<void> => {
    const { newest, superseded } = newestByKey();
    if (superseded.length > 0) await spool.ack(superseded);
    for (const entry of newest) {
      if (force.aborted) return;
      const body = await spool.read(entry);
      if (body === undefined) continue;
      const kind = entry.kind as StateKind;
      let value: unknown;
      try {
        value = JSON.parse(decoder.decode(body));
      } catch {
        await spool.ack([entry.id]);
        continue;
      }
      try {
        await options.send(kind, value, force);
        await spool.ack([entry.id]);
        events.delivered(kind, 1);
      } catch (error) {
        const verdict = classifyFailure(error, options.minuteMs);
        const what = options.describe(kind, value);
        if (verdict.kind === "transient") {
          events.failed(kind, error);
          const line = `${what} failed${final ? "" : " (will retry next minute)"}: ${
            errorMessage(error)
          }`;
          // A refused key is said once by the status, not at every retry.
          if (verdict.credentials) log.warn(line);
          else log.error(line);
          continue;
        }
        log.error(`${what} was refused, dropped: ${errorMessage(error)}`);
        events.refused(kind, 1, error);
        await spool.ack([entry.id]);
        await options.onRefused?.(kind, value);
      }
    }
  };

  return {
    async put(kind, key, value, urgent = false) {
      const body = encoder.encode(JSON.stringify(value));
      const entry = await spool.put({ kind, key, body, count: 1 });
      const older = spool.entries(kind).filter((e) => e.key === key && e.id < entry.id);
      if (older.length > 0) await spool.ack(older.map((e) => e.id));
      if (urgent) wakeUp.abort();
      arrived.abort();
    },
    async run(stop, force) {
      // States left by an earlier run go out at once.
      let first = waiting();
      let due = clock.now() + options.minuteMs;
      while (!stop.aborted && !force.aborted) {
        if (!first) {
          if (!waiting()) {
            // Nothing to send: sleep until a value arrives (or the stop) instead of waking the
            // agent every minute; then the minute's rhythm goes on where it was.
            arrived = new AbortController();
            const interrupt = [stop, force, wakeUp.signal, arrived.signal];
            await clock.sleep(Infinity, AbortSignal.any(interrupt));
            due = nextTick(due, clock.now(), options.minuteMs);
          }
          await clock.sleep(due - clock.now(), AbortSignal.any([stop, force, wakeUp.signal]));
          if (stop.aborted) break; // the final flush follows
        }
        first = false;
        wakeUp = new AbortController();
        await flush(false, force);
        due = clock.now() + options.minuteMs;
      }
      if (!force.aborted) await flush(true, force);
    },
  };
}
