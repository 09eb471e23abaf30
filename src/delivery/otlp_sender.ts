/**
 * Delivers OTLP exports (`[otlp]`) from the spool: each record is one round as an encoded
 * `ExportMetricsServiceRequest`, kept on disk before it counts as queued, so an outage or a
 * `kill -9` loses none, as for a tsdb round.
 *
 * The sender wakes when a round is put (or every minute), and sends what waits, oldest first,
 * several records per request while the request stays under the batch limit: the protobuf
 * encoding of a message whose only field is repeated concatenates, so two encoded requests side
 * by side are one request holding both. A transient failure (./policy.ts) keeps everything and
 * waits a minute, or the server's `RetryInfo`/`Retry-After` when longer; a permanent one drops
 * the batch with an ERROR and its count. A `partial_success` is logged with the number of points
 * the receiver rejected. At stop it sends once more; what fails then stays for the next start.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import { errorMessage, logger } from "../log.ts";
import { type DeliveryEvents, NO_EVENTS } from "./events.ts";
import { classifyFailure } from "./policy.ts";
import type { Spool, SpoolEntry } from "./spool.ts";

/** What the receiver said of an export it took. */
export interface ExportResult {
  /** Points it rejected (`partial_success.rejected_data_points`); 0 when it took them all. */
  readonly rejected: number;
  /** Its `partial_success.error_message`, possibly empty. */
  readonly message: string;
}

/** Options of {@linkcode createOtlpSender}. */
export interface OtlpSenderOptions {
  readonly spool: Spool;
  /** Sends one encoded export request; rejects with an error {@linkcode classifyFailure} reads. */
  readonly send: (body: Uint8Array, signal: AbortSignal) => Promise<ExportResult>;
  readonly clock: Clock;
  /** The agent's minute in ms. */
  readonly minuteMs: number;
  /** A request holds records up to this many bytes (one larger record goes alone); 4 MB. */
  readonly maxBatchBytes?: number;
  /** Told every outcome (the status file). */
  readonly events?: DeliveryEvents;
}

/** The running sender. */
export interface OtlpSender {
  /** Keeps one encoded export of `count` points, and wakes the sender. */
  put(body: Uint8Array, count: number): Promise<void>;
  /** Sends until `stop` aborts, then once more; `force` ends any wait and send at once. */
  run(stop: AbortSignal, force: AbortSignal): Promise<void>;
}

/** Under the 4 MiB a gRPC server takes by default, and Mackerel's limit. */
export const MAX_EXPORT_BYTES = 4_000_000;

const log = logger("otlp");

/** Creates the sender; {@linkcode OtlpSender.run} drives it. */
export function createOtlpSender(options: OtlpSenderOptions): OtlpSender {
  const { spool, clock, minuteMs } = options;
  const maxBatchBytes = options.maxBatchBytes ?? MAX_EXPORT_BYTES;
  if (!(maxBatchBytes > 0)) {
    throw new RangeError(`maxBatchBytes must be positive: ${maxBatchBytes}`);
  }
  const events = options.events ?? NO_EVENTS;
  let wakeUp = new AbortController();

  /** Consecutive records, oldest first, whose bodies together stay under the limit. */
  const batches = (entries: readonly SpoolEntry[]): SpoolEntry[][] => {
    const out: SpoolEntry[][] = [];
    let bytes = 0;
    for (const entry of entries) {
      const last = out.at(-1);
      if (last && bytes + entry.bytes <= maxBatchBytes) {
        last.push(entry);
        bytes += entry.bytes;
      } else {
        out.push([entry]);
        bytes = entry.bytes;
      }
    }
    return out;
  };

  /** Sends what waits; the retry delay after a transient failure, or undefined when all went. */
  const flush = async (force: AbortSignal): Promise<{ retryAfterMs: number } | undefined> => {
    for (const batch of batches(spool.entries("otlp"))) {
      if (force.aborted) return undefined;
      const parts: { entry: SpoolEntry; body: Uint8Array }[] = [];
      for (const entry of batch) {
        const body = await spool.read(entry);
        if (body !== undefined) parts.push({ entry, body });
      }
      if (parts.length === 0) continue;
      const points = parts.reduce((n, p) => n + p.entry.count, 0);
      const ids = parts.map((p) => p.entry.id);
      try {
        const result = await options.send(concat(parts.map((p) => p.body)), force);
        await spool.ack(ids);
        events.delivered("otlp", points - result.rejected);
        if (result.rejected > 0) {
          const error = new Error(result.message || "no message");
          events.refused("otlp", result.rejected, error);
          log.warn(
            `the OTLP endpoint rejected ${result.rejected} of ${points} points: ${error.message}`,
          );
        }
      } catch (error) {
        if (force.aborted) return undefined;
        const verdict = classifyFailure(error, minuteMs);
        if (verdict.kind === "transient") {
          events.failed("otlp", error);
          // A refused key is said once an episode, as an ERROR, by the status (agent/status.ts).
          log.warn(`OTLP export failed (will retry): ${errorMessage(error)}`);
          return { retryAfterMs: Math.max(minuteMs, verdict.retryAfterMs ?? 0) };
        }
        events.refused("otlp", points, error);
        log.error(
          `the OTLP endpoint refused ${parts.length} exports (${points} points), dropped: ${
            errorMessage(error)
          }`,
        );
        await spool.ack(ids);
      }
    }
    return undefined;
  };

  return {
    async put(body, count) {
      await spool.put({ kind: "otlp", body, count });
      wakeUp.abort();
    },
    async run(stop, force) {
      let backoff: { retryAfterMs: number } | undefined;
      // Exports an earlier run left go out at once.
      let pending = spool.entries("otlp").length > 0;
      while (!stop.aborted && !force.aborted) {
        if (backoff) {
          // A put during a backoff does not hammer a failing endpoint.
          await clock.sleep(backoff.retryAfterMs, AbortSignal.any([stop, force]));
        } else if (!pending && !wakeUp.signal.aborted) {
          await clock.sleep(minuteMs, AbortSignal.any([stop, force, wakeUp.signal]));
        }
        if (stop.aborted || force.aborted) break;
        pending = false;
        wakeUp = new AbortController();
        backoff = await flush(force);
      }
      if (force.aborted) return;
      if (await flush(force)) {
        const left = spool.entries("otlp");
        const kept = left.every((e) => spool.isDurable(e.id));
        log.warn(
          `${left.length} OTLP exports ${
            kept ? "are kept in the spool for the next start" : "could not be sent before the stop"
          }`,
        );
      }
    },
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
