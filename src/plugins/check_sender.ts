/**
 * Delivers check reports to Mackerel (reference §5.4, §6.4 check sender row, §6.5, §7.4).
 *
 * Checkers enqueue; the sender wakes every minute, on an immediate wake (a status change) or at
 * stop, drains the buffer and posts it per host in chunks of 20 with a pause after each full chunk.
 * A chunk is retried every 30 s until it is accepted, except on a 4xx answer, which is final. Every
 * delay is a fraction of the agent's minute (DESIGN.md principle 8). Unlike upstream, whose checkers
 * block when the buffer is full, the buffer here drops its oldest reports and says how many.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import { tryWithImmediateRetry } from "../async/retry.ts";
import type { CheckReport } from "../mackerel/api_types.ts";
import type { MackerelClient } from "../mackerel/client.ts";
import { isClientError, isNetworkError } from "../mackerel/errors.ts";
import { logger } from "../log.ts";

/** Options of {@linkcode createCheckSender}. */
export interface CheckSenderOptions {
  readonly client: Pick<MackerelClient, "reportCheckMonitors">;
  readonly clock: Clock;
  /** The agent's minute in ms (60 000 upstream). */
  readonly minuteMs: number;
  /** How many checks are configured: sizes the buffer and the pause rule. */
  readonly checkCount: number;
}

/** The running sender. */
export interface CheckSender {
  /** Buffers a report for the next post; the oldest report goes when the buffer is full. */
  enqueue(report: CheckReport): void;
  /** Posts now instead of at the next minute (a check changed status). */
  wake(): void;
  /** Posts what is buffered once more (failures dropped), then stops; resolves when done. */
  stop(): Promise<void>;
}

/** Reports per POST. */
export const CHECK_REPORTS_PER_POST = 20;
/** The buffer holds this many reports per configured check (six hours of one-minute checks). */
export const CHECK_BUFFER_PER_CHECK = 360;

const log = logger("command");

/** Starts the sender loop; call {@linkcode CheckSender.stop} to end it. */
export function createCheckSender(options: CheckSenderOptions): CheckSender {
  const { client, clock } = options;
  const s = (seconds: number) => agentSecondsToMs(seconds, options.minuteMs);
  const checkCount = Math.max(1, options.checkCount);
  const capacity = CHECK_BUFFER_PER_CHECK * checkCount;
  const buffer: CheckReport[] = [];
  const stopping = new AbortController();
  let wakeUp = new AbortController();
  let dropped = 0;

  const reportDrops = () => {
    if (dropped === 0) return;
    log
      .warn`Dropped the ${dropped} oldest check reports: the buffer of ${capacity} reports was full`;
    dropped = 0;
  };

  /** One POST with the immediate network retry; resolves to the error, or undefined on success. */
  const attempt = async (chunk: readonly CheckReport[]): Promise<unknown> => {
    const { failure } = await tryWithImmediateRetry(() => client.reportCheckMonitors(chunk), {
      clock,
      windowMs: s(25),
      isNetworkError,
      onRetry: (e) =>
        log.warn`ReportCheckMonitors: failed to report (will retry immediately): ${e}`,
    });
    return failure?.error;
  };

  /** Posts a chunk until it is accepted, refused with a 4xx, or the sender stops. */
  const deliver = async (chunk: readonly CheckReport[]): Promise<void> => {
    for (;;) {
      const error = await attempt(chunk);
      if (error === undefined) return;
      if (isClientError(error)) {
        log.error`ReportCheckMonitors: gave up on ${chunk.length} check reports: ${error}`;
        return;
      }
      if (stopping.signal.aborted) {
        log.error`ReportCheckMonitors: dropped ${chunk.length} check reports at stop: ${error}`;
        return;
      }
      log.warn`ReportCheckMonitors: failed to report (will retry): ${error}`;
      await clock.sleep(s(30), stopping.signal);
      reportDrops();
    }
  };

  const flush = async (): Promise<void> => {
    const reports = buffer.splice(0);
    reportDrops();
    if (reports.length === 0) return;
    let pause = s(1);
    if (reports.length > 2 * checkCount) {
      pause = s(15);
      if (reports.length > CHECK_REPORTS_PER_POST) {
        log.warn`${reports.length} check reports are waiting; pausing 15 seconds between posts`;
      }
    }
    const byHost = Map.groupBy(reports, (r) => r.hostId);
    for (const group of byHost.values()) {
      for (let i = 0; i < group.length; i += CHECK_REPORTS_PER_POST) {
        const chunk = group.slice(i, i + CHECK_REPORTS_PER_POST);
        await deliver(chunk);
        // Do not report many times in a short time.
        if (chunk.length === CHECK_REPORTS_PER_POST) await clock.sleep(pause, stopping.signal);
      }
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      await clock.sleep(options.minuteMs, AbortSignal.any([stopping.signal, wakeUp.signal]));
      // A new controller before posting, so a wake during the post triggers the next cycle at once.
      wakeUp = new AbortController();
      await flush();
    }
    await flush();
  })();

  return {
    enqueue(report) {
      if (buffer.length >= capacity) {
        buffer.shift();
        dropped++;
      }
      buffer.push(report);
    },
    wake() {
      wakeUp.abort();
    },
    stop() {
      stopping.abort();
      return loop;
    },
  };
}
