/**
 * One collection round: every collector concurrently, each under a deadline.
 *
 * @module
 */
import { startDeadline } from "../async/deadline.ts";
import { errorMessage, logger } from "../log.ts";
import type { Collector, MetricValue } from "./collector.ts";

/** Options of {@linkcode collectRound}. */
export interface RoundOptions {
  /** The round's scheduled time in epoch milliseconds, passed to every collector. */
  readonly timeMs: number;
  /** How long one collector may take before its values are given up for this round. */
  readonly deadlineMs?: number;
  /** Gives up on every collector still running (the agent stops). */
  readonly signal?: AbortSignal;
  /** Told how each collector's run ended (the status file). */
  readonly onResult?: (collector: string, error?: unknown) => void;
}

/**
 * Runs every collector concurrently and merges their values (a later duplicate name wins). Each
 * value keeps the `time` its collector stamped (a rate's window start); the others have none and
 * take the round's.
 *
 * A failing or slow collector is skipped with one line, so one bad source cannot stall the round;
 * a non-finite value is dropped with a WARNING, as upstream does at enqueue.
 */
export async function collectRound(
  collectors: readonly Collector[],
  options: RoundOptions,
): Promise<MetricValue[]> {
  const log = logger("agent");
  const deadlineMs = options.deadlineMs ?? 30_000;
  if (!(deadlineMs > 0 && deadlineMs <= 2 ** 31 - 1)) {
    throw new RangeError(`deadlineMs must be in (0, 2^31-1]: ${deadlineMs}`);
  }
  // One deadline for the round: every collector starts at once, so they share it. It is called
  // off once the round is done, so an idle agent is not woken when it would have passed.
  const deadline = startDeadline(deadlineMs);
  const signal = options.signal
    ? AbortSignal.any([options.signal, deadline.signal])
    : deadline.signal;
  const { given, release } = givenUp(signal, deadline.signal, deadlineMs);
  let results: MetricValue[][];
  try {
    results = await Promise.all(collectors.map(async (collector) => {
      try {
        const values = await Promise.race([
          collector.collect({ timeMs: options.timeMs, signal }),
          given,
        ]);
        options.onResult?.(collector.name);
        return values;
      } catch (error) {
        options.onResult?.(collector.name, error);
        log.error(
          `Failed to generate value in ${collector.name} (skip this metric): ${
            errorMessage(error)
          }`,
        );
        return [];
      }
    }));
  } finally {
    release();
    deadline.clear();
  }
  const merged = new Map<string, MetricValue>();
  for (const value of results.flat()) {
    if (Number.isFinite(value.value)) merged.set(value.name, value);
    else log.warn(`Invalid value: name = ${value.name}, value = ${value.value} is not sent.`);
  }
  return [...merged.values()];
}

/**
 * A promise that rejects once `signal` aborts (with the deadline's words when it was the
 * deadline), and `release`, which stops listening.
 */
function givenUp(
  signal: AbortSignal,
  deadline: AbortSignal,
  deadlineMs: number,
): { given: Promise<never>; release: () => void } {
  let abort = () => {};
  const given = new Promise<never>((_, reject) => {
    abort = () =>
      reject(
        deadline.aborted
          ? new Error(`timed out after ${deadlineMs / 1000} seconds`)
          : new Error("the agent is stopping"),
      );
  });
  // Raced by every collector; nobody else awaits it.
  given.catch(() => {});
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  return { given, release: () => signal.removeEventListener("abort", abort) };
}
