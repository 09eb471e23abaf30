import assert from "node:assert/strict";
import { defaultConfig, type OtlpConfig } from "../../src/config/schema.ts";
import { encodeExport, encodeExports, type OtlpMetric } from "../../src/otlp/encode.ts";
import { ExportError } from "../../src/otlp/export_error.ts";
import { createExporter, resolveTarget } from "../../src/otlp/exporter.ts";
import {
  type OtlpReceiver,
  startOtlpGrpcReceiver,
  startOtlpHttpReceiver,
} from "../support/otlp_receivers.ts";

const otlp = (o: Partial<OtlpConfig> = {}): OtlpConfig => ({
  ...defaultConfig().otlp,
  enabled: true,
  ...o,
});

const GAUGE: OtlpMetric = {
  name: "custom.x",
  unit: "1",
  description: "",
  type: "gauge",
  points: [{ value: 1.5, timeNs: 1_700_000_000_000_000_000n, attributes: { a: "b" } }],
};
const scope = { name: "mackerel-agent", version: "0.0.0" };
const body = encodeExport([{ resource: { "host.name": "h" }, metrics: [GAUGE] }], scope);

async function exportTo(receiver: OtlpReceiver, config: Partial<OtlpConfig>) {
  const exporter = createExporter({
    target: resolveTarget(otlp({ endpoint: receiver.url, ...config }), "key"),
    userAgent: "test",
  });
  try {
    return await exporter.export(body, new AbortController().signal);
  } finally {
    exporter.close();
  }
}

/** The export failure an export ends with. */
async function failureOf(run: Promise<unknown>) {
  const error = await run.then(() => undefined, (e) => e);
  assert.ok(error instanceof ExportError, `expected an ExportError, got ${error}`);
  return { failure: error.exportFailure, message: error.message };
}

Deno.test("exporter: a bare [otlp] sends to Mackerel over gRPC with TLS and the API key", () => {
  const target = resolveTarget(otlp(), "secret");
  assert.equal(target.protocol, "grpc");
  assert.equal(target.url.href, "https://otlp.mackerelio.com:4317/");
  assert.deepEqual(target.headers, [["mackerel-api-key", "secret"]]);
  assert.equal(target.gzip, true);
  assert.equal(target.timeoutMs, 10_000);
});

Deno.test("exporter: endpoints resolve as OpenTelemetry's exporters read them", () => {
  const http = resolveTarget(
    otlp({ endpoint: "http://127.0.0.1:4318/", protocol: "http/protobuf", compression: "none" }),
    "k",
  );
  assert.equal(http.url.href, "http://127.0.0.1:4318/v1/metrics");
  assert.deepEqual(http.headers, []);
  assert.equal(http.gzip, false);
  assert.equal(
    resolveTarget(otlp({ endpoint: "gw.local:4317" }), "k").url.href,
    "https://gw.local:4317/",
  );
  const headers = resolveTarget(otlp({ headers: [["X-Tenant", "a"]] }), "k").headers;
  assert.deepEqual(headers, [["x-tenant", "a"], ["mackerel-api-key", "k"]]);
  const fail = (o: Partial<OtlpConfig>, reason: RegExp) =>
    assert.throws(() => resolveTarget(otlp(o), "k"), reason);
  fail(
    { protocol: "http/protobuf" },
    /needs an endpoint: Mackerel's OTLP endpoint takes metrics over gRPC only/,
  );
  fail({ endpoint: "ftp://x" }, /must be http:\/\/ or https:\/\//);
  fail({ endpoint: "http://[x" }, /is not a URL/);
  fail({ headers: [["bad name", "v"]] }, /\[otlp.headers\] "bad name" is not a valid header/);
  fail({ headers: [["x", "a\r\nb"]] }, /is not a valid header/);
});

Deno.test("exporter: a request larger than the limit is split by metrics", () => {
  const metrics = Array.from({ length: 8 }, (_, i) => ({ ...GAUGE, name: `custom.m${i}` }));
  const whole = encodeExports({ resource: {}, metrics }, scope, 1 << 20);
  assert.equal(whole.length, 1);
  assert.equal(whole[0].points, 8);
  const parts = encodeExports({ resource: {}, metrics }, scope, whole[0].body.length / 3);
  assert.ok(parts.length >= 3);
  assert.ok(parts.every((p) => p.body.length <= whole[0].body.length / 3));
  assert.equal(parts.reduce((n, p) => n + p.points, 0), 8);
});

for (
  const [name, start, protocol] of [
    ["gRPC", startOtlpGrpcReceiver, "grpc"],
    ["HTTP", startOtlpHttpReceiver, "http/protobuf"],
  ] as const
) {
  Deno.test(`exporter (${name}): the receiver decodes what was encoded; a partial success is counted`, async () => {
    const receiver = await start();
    try {
      assert.deepEqual(await exportTo(receiver, { protocol }), { rejected: 0, message: "" });
      receiver.rejectNext(3, "bad points");
      assert.deepEqual(await exportTo(receiver, { protocol, compression: "none" }), {
        rejected: 3,
        message: "bad points",
      });
      const [first, second] = receiver.accepted();
      assert.deepEqual(first, second, "gzip or not, the same request");
      assert.deepEqual(first, {
        resource: { "host.name": "h" },
        scope,
        points: [{
          metric: "custom.x",
          unit: "1",
          type: "gauge",
          attributes: { a: "b" },
          value: 1.5,
          timeNs: 1_700_000_000_000_000_000n,
          startNs: 0n,
        }],
      });
    } finally {
      await receiver.close();
    }
  });
}

Deno.test("exporter (gRPC): UNAVAILABLE with RetryInfo, INVALID_ARGUMENT, and no answer", async () => {
  const receiver = await startOtlpGrpcReceiver();
  try {
    const stop = receiver.failWhile({ status: 14, retryAfterSeconds: 7 });
    const unavailable = await failureOf(exportTo(receiver, {}));
    assert.deepEqual(unavailable.failure, { protocol: "grpc", code: 14, retryAfterMs: 7000 });
    assert.match(unavailable.message, /UNAVAILABLE \(14\): scripted failure/);
    stop();
    receiver.failWhile({ status: 3 });
    assert.deepEqual((await failureOf(exportTo(receiver, {}))).failure, {
      protocol: "grpc",
      code: 3,
    });
  } finally {
    await receiver.close();
  }
  // Nobody listens any more.
  assert.deepEqual((await failureOf(exportTo(receiver, {}))).failure, { protocol: "none" });
});

Deno.test("exporter (HTTP): 503 with Retry-After, 400, and no answer", async () => {
  const receiver = await startOtlpHttpReceiver();
  try {
    const stop = receiver.failWhile({ status: 503, retryAfterSeconds: 3 });
    assert.deepEqual((await failureOf(exportTo(receiver, { protocol: "http/protobuf" }))).failure, {
      protocol: "http",
      status: 503,
      retryAfterMs: 3000,
    });
    stop();
    receiver.failWhile({ status: 400 });
    assert.deepEqual((await failureOf(exportTo(receiver, { protocol: "http/protobuf" }))).failure, {
      protocol: "http",
      status: 400,
    });
  } finally {
    await receiver.close();
  }
  const gone = await failureOf(exportTo(receiver, { protocol: "http/protobuf" }));
  assert.deepEqual(gone.failure, { protocol: "none" });
});

Deno.test("exporter (gRPC): an abort ends the call at once, as no answer", async () => {
  const receiver = await startOtlpGrpcReceiver();
  try {
    const exporter = createExporter({
      target: resolveTarget(otlp({ endpoint: receiver.url }), "key"),
      userAgent: "test",
    });
    const aborted = AbortSignal.abort();
    const { failure, message } = await failureOf(exporter.export(body, aborted));
    assert.deepEqual(failure, { protocol: "none" });
    assert.match(message, /aborted/);
  } finally {
    await receiver.close();
  }
});

/** A TCP relay to `port` on loopback that counts the connections it is given. */
function countingRelay(port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const pipes: Promise<unknown>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
      pipes.push(
        Promise.allSettled([
          conn.readable.pipeTo(upstream.writable),
          upstream.readable.pipeTo(conn.writable),
        ]),
      );
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    connections: () => connections,
    async close() {
      listener.close();
      await accepting;
      await Promise.allSettled(pipes);
    },
  };
}

Deno.test("exporter (gRPC): calls that follow each other share one connection; a closed exporter's is gone", async () => {
  const receiver = await startOtlpGrpcReceiver();
  const relay = countingRelay(receiver.port);
  try {
    const exporter = createExporter({
      target: resolveTarget(otlp({ endpoint: relay.url }), "key"),
      userAgent: "test",
    });
    const signal = new AbortController().signal;
    await exporter.export(body, signal);
    await exporter.export(body, signal);
    await exporter.export(body, signal);
    assert.equal(relay.connections(), 1);
    exporter.close();
    const next = createExporter({
      target: resolveTarget(otlp({ endpoint: relay.url }), "key"),
      userAgent: "test",
    });
    await next.export(body, signal);
    next.close();
    assert.equal(relay.connections(), 2);
    assert.equal(receiver.accepted().length, 4);
  } finally {
    await receiver.close();
    await relay.close();
  }
});
