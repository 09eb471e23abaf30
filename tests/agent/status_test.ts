import assert from "node:assert/strict";
import { join } from "node:path";
import { assessStatus, createStatus, type StatusDocument } from "../../src/agent/status.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const alive = () => true;

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
      const verdict = assessStatus(doc, T0 + MIN, alive);
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
      assert.equal(assessStatus(doc, clock.now(), alive).state, "healthy");
    });
  });
});

Deno.test("status: stopped, gone or silent agents are not running", () => {
  const clock = createVirtualClock(T0);
  const status = createStatus({ root: "/nonexistent", clock, minuteMs: MIN, mode: "stdout" });
  const doc = status.document();
  assert.equal(assessStatus(doc, T0, alive).state, "healthy");
  assert.deepEqual(assessStatus(doc, T0, () => false), {
    state: "stopped",
    reasons: [`process ${Deno.pid} is gone`],
  });
  assert.equal(assessStatus(doc, T0 + 3 * MIN + 29_000, alive).state, "healthy");
  assert.deepEqual(assessStatus(doc, T0 + 4 * MIN, alive), {
    state: "stopped",
    reasons: ["no update since 2024-01-01T00:00:00.000Z"],
  });
  assert.equal(
    assessStatus({ ...doc, stoppedAt: doc.updatedAt }, T0, alive).reasons[0],
    "stopped at 2024-01-01T00:00:00.000Z",
  );
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
    assert.equal(assessStatus(status.document(), clock.now(), alive).state, "degraded");
    assert.equal(lines.filter((l) => l.includes("recovered")).length, 0, lines.join("\n"));
    status.events.delivered("metrics", 10);
    assert.equal(assessStatus(status.document(), clock.now(), alive).state, "healthy");

    // A read-only key: every post refused, nothing retried. Not healthy.
    await clock.advance(MIN);
    status.events.refused("metrics", 10, new Error("API request failed: Forbidden"));
    const refused = assessStatus(status.document(), clock.now(), alive);
    assert.equal(refused.state, "degraded");
    assert.match(refused.reasons[0], /^the API refuses metrics/);
    status.events.delivered("metrics", 10);

    status.ran("plugins", "metrics.old", new Error("command timed out"));
    status.ran("plugins", "checks.kept");
    assert.equal(assessStatus(status.document(), clock.now(), alive).state, "degraded");
    status.retain("plugins", ["checks.kept"]);
    assert.deepEqual(Object.keys(status.document().plugins), ["checks.kept"]);
    assert.equal(assessStatus(status.document(), clock.now(), alive).state, "healthy");
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
