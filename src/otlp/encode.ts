/**
 * OTLP metrics as plain data, and their encoding as an `ExportMetricsServiceRequest` (the official
 * opentelemetry-proto definitions, generated into ./proto/ by `scripts/gen_otlp_proto.ts`).
 *
 * One round of one host is one request: a resource (the host), one scope (this agent) and its
 * metrics. A request larger than the limit is split by metrics, so no request goes over it.
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { ExportMetricsServiceRequestSchema } from "./proto/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import type { KeyValue } from "./proto/opentelemetry/proto/common/v1/common_pb.ts";
import {
  AggregationTemporality,
  type Metric,
  type NumberDataPoint,
} from "./proto/opentelemetry/proto/metrics/v1/metrics_pb.ts";

/** Attributes of a resource or a data point; all of ours are strings. */
export type Attributes = Readonly<Record<string, string>>;

/** One value of a metric. */
export interface DataPoint {
  readonly attributes?: Attributes;
  readonly value: number;
  /** Epoch ns the value was read at. */
  readonly timeNs: bigint;
  /** Epoch ns the counting began (cumulative sums): the boot time for the kernel's counters. */
  readonly startNs?: bigint;
}

/** One metric: a gauge, or a cumulative sum (monotonic: a counter). */
export interface OtlpMetric {
  readonly name: string;
  /** UCUM (`s`, `By`, `{packets}`, `1`). */
  readonly unit: string;
  readonly description: string;
  readonly type: "gauge" | "sum";
  /** A sum that only grows (a counter); a sum that does not is an up-down counter. */
  readonly monotonic?: boolean;
  /** Values are integers (`as_int`); otherwise doubles. */
  readonly integer?: boolean;
  readonly points: readonly DataPoint[];
}

/** The metrics of one resource (a host). */
export interface ResourceMetrics {
  readonly resource: Attributes;
  readonly metrics: readonly OtlpMetric[];
}

/** The instrumentation scope every metric is sent under: this agent. */
export interface Scope {
  readonly name: string;
  readonly version: string;
}

/** One encoded request and the data points in it. */
export interface EncodedExport {
  readonly body: Uint8Array;
  readonly points: number;
}

/** Epoch ms to epoch ns. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}

/** Encodes `resources` as one `ExportMetricsServiceRequest`. */
export function encodeExport(resources: readonly ResourceMetrics[], scope: Scope): Uint8Array {
  const request = create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: resources.map((r) => ({
      resource: { attributes: keyValues(r.resource) },
      scopeMetrics: [{ scope, metrics: r.metrics.map(toMetric) }],
    })),
  });
  return toBinary(ExportMetricsServiceRequestSchema, request);
}

/**
 * Encodes the metrics of one resource as requests of at most `maxBytes` each (halving the list of
 * metrics until each part fits); none when there are no points.
 */
export function encodeExports(
  resource: ResourceMetrics,
  scope: Scope,
  maxBytes: number,
): EncodedExport[] {
  const metrics = resource.metrics.filter((m) => m.points.length > 0);
  if (metrics.length === 0) return [];
  const body = encodeExport([{ resource: resource.resource, metrics }], scope);
  if (body.length <= maxBytes || metrics.length === 1) {
    return [{ body, points: countPoints(metrics) }];
  }
  const half = Math.ceil(metrics.length / 2);
  return [metrics.slice(0, half), metrics.slice(half)].flatMap((part) =>
    encodeExports({ resource: resource.resource, metrics: part }, scope, maxBytes)
  );
}

/** The data points of `metrics`. */
export function countPoints(metrics: readonly OtlpMetric[]): number {
  return metrics.reduce((n, m) => n + m.points.length, 0);
}

function keyValues(attributes: Attributes | undefined): KeyValue[] {
  if (attributes === undefined) return [];
  return Object.entries(attributes).map(([key, value]) =>
    ({ key, value: { value: { case: "stringValue", value } } }) as KeyValue
  );
}

function toPoint(point: DataPoint, integer: boolean): NumberDataPoint {
  return {
    attributes: keyValues(point.attributes),
    timeUnixNano: point.timeNs,
    startTimeUnixNano: point.startNs ?? 0n,
    value: integer
      ? { case: "asInt", value: BigInt(Math.round(point.value)) }
      : { case: "asDouble", value: point.value },
  } as NumberDataPoint;
}

function toMetric(metric: OtlpMetric): Metric {
  const dataPoints = metric.points.map((p) => toPoint(p, metric.integer ?? false));
  return {
    name: metric.name,
    unit: metric.unit,
    description: metric.description,
    data: metric.type === "gauge" ? { case: "gauge", value: { dataPoints } } : {
      case: "sum",
      value: {
        dataPoints,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        isMonotonic: metric.monotonic ?? false,
      },
    },
  } as Metric;
}
