/**
 * `status` reads `status.json` as untrusted input: any content gives a verdict and a few clean lines,
 * never an exception; whether an agent runs comes from the spool's lock and the pid.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import type { ProcessKind } from "../../src/agent/pidfile.ts";
import { createStatus, type StatusDocument } from "../../src/agent/status.ts";
import { MAX_STATUS_FILE_BYTES, statusDocumentProblem } from "../../src/agent/status_file.ts";
import { statusReport } from "../../src/cli/status.ts";
import { lockSpool, type SpoolLock } from "../../src/delivery/spool_lock.ts";
import type { SpoolStats } from "../../src/delivery/spool.ts";
import { withLogs } from "../support/logs.ts";
import { onLinux, onUnix } from "../support/platform.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

/** A document with every optional part present: failures, a refused key, a spool in memory. */
async function fullDocument(): Promise<StatusDocument> {
  return await withLogs(async () => {
    const clock = createVirtualClock(T0);
    const tally = { records: 1, count: 40 };
    const spool: SpoolStats = {
      durable: false,
      pending: { metrics: tally, checks: tally, metadata: tally, graphdefs: tally, otlp: tally },
      bytesHeld: 4000,
      bytesOnDisk: 0,
      bytesInMemory: 4000,
      dropped: { full: tally, expired: tally, unreadable: tally, damaged: tally },
      diskError: "No space left on device (os error 28)",
    };
    const status = createStatus({
      root: "/nonexistent",
      clock,
      minuteMs: MIN,
      mode: "api",
      hostId: "h1",
      outbox: () => ({ spool, queuedRounds: 1, queuedPoints: 40, invalidPoints: 2 }),
    });
    status.events.delivered("metrics", 40);
    status.events.refused("checks", 1, new Error("400"));
    status.events.failed("metadata", new Error("503"));
    status.ran("collectors", "cpu");
    status.ran("plugins", "metrics.x", new Error("exit status 1"));
    await clock.advance(MIN);
    await status.stopped();
    return JSON.parse(JSON.stringify(status.document()));
  });
}

/** Every path to a value of `value` (objects only: the document has no arrays). */
function paths(value: unknown, at: string[] = []): string[][] {
  if (typeof value !== "object" || value === null) return [at];
  return [at, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]))];
}

/** `doc` with the value at `path` replaced (or removed when `value` is undefined). */
function mutate(doc: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = { ...(doc as Record<string, unknown>) };
  const [key, ...rest] = path;
  const next = mutate(copy[key], rest, value);
  if (next === undefined) delete copy[key];
  else copy[key] = next;
  return copy;
}

/** Checks what any report must be: short clean lines and a documented exit code. */
function assertClean(report: { code: number; stdout: string; stderr: string }): void {
  assert.ok([0, 1, 3].includes(report.code), String(report.code));
  for (const line of `${report.stdout}\n${report.stderr}`.split("\n")) {
    const raw = [...line].find((c) => c !== "\t" && (c < " " || c === "\x7f"));
    assert.equal(raw, undefined, JSON.stringify(line));
    assert.ok(line.length <= 8192);
  }
}

const withRoot = (fn: (root: string) => Promise<void>) => withTempDir("status_cli_", fn);

Deno.test("status: a file of the wrong shape is one line naming the file and the fault", async () => {
  await withRoot(async (root) => {
    const path = join(root, "status.json");
    const valid = await fullDocument();
    const { delivery } = valid;
    const { kinds: _, ...noKinds } = delivery;
    const cases: [string, string | Uint8Array, string][] = [
      ["null", "null", "the document is null, expected an object"],
      ["a pid only", '{"pid":1}', "version is missing, expected a string"],
      ["{}", "{}", "version is missing, expected a string"],
      [
        "delivery null",
        JSON.stringify({ ...valid, delivery: null }),
        "delivery is null, expected an object",
      ],
      [
        "no kinds",
        JSON.stringify({ ...valid, delivery: noKinds }),
        "delivery.kinds is missing, expected an object",
      ],
      [
        "collectors null",
        JSON.stringify({ ...valid, collectors: null }),
        "collectors is null, expected an object",
      ],
      [
        "a count that is not one",
        JSON.stringify(mutate(valid, ["delivery", "kinds", "metrics", "delivered"], -1)),
        "delivery.kinds.metrics.delivered is -1, expected a count",
      ],
      [
        "a time that is not one",
        JSON.stringify({ ...valid, updatedAt: "yesterday" }),
        'updatedAt is "yesterday", expected a time (ISO 8601, UTC)',
      ],
      [
        "an odd plugin name",
        JSON.stringify(mutate(valid, ["plugins", "a\u001b[31mb"], null)),
        'plugins."a\\u001b[31mb" is null, expected an object',
      ],
      ["binary garbage", new Uint8Array([0xff, 0xfe, 0, 1, 2, 0x80]), "it is not UTF-8 text"],
      ["text", "status: fine", "it is not JSON"],
      ["deeply nested", "[".repeat(100_000) + "]".repeat(100_000), "the document is an array"],
    ];
    for (const [name, content, fault] of cases) {
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      const report = statusReport({ root, process: () => "gone" });
      assertClean(report);
      assert.equal(report.code, 3, name);
      assert.ok(
        report.stdout.startsWith(
          `mackerel-agent is not running for root ${root}: ${path} is not a status file: ${fault}`,
        ),
        `${name}: ${report.stdout}`,
      );
      assert.equal(report.stdout.split("\n").length, 1, name);
      const json = statusReport({ root, json: true, process: () => "gone" });
      assert.deepEqual([json.code, json.stdout], [3, ""], "-json prints only a status file");
      assert.equal(json.stderr, report.stdout);
    }
  });
});

onUnix("mkfifo").test(
  "status: a huge file, a FIFO or a directory is refused without reading it",
  async () => {
    await withRoot(async (root) => {
      const path = join(root, "status.json");
      await Deno.writeFile(path, new Uint8Array(MAX_STATUS_FILE_BYTES + 1).fill(0x20));
      const huge = statusReport({ root, process: () => "gone" });
      assert.match(huge.stdout, /is not a status file: it has 4194305 bytes, more than 4194304$/);
      await Deno.remove(path);
      await Deno.mkdir(path);
      assert.match(
        statusReport({ root }).stdout,
        /is not a status file: it is not a regular file$/,
      );
      await Deno.remove(path);
      const mkfifo = await new Deno.Command("mkfifo", { args: [path] }).output();
      assert.ok(mkfifo.success);
      const fifo = statusReport({ root });
      assert.equal(fifo.code, 3);
      assert.match(fifo.stdout, /is not a status file: it is not a regular file$/);
    });
  },
);

onLinux("asks /proc").test(
  "status: a live process that is not an agent (pid 1) with a fresh file is not running",
  async () => {
    await withRoot(async (root) => {
      const doc = { ...(await fullDocument()), pid: 1, updatedAt: new Date().toISOString() };
      delete (doc as { stoppedAt?: string }).stoppedAt;
      await Deno.writeTextFile(join(root, "status.json"), JSON.stringify(doc));
      // The real /proc: pid 1 is init (or the container's first process), never this agent.
      const report = statusReport({ root });
      assert.equal(report.code, 3, report.stdout);
      assert.equal(
        report.stdout,
        `mackerel-agent is not running for root ${root}: process 1 is not a mackerel-agent`,
      );
    });
  },
);

Deno.test("status: the spool's lock says an agent runs whatever the file says", async () => {
  await withRoot(async (root) => {
    const lock = await lockSpool(join(root, "spool"), { waitMs: 0 }) as SpoolLock;
    try {
      // The lock file names this process; what runs under it is asked of the injected table.
      const process = (pid: number): ProcessKind => pid === Deno.pid ? "agent" : "gone";
      await Deno.writeTextFile(join(root, "status.json"), "null");
      const bad = statusReport({ root, process });
      assert.equal(bad.code, 1);
      assert.equal(
        bad.stdout,
        `mackerel-agent is running for root ${root}: pid ${Deno.pid}\ndegraded:\n  - ` +
          `${join(root, "status.json")} is not a status file: the document is null, expected an ` +
          "object",
      );

      // An earlier agent's file, stopped and an hour old: the running one cannot write its own.
      const doc = { ...(await fullDocument()), pid: 4_000_000 };
      await Deno.writeTextFile(join(root, "status.json"), JSON.stringify(doc));
      const stale = statusReport({ root, process, nowMs: Date.now() + 60 * MIN });
      assert.equal(stale.code, 1, stale.stdout);
      assert.equal(
        stale.stdout,
        `mackerel-agent is running for root ${root}: pid ${Deno.pid}\ndegraded:\n  - status file ` +
          `stale since ${doc.updatedAt} (the agent cannot write ${root}: full or read-only?); ` +
          "its spool may be in memory",
      );
    } finally {
      lock.release();
    }
    // Released: the same file now says stopped.
    const stopped = statusReport({ root, process: () => "gone" });
    assert.equal(stopped.code, 3);
    assert.match(
      stopped.stdout,
      /is not running for root .*: stopped at 2024-01-01T00:01:00.000Z$/,
    );
  });
});

Deno.test("status: a running agent's figures, the spool in memory, escaped text", async () => {
  await withRoot(async (root) => {
    const doc = await fullDocument();
    const { stoppedAt: _, ...running } = doc;
    const evil = mutate(running, ["plugins", "metrics.x", "lastError"], "bad\n\u001b[2Jline");
    const text = JSON.stringify(evil, null, 2);
    await Deno.writeTextFile(join(root, "status.json"), text);
    const nowMs = Date.parse(doc.updatedAt);
    const report = statusReport({ root, process: () => "agent", nowMs });
    assertClean(report);
    assert.equal(report.code, 1);
    const lines = report.stdout.split("\n");
    assert.equal(
      lines[0],
      `mackerel-agent ${doc.version} (rev ${doc.revision}) is running: pid ${doc.pid}, since ` +
        `${doc.startedAt}, posting as host h1`,
    );
    assert.ok(lines.includes("  - the spool is in memory: No space left on device (os error 28)"));
    assert.ok(lines.includes("  - plugin metrics.x is failing: bad\\n\\x1b[2Jline"), report.stdout);
    assert.ok(
      lines.includes(
        "waiting: 1 rounds (40 points); spool in memory: 4000 bytes (No space left on device " +
          "(os error 28))",
      ),
      report.stdout,
    );
    const json = statusReport({ root, json: true, process: () => "agent", nowMs });
    assert.deepEqual(json, { code: 1, stdout: text, stderr: "" });
  });
});

Deno.test("status: any JSON in the file gives a verdict and clean lines, never an exception", async () => {
  await withRoot(async (root) => {
    const path = join(root, "status.json");
    const valid = await fullDocument();
    const all = paths(valid);
    const kinds: ProcessKind[] = ["agent", "other", "gone", "unknown"];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((value) => ({ value })),
          fc.record({
            path: fc.constantFrom(...all),
            replacement: fc.option(fc.jsonValue(), { nil: undefined }),
          }).map(({ path, replacement }) => ({ value: mutate(valid, path, replacement) })),
        ),
        fc.constantFrom(...kinds),
        fc.integer({ min: T0 - 10 * MIN, max: T0 + 10 * MIN }),
        async ({ value }, kind, nowMs) => {
          await Deno.writeTextFile(path, JSON.stringify(value) ?? "");
          const report = statusReport({ root, process: () => kind, nowMs });
          assertClean(report);
          const problem = value === undefined ? "it is not JSON" : statusDocumentProblem(value);
          if (problem !== undefined) {
            assert.ok(report.stdout.includes(`${path} is not a status file: `), report.stdout);
            assert.notEqual(report.code, 0);
          }
          const json = statusReport({ root, json: true, process: () => kind, nowMs });
          assert.equal(json.code, report.code);
          assert.equal(json.stdout === "", problem !== undefined);
        },
      ),
      { numRuns: 300 },
    );
  });
});
