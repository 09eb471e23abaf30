/**
 * The contract every metric collector fulfils.
 *
 * @module
 */

/** One metric value, named as Mackerel names it (`loadavg5`, `cpu.user.percentage` …). */
export interface MetricValue {
  readonly name: string;
  readonly value: number;
}

/** A source of metric values, created once and called every tick. */
export interface Collector {
  /** Short name used in logs and in the permission probe (`cpu`, `memory` …). */
  readonly name: string;
  /** Absolute paths the collector reads; probed once at start. */
  readonly sources: readonly string[];
  /**
   * Collects the current values. Rate collectors keep their previous sample and return nothing on
   * the first call or after a counter reset.
   */
  collect(): Promise<MetricValue[]>;
}
