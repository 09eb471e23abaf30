/**
 * OTLP receivers on 127.0.0.1 for tests, built from the official opentelemetry-proto definitions
 * (v1.4.0, as `@elastic/mockotlpserver` ships them) and decoding with protobufjs - not with the
 * library the agent encodes with (`@bufbuild/protobuf`), so an encoding mistake cannot hide
 * behind a decoder that shares it:
 *
 * - {@linkcode startOtlpHttpReceiver}: `POST /v1/metrics` (`application/x-protobuf`, gzip or not);
 * - {@linkcode startOtlpGrpcReceiver}: a `@grpc/grpc-js` server implementing
 *   `opentelemetry.proto.collector.metrics.v1.MetricsService` (h2c).
 *
 * Both record what they took, flattened to points, and can be scripted to fail.
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { gunzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";

/** One data point as a receiver saw it. */
export interface ReceivedPoint {
  readonly metric: string;
  readonly unit: string;
  readonly type: "gauge" | "sum";
  /** Sums: 2 is cumulative. */
  readonly temporality?: number;
  readonly monotonic?: boolean;
  readonly attributes: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timeNs: bigint;
  readonly startNs: bigint;
}

/** One resource of one export request. */
export interface ReceivedResource {
  readonly resource: Readonly<Record<string, string>>;
  readonly scope: { readonly name: string; readonly version: string };
  readonly points: readonly ReceivedPoint[];
}

/** One request a receiver answered. */
export interface ReceivedExport {
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly resources: readonly ReceivedResource[];
  /** The status answered: HTTP, or the gRPC code. */
  readonly status: number;
}

/** A failure script: answer `status` (HTTP) or `code` (gRPC) while it holds. */
export interface FailureRule {
  readonly status: number;
  /** HTTP: `Retry-After` seconds; gRPC: a `RetryInfo` delay in seconds. */
  readonly retryAfterSeconds?: number;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order, failed ones included. */
  readonly requests: readonly ReceivedExport[];
  /** The points of the accepted requests. */
  accepted(): ReceivedResource[];
  /** Answers with the rule's failure until the returned function is called. */
  failWhile(rule: FailureRule): () => void;
  /** Answers the next accepted request with a partial success rejecting `count` points. */
  rejectNext(count: number, message: string): void;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
/** The directory holding `opentelemetry/proto/...`: the npm package's own. */
export const PROTO_DIR = dirname(require.resolve("@elastic/mockotlpserver/package.json"));
const SERVICE = "opentelemetry.proto.collector.metrics.v1";

// deno-lint-ignore no-explicit-any
type Json = any;

/** protobufjs' reflection of the official files, loaded once. */
async function protoRoot(): Promise<Json> {
  const { getProtoRoot } = await import("@elastic/mockotlpserver/lib/proto.js");
  return getProtoRoot();
}

/** Flattens a decoded request (protobufjs' `toObject` with longs as strings) to points. */
export function flatten(request: Json): ReceivedResource[] {
  const attrs = (list: Json[] | undefined) =>
    Object.fromEntries(
      (list ?? []).map((kv: Json) => [kv.key, String(Object.values(kv.value ?? {})[0])]),
    );
  return (request.resourceMetrics ?? []).map((rm: Json) => {
    const points: ReceivedPoint[] = [];
    const scopes = rm.scopeMetrics ?? [];
    for (const sm of scopes) {
      for (const m of sm.metrics ?? []) {
        const data = m.sum ?? m.gauge;
        const type = m.sum ? "sum" : "gauge";
        for (const p of data?.dataPoints ?? []) {
          points.push({
            metric: m.name,
            unit: m.unit ?? "",
            type,
            ...(m.sum
              ? {
                temporality: Number(m.sum.aggregationTemporality ?? 0),
                monotonic: m.sum.isMonotonic ?? false,
              }
              : {}),
            attributes: attrs(p.attributes),
            value: p.asDouble !== undefined && p.asDouble !== null
              ? Number(p.asDouble)
              : Number(p.asInt ?? 0),
            timeNs: BigInt(p.timeUnixNano ?? 0),
            startNs: BigInt(p.startTimeUnixNano ?? 0),
          });
        }
      }
    }
    const scope = scopes[0]?.scope ?? {};
    return {
      resource: attrs(rm.resource?.attributes),
      scope: { name: scope.name ?? "", version: scope.version ?? "" },
      points,
    };
  });
}

/** Common bookkeeping of both receivers. */
function recorder() {
  const requests: ReceivedExport[] = [];
  const rules: FailureRule[] = [];
  let reject: { count: number; message: string } | undefined;
  return {
    requests,
    rules,
    takeReject() {
      const r = reject;
      reject = undefined;
      return r;
    },
    api: {
      requests,
      accepted: () =>
        requests.filter((r) => r.status === 200 || r.status === 0).flatMap((r) => r.resources),
      failWhile(rule: FailureRule) {
        rules.push(rule);
        return () => {
          const i = rules.indexOf(rule);
          if (i >= 0) rules.splice(i, 1);
        };
      },
      rejectNext(count: number, message: string) {
        reject = { count, message };
      },
    },
  };
}

/** Starts an OTLP/HTTP receiver (`POST /v1/metrics`) on an ephemeral loopback port. */
export async function startOtlpHttpReceiver(): Promise<OtlpReceiver> {
  const root = await protoRoot();
  const Request = root.lookupType(`${SERVICE}.ExportMetricsServiceRequest`);
  const Response_ = root.lookupType(`${SERVICE}.ExportMetricsServiceResponse`);
  const r = recorder();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    let bytes = new Uint8Array(await req.arrayBuffer());
    if (req.method !== "POST" || url.pathname !== "/v1/metrics") {
      return new Response("not found", { status: 404 });
    }
    if (req.headers.get("content-encoding") === "gzip") bytes = new Uint8Array(gunzipSync(bytes));
    const headers = Object.fromEntries(req.headers);
    const resources = flatten(Request.toObject(Request.decode(bytes), { longs: String }));
    const rule = r.rules[0];
    if (rule) {
      r.requests.push({ headers, resources, status: rule.status });
      return new Response("unavailable", {
        status: rule.status,
        headers: rule.retryAfterSeconds === undefined
          ? {}
          : { "retry-after": String(rule.retryAfterSeconds) },
      });
    }
    r.requests.push({ headers, resources, status: 200 });
    const rejected = r.takeReject();
    const body = Response_.encode(Response_.fromObject(
      rejected
        ? { partialSuccess: { rejectedDataPoints: rejected.count, errorMessage: rejected.message } }
        : {},
    )).finish();
    return new Response(body, { headers: { "content-type": "application/x-protobuf" } });
  });
  const port = server.addr.port;
  return {
    ...r.api,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => server.shutdown(),
  };
}

/** Starts a gRPC `MetricsService` (h2c) on an ephemeral loopback port. */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const definition = loader.loadSync(
    "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
    { includeDirs: [PROTO_DIR], longs: String, defaults: false, oneofs: true },
  );
  const statusBytes = retryInfoEncoder();
  const pkg = grpc.loadPackageDefinition(definition) as Json;
  const r = recorder();
  const server = new grpc.Server();
  server.addService(pkg.opentelemetry.proto.collector.metrics.v1.MetricsService.service, {
    Export(call: Json, callback: Json) {
      const headers = Object.fromEntries(
        Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]),
      );
      const resources = flatten(call.request);
      const rule = r.rules[0];
      if (rule) {
        r.requests.push({ headers, resources, status: rule.status });
        const metadata = new grpc.Metadata();
        if (rule.retryAfterSeconds !== undefined) {
          metadata.set(
            "grpc-status-details-bin",
            Buffer.from(statusBytes(rule.status, rule.retryAfterSeconds)),
          );
        }
        callback({ code: rule.status, details: "scripted failure", metadata });
        return;
      }
      r.requests.push({ headers, resources, status: 0 });
      const rejected = r.takeReject();
      callback(
        null,
        rejected
          ? {
            partialSuccess: { rejectedDataPoints: rejected.count, errorMessage: rejected.message },
          }
          : {},
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (error, p) => error ? reject(error) : resolve(p),
    )
  );
  return {
    ...r.api,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 1000);
      }),
  };
}

/**
 * Encodes a `google.rpc.Status` carrying a `google.rpc.RetryInfo`, declared here from the field
 * numbers of google/rpc/status.proto and error_details.proto (protobufjs reflection).
 */
function retryInfoEncoder(): (code: number, seconds: number) => Uint8Array {
  // The protobufjs the receivers' definitions were loaded with.
  const protobuf = createRequire(`${PROTO_DIR}/lib/proto.js`)("protobufjs");
  const rpc = protobuf.Root.fromJSON({
    nested: {
      google: {
        nested: {
          protobuf: {
            nested: {
              Any: {
                fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } },
              },
              Duration: {
                fields: { seconds: { type: "int64", id: 1 }, nanos: { type: "int32", id: 2 } },
              },
            },
          },
          rpc: {
            nested: {
              Status: {
                fields: {
                  code: { type: "int32", id: 1 },
                  message: { type: "string", id: 2 },
                  details: { rule: "repeated", type: "google.protobuf.Any", id: 3 },
                },
              },
              RetryInfo: { fields: { retry_delay: { type: "google.protobuf.Duration", id: 1 } } },
            },
          },
        },
      },
    },
  });
  const Status = rpc.lookupType("google.rpc.Status");
  const RetryInfo = rpc.lookupType("google.rpc.RetryInfo");
  return (code, seconds) => {
    const info = RetryInfo.encode(RetryInfo.fromObject({ retry_delay: { seconds } })).finish();
    return Status.encode(Status.fromObject({
      code,
      message: "scripted failure",
      details: [{ type_url: "type.googleapis.com/google.rpc.RetryInfo", value: info }],
    })).finish();
  };
}
