/**
 * One collection round: every collector concurrently, each under a deadline.
 *
 * @module
 */
import { logger } from "../log.ts";
import type { Collector, MetricValue } from "./collector.ts";

/** Options of {@linkcode collectRound}. */
export interface RoundOptions {
  /** How long one collector may take before its values are given up for this round. */
  readonly deadlineMs?: number;
}

/**
 * Runs every collector concurrently and merges their values (a later duplicate name wins).
 *
 * A failing or slow collector is skipped with one line, so one bad source cannot stall the round;
 * a non-finite value is dropped with a WARNING, as upstream does at enqueue.
 */
export async function collectRound(
  collectors: readonly Collector[],
  options: RoundOptions = {},
): Promise<MetricValue[]> {
  const log = logger("agent");
  const deadlineMs = options.deadlineMs ?? 30_000;
  const results = await Promise.all(collectors.map(async (collector) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${deadlineMs / 1000} seconds`)),
        deadlineMs,
      );
    });
    try {
      return await Promise.race([collector.collect(), timeout]);
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      log.error(`Failed to generate value in ${collector.name} (skip this metric): ${cause}`);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }));
  const merged = new Map<string, number>();
  for (const value of results.flat()) {
    if (Number.isFinite(value.value)) merged.set(value.name, value.value);
    else log.warn(`Invalid value: name = ${value.name}, value = ${value.value} is not sent.`);
  }
  return [...merged].map(([name, value]) => ({ name, value }));
}
