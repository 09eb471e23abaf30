import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import type { ProcessKind } from "../../src/agent/pidfile.ts";
import { createStatus, type StatusDocument } from "../../src/agent/status.ts";
import {
  type Assessment,
  assessStatus,
  staleAfterMs,
  type StatusEvidence,
} from "../../src/agent/status_verdict.ts";
import { statusDocumentProblem } from "../../src/agent/status_file.ts";
import { KINDS } from "../../src/delivery/record.ts";
import { ApiError } from "../../src/mackerel/errors.ts";
import { ExportError } from "../../src/otlp/export_error.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
/** The verdict on `doc` when no lock is held and its pid runs `kind` of process. */
const assess = (doc: StatusDocument, nowMs: number, kind: ProcessKind = "agent") =>
  assessStatus({
    root: "/r",
    file: { kind: "valid", doc, text: "" },
    lock: { held: false },
    process: () => kind,
    nowMs,
  });

Deno.test("status: the file says what was posted, what failed and each collector's last run", async () => {
  await withTempDir("status", async (root) => {
    await withLogs(async (lines) => {
      const clock = createVirtualClock(T0);
      const status = createStatus({ root, clock, minuteMs: MIN, mode: "api", hostId: "h1" });
      status.events.delivered("metrics", 40);
      status.ran("collectors", "cpu");
      status.ran("collectors", "disk", new Error("timed out after 30 seconds"));
      status.ran("plugins", "checks.ssh");
      await clock.advance(MIN);
      status.events.failed("metrics", new Error("API request failed: 503"));
      status.events.refused("checks", 2, new Error("API request failed: 403"));
      await status.write();
      const doc: StatusDocument = JSON.parse(await Deno.readTextFile(join(root, "status.json")));
      assert.equal(doc.pid, Deno.pid);
      assert.equal(doc.hostId, "h1");
      assert.equal(doc.startedAt, new Date(T0).toISOString());
      assert.equal(doc.updatedAt, new Date(T0 + MIN).toISOString());
      assert.equal(doc.delivery.lastSuccessAt, new Date(T0).toISOString());
      assert.equal(doc.delivery.failingSince, new Date(T0 + MIN).toISOString());
      assert.equal(doc.delivery.lastError, "API request failed: 403");
      assert.deepEqual(doc.delivery.kinds.metrics, {
        delivered: 40,
        refused: 0,
        lastDeliveredAt: new Date(T0).toISOString(),
        failingSince: new Date(T0 + MIN).toISOString(),
      });
      assert.deepEqual(doc.delivery.kinds.checks, {
        delivered: 0,
        refused: 2,
        lastRefusedAt: new Date(T0 + MIN).toISOString(),
      });
      assert.equal(doc.collectors.cpu.failures, 0);
      assert.equal(doc.collectors.disk.lastError, "timed out after 30 seconds");
      assert.deepEqual(lines, [
        "INFO <main> Posting metrics to Mackerel is failing (API request failed: 503); what is " +
        "collected is kept and posted when it recovers",
      ]);
      const verdict = assess(doc, T0 + MIN);
      assert.equal(verdict.state, "degraded");
      assert.deepEqual(verdict.reasons, [
        "posting metrics has failed since 2024-01-01T00:01:00.000Z: API request failed: 403",
        "the API refuses checks (last at 2024-01-01T00:01:00.000Z): API request failed: 403",
        "collector disk is failing: timed out after 30 seconds",
      ]);
    });
  });
});

Deno.test("status: one line when posting recovers, one when the backlog is posted, one an hour", async () => {
  await withTempDir("status", async (root) => {
    await withLogs(async (lines) => {
      const clock = createVirtualClock(T0);
      let waiting = 120;
      const status = createStatus({
        root,
        clock,
        minuteMs: MIN,
        mode: "api",
        outbox: () => ({
          spool: {
            durable: true,
            pending: {
              metrics: { records: 3, count: waiting },
              checks: { records: 0, count: 0 },
              metadata: { records: 0, count: 0 },
              graphdefs: { records: 0, count: 0 },
              otlp: { records: 0, count: 0 },
            },
            bytesHeld: 4000,
            bytesOnDisk: 4096,
            bytesInMemory: 0,
            dropped: {
              full: { records: 0, count: 0 },
              expired: { records: 1, count: 40 },
              unreadable: { records: 0, count: 0 },
              damaged: { records: 0, count: 0 },
            },
          },
          queuedRounds: waiting / 40,
          queuedPoints: waiting,
          invalidPoints: 0,
        }),
      });
      status.events.failed("metrics", new Error("down"));
      await clock.advance(10 * MIN);
      status.events.delivered("metrics", 80);
      waiting = 40;
      await status.write();
      waiting = 0;
      status.events.delivered("metrics", 40);
      await status.write();
      await clock.advance(50 * MIN);
      await status.write();
      assert.deepEqual(lines.slice(1), [
        "INFO <main> Posting metrics to Mackerel recovered after 10 minutes of failures; 120 " +
        "points still wait to be posted",
        "INFO <main> The backlog is posted: 120 points since the recovery",
        "INFO <main> In the last hour: 120 points posted in 2 requests, dropped in all: 40 " +
        "expired; waiting: 0 rounds (0 points), 4096 bytes on disk",
      ]);
      const doc = status.document();
      assert.equal(assess(doc, clock.now()).state, "healthy");
    });
  });
});

Deno.test("status: whether an agent runs comes from the lock and the pid, never from the file's age", () => {
  const doc = createStatus({
    root: "/nonexistent",
    clock: createVirtualClock(T0),
    minuteMs: MIN,
    mode: "stdout",
  }).document();
  const file = (d: StatusDocument) =>
    ({ kind: "valid", doc: { ...d, pid: 100 }, text: "" }) as const;
  const stopped = { ...doc, stoppedAt: doc.updatedAt };
  const problem = "/r/status.json is not a status file: delivery is null, expected an object";
  const stale = "status file stale since 2024-01-01T00:00:00.000Z (the agent cannot write /r: " +
    "full or read-only?); its spool may be in memory";
  const processes: Record<number, ProcessKind> = { 100: "agent", 200: "agent", 300: "gone" };
  const verdict = (e: Partial<StatusEvidence>, kind?: ProcessKind) =>
    assessStatus({
      root: "/r",
      file: file(doc),
      lock: { held: false },
      process: (pid) => kind ?? processes[pid] ?? "gone",
      nowMs: T0,
      ...e,
    });
  const cases: [string, Partial<StatusEvidence>, ProcessKind | undefined, Assessment][] = [
    ["fresh, an agent", {}, undefined, {
      state: "healthy",
      reasons: [],
      pid: 100,
      current: true,
    }],
    ["fresh, gone", {}, "gone", {
      state: "stopped",
      reasons: ["process 100 is gone"],
      current: false,
    }],
    ["fresh, its pid reused", {}, "other", {
      state: "stopped",
      reasons: ["process 100 is not a mackerel-agent"],
      current: false,
    }],
    ["stale, an agent (a full root)", { nowMs: T0 + 4 * MIN }, undefined, {
      state: "degraded",
      reasons: [`${stale}; what follows is as of then`],
      pid: 100,
      current: true,
    }],
    ["stale, gone", { nowMs: T0 + 4 * MIN }, "gone", {
      state: "stopped",
      reasons: ["process 100 is gone"],
      current: false,
    }],
    ["stopped", { file: file(stopped) }, undefined, {
      state: "stopped",
      reasons: ["stopped at 2024-01-01T00:00:00.000Z"],
      current: false,
    }],
    ["no file", { file: { kind: "missing" } }, undefined, {
      state: "stopped",
      reasons: ["no agent has run for it (no /r/status.json)"],
      current: false,
    }],
    [
      "not a status file, naming a live agent",
      {
        file: { kind: "invalid", problem, pid: 100 },
      },
      undefined,
      { state: "degraded", reasons: [problem], pid: 100, current: false },
    ],
    ["not a status file, naming no pid", { file: { kind: "invalid", problem } }, undefined, {
      state: "stopped",
      reasons: [problem],
      current: false,
    }],
    ["unreadable", { file: { kind: "unreadable", problem: "cannot read" } }, undefined, {
      state: "unknown",
      reasons: ["cannot read"],
      current: false,
    }],
    ["fresh, no /proc to ask", {}, "unknown", {
      state: "healthy",
      reasons: [],
      pid: 100,
      current: true,
    }],
    ["stale, no /proc to ask", { nowMs: T0 + 4 * MIN }, "unknown", {
      state: "unknown",
      reasons: [
        "no update since 2024-01-01T00:00:00.000Z, and whether process 100 runs cannot be " +
        "checked here",
      ],
      current: false,
    }],
    [
      "locked by the file's agent, stale",
      {
        lock: { held: true, pid: 100, takenAt: T0 - MIN },
        nowMs: T0 + 4 * MIN,
      },
      undefined,
      {
        state: "degraded",
        reasons: [`${stale}; what follows is as of then`],
        pid: 100,
        current: true,
      },
    ],
    [
      "locked by a new agent, just started",
      {
        file: file(stopped),
        lock: { held: true, pid: 200, takenAt: T0 + MIN },
        nowMs: T0 + MIN + 1000,
      },
      undefined,
      {
        state: "degraded",
        reasons: [
          "starting since 2024-01-01T00:01:00.000Z: no status written yet (it is written after " +
          "every round)",
        ],
        pid: 200,
        current: false,
      },
    ],
    [
      "locked by a new agent that cannot write its file",
      {
        file: file(stopped),
        lock: { held: true, pid: 200, takenAt: T0 + MIN },
        nowMs: T0 + 10 * MIN,
      },
      undefined,
      { state: "degraded", reasons: [stale], pid: 200, current: false },
    ],
    [
      "locked, the lock file kept by a read-only root",
      {
        file: file(stopped),
        lock: { held: true, pid: 300, takenAt: T0 - MIN },
        nowMs: T0 + MIN,
      },
      "gone",
      { state: "degraded", reasons: [stale], current: false },
    ],
    [
      "locked, no file yet",
      {
        file: { kind: "missing" },
        lock: { held: true, pid: 200, takenAt: T0 },
      },
      undefined,
      {
        state: "degraded",
        reasons: [
          "starting since 2024-01-01T00:00:00.000Z: no status written yet (it is written after " +
          "every round)",
        ],
        pid: 200,
        current: false,
      },
    ],
    [
      "locked, no file for long",
      {
        file: { kind: "missing" },
        lock: { held: true, pid: 200, takenAt: T0 },
        nowMs: T0 + 10 * MIN,
      },
      undefined,
      {
        state: "degraded",
        reasons: [
          "no status file (the agent cannot write /r: full or read-only?); its spool may be in " +
          "memory",
        ],
        pid: 200,
        current: false,
      },
    ],
    [
      "locked, not a status file",
      {
        file: { kind: "invalid", problem, pid: 1 },
        lock: { held: true, pid: 200 },
      },
      undefined,
      { state: "degraded", reasons: [problem], pid: 200, current: false },
    ],
    [
      "locked by the file's agent, which is exiting",
      {
        file: file(stopped),
        lock: { held: true, pid: 100 },
      },
      undefined,
      {
        state: "stopped",
        reasons: ["stopped at 2024-01-01T00:00:00.000Z; process 100 is exiting"],
        current: true,
      },
    ],
    ["locked, the lock file unreadable", { lock: { held: true } }, undefined, {
      state: "healthy",
      reasons: [],
      pid: 100,
      current: true,
    }],
  ];
  for (const [name, evidence, kind, expected] of cases) {
    assert.deepEqual(verdict(evidence, kind), expected, name);
  }
});

Deno.test("status: a fresh file is healthy for three and a half of the agent's minutes", () => {
  const doc = createStatus({
    root: "/nonexistent",
    clock: createVirtualClock(T0),
    minuteMs: MIN,
    mode: "stdout",
  }).document();
  assert.equal(assess(doc, T0 + 3.5 * MIN).state, "healthy");
  assert.equal(assess(doc, T0 + 3.5 * MIN + 1).state, "degraded");
  assert.equal(staleAfterMs(1000), 6000, "a one-second minute still gets a few seconds");
});

Deno.test("status: an unwritable root is said once, and the agent goes on", async () => {
  await withLogs(async (lines) => {
    const clock = createVirtualClock(T0);
    const file = await Deno.makeTempFile();
    try {
      const status = createStatus({ root: join(file, "root"), clock, minuteMs: MIN, mode: "api" });
      await status.write();
      await status.write();
      assert.equal(lines.filter((l) => l.startsWith("WARNING")).length, 1, lines.join("\n"));
    } finally {
      await Deno.remove(file);
    }
  });
});

Deno.test("status: each kind fails on its own; refusals degrade; removed plugins are forgotten", async () => {
  await withLogs(async (lines) => {
    const clock = createVirtualClock(T0);
    const status = createStatus({ root: "/nonexistent", clock, minuteMs: MIN, mode: "api" });
    status.events.failed("metrics", new Error("503"));
    status.events.delivered("checks", 1); // reports still go through: metrics still fail
    await clock.advance(MIN);
    status.events.delivered("checks", 1);
    assert.equal(assess(status.document(), clock.now()).state, "degraded");
    assert.equal(lines.filter((l) => l.includes("recovered")).length, 0, lines.join("\n"));
    status.events.delivered("metrics", 10);
    assert.equal(assess(status.document(), clock.now()).state, "healthy");

    // A read-only key: every post refused, nothing retried. Not healthy.
    await clock.advance(MIN);
    status.events.refused("metrics", 10, new Error("API request failed: Forbidden"));
    const refused = assess(status.document(), clock.now());
    assert.equal(refused.state, "degraded");
    assert.match(refused.reasons[0], /^the API refuses metrics/);
    status.events.delivered("metrics", 10);

    status.ran("plugins", "metrics.old", new Error("command timed out"));
    status.ran("plugins", "checks.kept");
    assert.equal(assess(status.document(), clock.now()).state, "degraded");
    status.retain("plugins", ["checks.kept"]);
    assert.deepEqual(Object.keys(status.document().plugins), ["checks.kept"]);
    assert.equal(assess(status.document(), clock.now()).state, "healthy");
  });
});

Deno.test("status: writes never overlap (one temp file, no half-written file to read)", async () => {
  await withTempDir("status", async (root) => {
    await withLogs(async (lines) => {
      const status = createStatus({
        root,
        clock: createVirtualClock(T0),
        minuteMs: MIN,
        mode: "api",
      });
      await Promise.all(Array.from({ length: 50 }, () => status.write()));
      assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), []);
      JSON.parse(await Deno.readTextFile(join(root, "status.json")));
    });
  });
});

Deno.test("status: a refused API key is one ERROR an episode, a reason while it lasts, kept data", async () => {
  await withLogs(async (lines) => {
    const clock = createVirtualClock(T0);
    const status = createStatus({ root: "/nonexistent", clock, minuteMs: MIN, mode: "api" });
    const refused = (status: number, path = "/api/v0/tsdb") =>
      new ApiError({ method: "POST", path, status, reason: status === 401 ? "Unauthorized" : "x" });
    const errors = () => lines.filter((l) => l.startsWith("ERROR"));
    for (let i = 0; i < 3; i++) {
      status.events.failed("metrics", refused(401));
      await clock.advance(MIN);
    }
    assert.deepEqual(lines, [
      "ERROR <main> Posting metrics to Mackerel: the API refuses the API key (401 Unauthorized); " +
      "what is collected is kept in the spool, within its bounds, and posted once the key works " +
      "again: API request failed: Unauthorized (POST /api/v0/tsdb)",
    ]);
    const since = new Date(T0).toISOString();
    assert.deepEqual(status.document().delivery.kinds.metrics.keyRefused, {
      since,
      answer: "401 Unauthorized",
    });
    assert.deepEqual(assess(status.document(), clock.now()).reasons, [
      `the API refuses the API key since ${since} (401 Unauthorized) when posting metrics: what ` +
      "is collected is kept in the spool",
    ]);

    // An outage in between: the reason says what fails now; the episode goes on (no new line).
    status.events.failed("metrics", refused(503));
    assert.equal(status.document().delivery.kinds.metrics.keyRefused, undefined);
    assert.match(assess(status.document(), clock.now()).reasons[0], /^posting metrics has failed/);
    status.events.failed("metrics", refused(403));
    status.events.failed("checks", refused(401, "/api/v0/monitoring/checks/report"));
    assert.equal(errors().length, 2, "one for metrics, one for check reports");
    assert.deepEqual(assess(status.document(), clock.now()).reasons, [
      `the API refuses the API key since ${since} (403 Forbidden) when posting metrics, check ` +
      "reports: what is collected is kept in the spool",
    ]);

    // A delivery ends the episode; the next refusal starts another.
    status.events.delivered("metrics", 40);
    assert.match(
      lines.at(-1)!,
      /INFO <main> Posting metrics to Mackerel recovered after 3 minutes/,
    );
    assert.equal(status.document().delivery.kinds.metrics.keyRefused, undefined);
    status.events.failed("metrics", refused(401));
    assert.equal(errors().length, 3);
    // A failure that is not about the key starts no key episode.
    status.events.delivered("metrics", 40);
    status.events.failed("metrics", refused(503));
    assert.equal(errors().length, 3);
    assert.equal(status.document().delivery.kinds.metrics.keyRefused, undefined);
  });
});

Deno.test("status: whatever happens, the document written is one status reads back", async () => {
  const kind = fc.constantFrom(...KINDS);
  const error = fc.constantFrom(
    new Error("boom\nwith a newline"),
    new ApiError({ method: "POST", path: "/api/v0/tsdb", status: 401, reason: "Unauthorized" }),
    new ApiError({ method: "POST", path: "/api/v0/tsdb", status: 503, reason: "down" }),
  );
  const event = fc.oneof(
    fc.record({ t: fc.constant("delivered" as const), kind, n: fc.nat(100) }),
    fc.record({ t: fc.constant("failed" as const), kind, error }),
    fc.record({ t: fc.constant("refused" as const), kind, n: fc.nat(100), error }),
    fc.record({
      t: fc.constant("ran" as const),
      group: fc.constantFrom("collectors" as const, "plugins" as const),
      name: fc.string(),
      error: fc.option(error, { nil: undefined }),
    }),
    fc.record({ t: fc.constant("advance" as const), ms: fc.nat(10 * MIN) }),
  );
  await withLogs(async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 30 }), fc.boolean(), async (events, stop) => {
        const clock = createVirtualClock(T0);
        const status = createStatus({ root: "/nonexistent", clock, minuteMs: MIN, mode: "api" });
        for (const e of events) {
          if (e.t === "delivered") status.events.delivered(e.kind, e.n);
          else if (e.t === "failed") status.events.failed(e.kind, e.error);
          else if (e.t === "refused") status.events.refused(e.kind, e.n, e.error);
          else if (e.t === "ran") status.ran(e.group, e.name, e.error);
          else await clock.advance(e.ms);
        }
        if (stop) await status.stopped();
        const doc = JSON.parse(JSON.stringify(status.document()));
        assert.equal(statusDocumentProblem(doc), undefined);
      }),
      { numRuns: 200 },
    );
  });
});

Deno.test("status: OTLP failures name the [otlp] endpoint; a refused key there is one ERROR with its gRPC status", async () => {
  await withLogs((lines) => {
    const clock = createVirtualClock(T0);
    const status = createStatus({ root: "/nonexistent", clock, minuteMs: MIN, mode: "api" });
    status.events.failed("otlp", new ExportError("gw:4317", "down", { protocol: "none" }));
    status.events.failed(
      "otlp",
      new ExportError("gw:4317", "UNAUTHENTICATED (16): no key", { protocol: "grpc", code: 16 }),
    );
    status.events.failed(
      "otlp",
      new ExportError("gw:4317", "UNAUTHENTICATED (16): no key", { protocol: "grpc", code: 16 }),
    );
    const said = lines.filter((l) => l.includes("OpenTelemetry metrics"));
    assert.equal(said.length, 2, said.join("\n"));
    assert.match(
      said[0],
      /^INFO .*Posting OpenTelemetry metrics to the \[otlp\] endpoint is failing/,
    );
    assert.match(
      said[1],
      /^ERROR .*Posting OpenTelemetry metrics to the \[otlp\] endpoint: it refuses the credentials \(gRPC status 16\)/,
    );
    return Promise.resolve();
  });
});
