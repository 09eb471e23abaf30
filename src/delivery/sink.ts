/**
 * Where collected data goes: every producer (the collection rounds, check plugins, metadata
 * plugins, the graph definitions of metric plugins) hands its results to a {@linkcode DataSink}:
 * the outbox, which keeps them and posts them to Mackerel, or stdout when there is no API key.
 *
 * @module
 */
import type { CheckReport, GraphDef } from "../mackerel/api_types.ts";
import type { MetricPoint } from "../mackerel/types.ts";

/** One metadata value for a host's namespace. */
export interface MetadataValue {
  readonly hostId: string;
  readonly namespace: string;
  /** The plugin's JSON value. */
  readonly value: unknown;
}

/** The producer side of delivery. Each `put` resolves once the data is safely kept. */
export interface DataSink {
  /** One collection round's points. */
  putMetrics(points: readonly MetricPoint[]): Promise<void>;
  /** One check result to report. */
  putCheckReport(report: CheckReport): Promise<void>;
  /** A check changed status: report now rather than at the next minute. */
  wakeChecks(): void;
  /** A changed metadata value; a newer one for the same namespace supersedes it. */
  putMetadata(metadata: MetadataValue): Promise<void>;
  /** The graph definitions of this run; a newer set supersedes it. */
  putGraphDefs(defs: readonly GraphDef[]): Promise<void>;
}
