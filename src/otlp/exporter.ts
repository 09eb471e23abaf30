/**
 * Sends an encoded export request to the `[otlp]` endpoint, as OpenTelemetry's OTLP exporters do:
 *
 * - `grpc`: a unary call of `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`
 *   (./grpc.ts), the message gzip-compressed by default; a failure's `RetryInfo` (in
 *   `grpc-status-details-bin`) says how long to wait;
 * - `http/protobuf`: `POST <endpoint>/v1/metrics` with `Content-Type: application/x-protobuf`
 *   (and `Content-Encoding: gzip`); a failure's `Retry-After` says how long to wait.
 *
 * With no endpoint, the target is Mackerel's: `otlp.mackerelio.com:4317` over gRPC with TLS and
 * the API key in `Mackerel-Api-Key`, as Mackerel's own OTLP exporter sends it.
 *
 * @module
 */
import { fromBinary } from "@bufbuild/protobuf";
import { gzipSync } from "node:zlib";
import type { OtlpConfig } from "../config/schema.ts";
import type { ExportResult } from "../delivery/otlp_sender.ts";
import { readBoundedBody } from "../bounded_body.ts";
import { parseRetryAfter } from "../mackerel/errors.ts";
import { createHttpTransport } from "../mackerel/http.ts";
import { ExportError, grpcCodeName } from "./export_error.ts";
import { createGrpcChannel, TransportError } from "./grpc.ts";
import { RetryInfoSchema } from "./proto/google/rpc/error_details_pb.ts";
import { StatusSchema } from "./proto/google/rpc/status_pb.ts";
import { ExportMetricsServiceResponseSchema } from "./proto/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";

/** Mackerel's OTLP metrics endpoint (gRPC only). */
export const MACKEREL_OTLP_ENDPOINT = "https://otlp.mackerelio.com:4317";
/** The method an export calls. */
export const EXPORT_METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
/** Answers are a few bytes; a megabyte is a broken server. */
const MAX_RESPONSE_BYTES = 1 << 20;

/** Where and how exports go, resolved from `[otlp]`. */
export interface ExportTarget {
  readonly protocol: "grpc" | "http/protobuf";
  /** gRPC: the origin; HTTP: the full `/v1/metrics` URL. */
  readonly url: URL;
  /** Lower-case names. */
  readonly headers: readonly (readonly [string, string])[];
  readonly timeoutMs: number;
  readonly gzip: boolean;
}

/** Sends export requests to one target. */
export interface Exporter {
  readonly target: ExportTarget;
  /** Sends one encoded request; rejects with an {@linkcode ExportError}. */
  export(body: Uint8Array, signal: AbortSignal): Promise<ExportResult>;
  close(): void;
}

/** Resolves `[otlp]` into a target; throws one line naming the key when it cannot be used. */
export function resolveTarget(otlp: OtlpConfig, apikey: string): ExportTarget {
  let raw = otlp.endpoint.trim();
  if (raw === "") {
    if (otlp.protocol !== "grpc") {
      throw new Error(
        `[otlp] protocol = "${otlp.protocol}" needs an endpoint: Mackerel's OTLP endpoint takes ` +
          `metrics over gRPC only`,
      );
    }
    raw = MACKEREL_OTLP_ENDPOINT;
  }
  // OpenTelemetry's gRPC exporters take host:port and use TLS for it.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) && otlp.protocol === "grpc") raw = `https://${raw}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`[otlp] endpoint "${otlp.endpoint}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`[otlp] endpoint "${otlp.endpoint}" must be http:// or https://`);
  }
  const headers: [string, string][] = [];
  for (const [name, value] of otlp.headers) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new Error(`[otlp.headers] ${JSON.stringify(name)} is not a valid header`);
    }
    headers.push([name.toLowerCase(), value]);
  }
  if (url.hostname === new URL(MACKEREL_OTLP_ENDPOINT).hostname) {
    if (!headers.some(([name]) => name === "mackerel-api-key")) {
      headers.push(["mackerel-api-key", apikey]);
    }
  }
  if (otlp.protocol === "http/protobuf") {
    url = new URL(`${url.href.replace(/\/+$/, "")}/v1/metrics`);
  }
  return {
    protocol: otlp.protocol,
    url,
    headers,
    timeoutMs: otlp.timeoutMs,
    gzip: otlp.compression === "gzip",
  };
}

/** Options of {@linkcode createExporter}. */
export interface ExporterOptions {
  readonly target: ExportTarget;
  readonly userAgent: string;
}

/** Creates the exporter of a target. */
export function createExporter(options: ExporterOptions): Exporter {
  const { target, userAgent } = options;
  const where = target.protocol === "grpc" ? target.url.host : target.url.href;
  const transport = target.protocol === "http/protobuf" ? createHttpTransport() : undefined;
  const channel = target.protocol === "grpc" ? createGrpcChannel(target.url) : undefined;
  const compress = (body: Uint8Array) => target.gzip ? new Uint8Array(gzipSync(body)) : body;

  async function exportGrpc(body: Uint8Array, signal: AbortSignal): Promise<ExportResult> {
    let result;
    try {
      result = await channel!.call({
        path: EXPORT_METHOD,
        message: compress(body),
        compressed: target.gzip,
        metadata: target.headers,
        userAgent,
        timeoutMs: target.timeoutMs,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        signal,
      });
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      throw new ExportError(where, error.message, { protocol: "none" }, error);
    }
    if (result.code !== 0) {
      const retryAfterMs = retryDelayOf(result.details);
      throw new ExportError(
        where,
        `${grpcCodeName(result.code)}: ${result.message}`,
        {
          protocol: "grpc",
          code: result.code,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      );
    }
    return partialSuccessOf(result.response ?? new Uint8Array(0), where);
  }

  async function exportHttp(body: Uint8Array, signal: AbortSignal): Promise<ExportResult> {
    const deadline = AbortSignal.timeout(target.timeoutMs);
    const all = AbortSignal.any([signal, deadline]);
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await transport!.fetch(target.url, {
        method: "POST",
        headers: {
          "content-type": "application/x-protobuf",
          "user-agent": userAgent,
          ...(target.gzip ? { "content-encoding": "gzip" } : {}),
          ...Object.fromEntries(target.headers),
        },
        body: compress(body) as Uint8Array<ArrayBuffer>,
        signal: all,
      });
      bytes = await readBoundedBody(response, MAX_RESPONSE_BYTES);
    } catch (error) {
      const reason = deadline.aborted
        ? `no answer within ${target.timeoutMs} ms`
        : signal.aborted
        ? "the request was aborted"
        : error instanceof Error
        ? error.message
        : String(error);
      throw new ExportError(where, reason, { protocol: "none" }, error);
    }
    if (response.status < 200 || response.status > 299) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
      const detail = statusMessage(bytes);
      throw new ExportError(
        where,
        `HTTP status ${response.status}${detail ? `: ${detail}` : ""}`,
        {
          protocol: "http",
          status: response.status,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      );
    }
    const type = response.headers.get("content-type") ?? "";
    return type.includes("protobuf")
      ? partialSuccessOf(bytes, where)
      : { rejected: 0, message: "" };
  }

  return {
    target,
    export: target.protocol === "grpc" ? exportGrpc : exportHttp,
    close() {
      transport?.close();
      channel?.close();
    },
  };
}

/** The `partial_success` of an `ExportMetricsServiceResponse`. */
function partialSuccessOf(bytes: Uint8Array, where: string): ExportResult {
  try {
    const response = fromBinary(ExportMetricsServiceResponseSchema, bytes);
    const partial = response.partialSuccess;
    return {
      rejected: partial ? Number(partial.rejectedDataPoints) : 0,
      message: partial?.errorMessage ?? "",
    };
  } catch (error) {
    // Taken, but the answer cannot be read: the points count as delivered.
    throw new ExportError(where, `unreadable answer: ${(error as Error).message}`, {
      protocol: "none",
    }, error);
  }
}

/** The `RetryInfo` delay of a `google.rpc.Status`, in ms. */
export function retryDelayOf(details: Uint8Array | undefined): number | undefined {
  if (details === undefined) return undefined;
  try {
    const status = fromBinary(StatusSchema, details);
    for (const any of status.details) {
      if (!any.typeUrl.endsWith("/google.rpc.RetryInfo")) continue;
      const delay = fromBinary(RetryInfoSchema, any.value).retryDelay;
      if (delay === undefined) continue;
      return Math.max(0, Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6));
    }
  } catch {
    // Unreadable details: no delay.
  }
  return undefined;
}

function statusMessage(bytes: Uint8Array): string {
  try {
    return fromBinary(StatusSchema, bytes).message;
  } catch {
    return "";
  }
}
