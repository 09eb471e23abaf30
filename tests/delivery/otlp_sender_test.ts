import assert from "node:assert/strict";
import { createOtlpSender, type ExportResult } from "../../src/delivery/otlp_sender.ts";
import { classifyFailure, type ExportFailure } from "../../src/delivery/policy.ts";
import { openSpool } from "../../src/delivery/spool.ts";
import { ExportError } from "../../src/otlp/export_error.ts";
import { withLogs } from "../support/logs.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";

const START = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;
const failure = (f: ExportFailure) => new ExportError("test", "scripted", f);

/** A sender over a memory spool whose `send` answers from a script and records what it got. */
async function start(answers: (ExportResult | Error)[], maxBatchBytes?: number) {
  const clock = createVirtualClock(START);
  const { spool } = await openSpool({ maxBytes: 1 << 30, maxAgeMs: 24 * 60 * MINUTE, clock });
  const sent: { at: number; body: number[] }[] = [];
  const events: string[] = [];
  const sender = createOtlpSender({
    spool,
    clock,
    minuteMs: MINUTE,
    maxBatchBytes,
    events: {
      delivered: (kind, n) => events.push(`delivered ${kind} ${n}`),
      failed: (kind) => events.push(`failed ${kind}`),
      refused: (kind, n) => events.push(`refused ${kind} ${n}`),
    },
    send(body) {
      sent.push({ at: clock.now() - START, body: [...body] });
      const answer = answers.shift() ?? { rejected: 0, message: "" };
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  });
  const stop = new AbortController();
  const force = new AbortController();
  const running = sender.run(stop.signal, force.signal);
  return { clock, spool, sender, sent, events, stop: () => (stop.abort(), running) };
}

Deno.test("otlp_sender: records waiting together go in one request, concatenated, under the limit", async () => {
  const s = await start([], 4);
  await s.spool.put({ kind: "otlp", body: new Uint8Array([1, 2]), count: 3 });
  await s.spool.put({ kind: "otlp", body: new Uint8Array([3, 4]), count: 4 });
  await s.spool.put({ kind: "otlp", body: new Uint8Array([5]), count: 1 });
  await s.clock.run(s.clock.advance(MINUTE));
  // 2 + 2 bytes fit the limit of 4; the third goes in the next request.
  assert.deepEqual(s.sent.map((x) => x.body), [[1, 2, 3, 4], [5]]);
  assert.deepEqual(s.events, ["delivered otlp 7", "delivered otlp 1"]);
  assert.equal(s.spool.entries("otlp").length, 0);
  await s.clock.run(s.stop());
});

Deno.test("otlp_sender: a put is sent at once, not at the next minute", async () => {
  const s = await start([]);
  await s.sender.put(new Uint8Array([9]), 1);
  await s.clock.run(s.clock.advance(0));
  assert.deepEqual(s.sent, [{ at: 0, body: [9] }]);
  await s.clock.run(s.stop());
});

Deno.test("otlp_sender: a partial success is delivered, and its rejected points logged and counted", async () => {
  await withLogs(async (lines) => {
    const s = await start([{ rejected: 2, message: "bad names" }]);
    await s.sender.put(new Uint8Array([1]), 5);
    await s.clock.run(s.clock.advance(0));
    assert.deepEqual(s.events, ["delivered otlp 3", "refused otlp 2"]);
    assert.ok(
      lines.some((l) => l.includes("the OTLP endpoint rejected 2 of 5 points: bad names")),
      lines.join("\n"),
    );
    await s.clock.run(s.stop());
  });
});

Deno.test("otlp_sender: a transient failure keeps the export and waits for RetryInfo's delay", async () => {
  await withLogs(async () => {
    const s = await start([failure({ protocol: "grpc", code: 14, retryAfterMs: 5 * MINUTE })]);
    await s.sender.put(new Uint8Array([1]), 1);
    await s.clock.run(s.clock.advance(0));
    await s.sender.put(new Uint8Array([2]), 1); // no wake during the backoff
    await s.clock.run(s.clock.advance(5 * MINUTE - 1));
    assert.equal(s.sent.length, 1);
    await s.clock.run(s.clock.advance(1));
    assert.deepEqual(s.sent.map((x) => [x.at, x.body]), [[0, [1]], [5 * MINUTE, [1, 2]]]);
    assert.deepEqual(s.events, ["failed otlp", "delivered otlp 2"]);
    await s.clock.run(s.stop());
  });
});

Deno.test("otlp_sender: a permanent failure drops the export with an ERROR and its count", async () => {
  await withLogs(async (lines) => {
    const s = await start([failure({ protocol: "grpc", code: 3 })]);
    await s.sender.put(new Uint8Array([1]), 4);
    await s.clock.run(s.clock.advance(0));
    assert.equal(s.spool.entries("otlp").length, 0);
    assert.deepEqual(s.events, ["refused otlp 4"]);
    assert.ok(lines.some((l) => l.includes("refused 1 exports (4 points), dropped")));
    await s.clock.run(s.stop());
  });
});

Deno.test("otlp_sender: at stop a failing endpoint leaves the exports in the spool", async () => {
  await withLogs(async (lines) => {
    const s = await start([failure({ protocol: "none" }), failure({ protocol: "none" })]);
    await s.sender.put(new Uint8Array([1]), 1);
    await s.clock.run(s.clock.advance(0));
    await s.clock.run(s.stop());
    assert.equal(s.spool.entries("otlp").length, 1);
    assert.ok(lines.some((l) => l.includes("1 OTLP exports could not be sent before the stop")));
  });
});

Deno.test("policy: OTLP failures follow the specification's retryable codes and statuses", () => {
  const kind = (f: ExportFailure) => classifyFailure(failure(f), MINUTE);
  for (const code of [4, 8, 10, 14]) {
    assert.deepEqual(kind({ protocol: "grpc", code }), { kind: "transient" }, `code ${code}`);
  }
  for (const code of [1, 2, 3, 5, 12, 13]) {
    assert.deepEqual(kind({ protocol: "grpc", code }), { kind: "permanent", splittable: false });
  }
  // A refused key (PERMISSION_DENIED, UNAUTHENTICATED, 403, 401) keeps the data, as for the API.
  for (const code of [7, 16]) {
    assert.deepEqual(kind({ protocol: "grpc", code }), { kind: "transient", credentials: true });
  }
  for (const status of [401, 403]) {
    assert.deepEqual(kind({ protocol: "http", status }), { kind: "transient", credentials: true });
  }
  for (const status of [429, 502, 503, 504]) {
    assert.deepEqual(kind({ protocol: "http", status }), { kind: "transient" }, `${status}`);
  }
  for (const status of [400, 404, 408, 413, 500]) {
    assert.deepEqual(kind({ protocol: "http", status }), { kind: "permanent", splittable: false });
  }
  assert.deepEqual(kind({ protocol: "none" }), { kind: "transient" });
  // RetryInfo and Retry-After are honoured up to ten minutes.
  assert.deepEqual(kind({ protocol: "http", status: 503, retryAfterMs: 3000 }), {
    kind: "transient",
    retryAfterMs: 3000,
  });
  assert.deepEqual(kind({ protocol: "grpc", code: 8, retryAfterMs: 3 * 3600_000 }), {
    kind: "transient",
    retryAfterMs: 10 * MINUTE,
  });
});
