import { NEVER_ABORTS } from "../../src/async/abort.ts";
import assert from "node:assert/strict";
import type { CheckReport } from "../../src/mackerel/api_types.ts";
import { ApiError } from "../../src/mackerel/errors.ts";
import { type CheckSenderOptions, createCheckSender } from "../../src/delivery/check_sender.ts";
import { openSpool } from "../../src/delivery/spool.ts";
import { withApi } from "../support/api_client.ts";
import type { FakeMackerel } from "../support/fake_mackerel.ts";
import { withLogs } from "../support/logs.ts";
import { createVirtualClock, type VirtualClock } from "../support/virtual_clock.ts";
import { waitFor } from "../support/wait.ts";

const START = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;
const REPORT_PATH = "/api/v0/monitoring/checks/report";

function report(name: string, extra: Partial<CheckReport> = {}): CheckReport {
  return {
    hostId: "host1",
    name,
    status: "CRITICAL",
    message: `${name} failed\n`,
    occurredAt: 1704067200,
    ...extra,
  };
}

const reportPosts = (fake: FakeMackerel) => fake.requests.filter((r) => r.path === REPORT_PATH);

/** A client that records when (in virtual time) each chunk was posted, answering from a script. */
function recordingClient(clock: VirtualClock, answers: (Error | undefined)[] = []) {
  const posts: { at: number; names: string[]; hosts: string[] }[] = [];
  return {
    posts,
    reportCheckMonitors(reports: readonly CheckReport[]): Promise<void> {
      posts.push({
        at: clock.now() - START,
        names: reports.map((r) => r.name),
        hosts: [...new Set(reports.map((r) => r.hostId))],
      });
      const answer = answers.shift();
      return answer ? Promise.reject(answer) : Promise.resolve();
    },
  };
}

type Client = {
  reportCheckMonitors(reports: readonly CheckReport[], signal?: AbortSignal): Promise<void>;
};

/** A running sender over a memory spool; `stop()` ends it and waits for its last flush. */
async function start(
  options: Omit<CheckSenderOptions, "spool" | "send"> & { readonly client: Client },
) {
  const { spool } = await openSpool({ maxBytes: 1 << 30, maxAgeMs: 24 * 60 * MINUTE });
  const sender = createCheckSender({
    ...options,
    spool,
    send: (reports, signal) => options.client.reportCheckMonitors(reports, signal),
  });
  const stopping = new AbortController();
  const running = sender.run(stopping.signal, NEVER_ABORTS);
  return {
    spool,
    sender,
    put: (r: CheckReport) => sender.put(r),
    stop: () => {
      stopping.abort();
      return running;
    },
  };
}

const serverError = () =>
  new ApiError({
    method: "POST",
    path: REPORT_PATH,
    status: 503,
    reason: "503 Service Unavailable",
  });
const networkError = () =>
  new ApiError({ method: "POST", path: REPORT_PATH, status: 0, reason: "connection reset" });

Deno.test("check_sender: a wake posts the reports with their status and message", async () => {
  await withApi(async (fake, client) => {
    const clock = createVirtualClock(START);
    const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 2 });
    await sender.put(report("disk", { notificationInterval: 5, maxCheckAttempts: 3 }));
    await sender.put(report("http", { status: "OK", message: "HTTP OK\n" }));
    sender.sender.wake();
    await waitFor(() => fake.checkReports().length === 2, "two reports");
    assert.deepEqual(fake.checkReports(), [
      {
        source: { type: "host", hostId: "host1" },
        name: "disk",
        status: "CRITICAL",
        message: "disk failed\n",
        occurredAt: 1704067200,
        notificationInterval: 10,
        maxCheckAttempts: 3,
      },
      {
        source: { type: "host", hostId: "host1" },
        name: "http",
        status: "OK",
        message: "HTTP OK\n",
        occurredAt: 1704067200,
      },
    ]);
    await sender.stop();
    assert.equal(reportPosts(fake).length, 1);
  });
});

Deno.test("check_sender: without a wake, reports go out at the minute", async () => {
  await withApi(async (fake, client) => {
    const clock = createVirtualClock(START);
    const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 1 });
    await sender.put(report("disk"));
    await clock.advance(MINUTE - 1);
    assert.equal(fake.requests.length, 0);
    await clock.advance(1);
    await waitFor(() => fake.checkReports().length === 1, "the report");
    await sender.stop();
  });
});

Deno.test("check_sender: an idle sender sets no timer; a report goes out at the next minute tick", async () => {
  await withApi(async (fake, client) => {
    const virtual = createVirtualClock(START);
    // Counts the finite sleeps asked for: each is one wake-up of an idle agent.
    const sleeps: number[] = [];
    const clock = {
      now: virtual.now,
      sleep: (ms: number, signal?: AbortSignal) => {
        if (Number.isFinite(ms)) sleeps.push(ms);
        return virtual.sleep(ms, signal);
      },
    };
    const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 1 });
    await virtual.advance(10 * MINUTE + MINUTE / 2);
    assert.deepEqual(sleeps, []);
    await sender.put(report("disk"));
    await virtual.advance(MINUTE / 2 - 1);
    assert.equal(fake.requests.length, 0, "not before the minute's tick");
    await virtual.advance(1);
    await waitFor(() => fake.checkReports().length === 1, "the report");
    await sender.stop();
  });
});

Deno.test("check_sender: a 500 answer is retried 30 seconds later until accepted", async () => {
  await withLogs(async (lines) => {
    await withApi(async (fake, client) => {
      const clock = createVirtualClock(START);
      const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 1 });
      fake.failNext(2, 500, "oops");
      await sender.put(report("disk"));
      sender.sender.wake();
      await waitFor(() => reportPosts(fake).length === 1 && clock.pending === 1, "1st try");
      await clock.advance(30_000);
      await waitFor(() => reportPosts(fake).length === 2 && clock.pending === 1, "2nd try");
      await clock.advance(30_000);
      await waitFor(() => fake.checkReports().length === 1, "the accepted report");
      assert.deepEqual(reportPosts(fake).map((r) => r.status), [500, 500, 200]);
      const bodies = new Set(reportPosts(fake).map((r) => r.rawBody));
      assert.equal(bodies.size, 1, "the same chunk each time");
      await sender.stop();
    });
    const warning = "WARNING <command> ReportCheckMonitors: failed to report (will retry): " +
      "API request failed: oops (POST /api/v0/monitoring/checks/report)";
    assert.deepEqual(lines, [warning, warning]);
  }, { level: "info" });
});

Deno.test("check_sender: a 404 answer is final and the loss is counted", async () => {
  await withLogs(async (lines) => {
    await withApi(async (fake, client) => {
      const clock = createVirtualClock(START);
      const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 2 });
      fake.failNext(1, 404, "no such host");
      await sender.put(report("disk"));
      await sender.put(report("http"));
      sender.sender.wake();
      await waitFor(() => reportPosts(fake).length === 1 && clock.pending === 1, "the refusal");
      // Long enough for any retry to happen before the next report.
      await clock.advance(5 * MINUTE);
      await sender.put(report("load"));
      sender.sender.wake();
      await waitFor(() => fake.checkReports().length === 1, "the next report");
      assert.deepEqual(reportPosts(fake).map((r) => r.status), [404, 200]);
      assert.deepEqual(fake.checkReports().map((r) => (r as { name: string }).name), ["load"]);
      await sender.stop();
      assert.deepEqual(sender.spool.entries(), []);
    });
    assert.deepEqual(lines, [
      "ERROR <command> ReportCheckMonitors: the API refused 2 check reports (disk, http), " +
      "dropped: API request failed: no such host (POST /api/v0/monitoring/checks/report)",
    ]);
  }, { level: "info" });
});

Deno.test("check_sender: a refused key (403) keeps the reports until it works again", async () => {
  await withLogs(async (lines) => {
    await withApi(async (fake, client) => {
      const clock = createVirtualClock(START);
      const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 2 });
      fake.failNext(2, 403, "forbidden");
      await sender.put(report("disk"));
      await sender.put(report("http"));
      sender.sender.wake();
      await waitFor(() => reportPosts(fake).length === 1 && clock.pending >= 1, "the refusal");
      await clock.advance(MINUTE / 2);
      await waitFor(() => reportPosts(fake).length === 2 && clock.pending >= 1, "the retry");
      await clock.advance(MINUTE / 2);
      await waitFor(() => fake.checkReports().length === 2, "both reports");
      assert.deepEqual(reportPosts(fake).map((r) => r.status), [403, 403, 200]);
      await sender.stop();
      assert.deepEqual(sender.spool.entries(), []);
    });
    assert.deepEqual(lines.filter((l) => l.startsWith("ERROR")), []);
  }, { level: "info" });
});

Deno.test("check_sender: a 400 to every report is a fault of the path: kept, then delivered", async () => {
  await withLogs(async (lines) => {
    await withApi(async (fake, client) => {
      const clock = createVirtualClock(START);
      const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 4 });
      let broken = true;
      fake.failWhile((r) => r.path === REPORT_PATH && broken, 400);
      for (const name of ["a", "b", "c", "d"]) await sender.put(report(name));
      sender.sender.wake();
      await waitFor(() => reportPosts(fake).length >= 7 && clock.pending >= 1, "the search");
      await clock.advance(3 * MINUTE);
      const during = reportPosts(fake).length;
      broken = false;
      await clock.advance(MINUTE);
      await waitFor(() => fake.checkReports().length === 4, "all four reports");
      await sender.stop();
      assert.ok(during <= 7 + 6, `${during} requests while broken`);
      assert.deepEqual(sender.spool.entries(), []);
    });
    const errors = lines.filter((l) => l.startsWith("ERROR"));
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0], /refuses every check report it is sent/);
  }, { level: "info" });
});

Deno.test("check_sender: a 400 is split to find the refused report; the others arrive", async () => {
  await withLogs(async (lines) => {
    await withApi(async (fake, client) => {
      const clock = createVirtualClock(START);
      const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 4 });
      fake.failWhile((r) => r.path === REPORT_PATH && r.rawBody.includes('"bad"'), 400);
      for (const name of ["a", "bad", "b", "c"]) await sender.put(report(name));
      sender.sender.wake();
      await waitFor(() => fake.checkReports().length === 3, "the three good reports");
      await sender.stop();
      assert.deepEqual(
        fake.checkReports().map((r) => (r as { name: string }).name).sort(),
        ["a", "b", "c"],
      );
      assert.deepEqual(sender.spool.entries(), []);
    });
    assert.deepEqual(lines.filter((l) => l.startsWith("ERROR")), [
      "ERROR <command> ReportCheckMonitors: the API refused 1 check reports (bad), dropped: " +
      "API request failed: fake failure 400 (POST /api/v0/monitoring/checks/report)",
    ]);
  }, { level: "info" });
});

Deno.test("check_sender: a network error is retried at once", async () => {
  await withLogs(async (lines) => {
    await withApi(async (fake, client) => {
      const clock = createVirtualClock(START);
      const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 1 });
      fake.resetConnections(1);
      await sender.put(report("disk"));
      sender.sender.wake();
      await waitFor(() => fake.checkReports().length === 1, "the report");
      assert.deepEqual(reportPosts(fake).map((r) => r.status), [0, 200]);
      await sender.stop();
    });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^WARNING <command> ReportCheckMonitors: failed to report \(will retry immediately\): API request failed: /,
    );
  }, { level: "info" });
});

Deno.test("check_sender: network errors cost two tries per cycle, cycles 30 s apart", async () => {
  await withLogs(async () => {
    const clock = createVirtualClock(START);
    const client = recordingClient(clock, [networkError(), networkError(), networkError()]);
    const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 1 });
    await sender.put(report("disk"));
    sender.sender.wake();
    await clock.advance(60_000);
    assert.deepEqual(client.posts.map((p) => p.at), [0, 0, 30_000, 30_000]);
    await sender.stop();
  }, { level: "info" });
});

Deno.test("check_sender: chunks of 20 per host, 1 s apart", async () => {
  const clock = createVirtualClock(START);
  const client = recordingClient(clock);
  const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 30 });
  for (let i = 0; i < 45; i++) {
    await sender.put(report(`c${i}`, { hostId: i % 9 === 8 ? "other" : "host1" }));
  }
  sender.sender.wake();
  await clock.advance(10_000);
  assert.deepEqual(client.posts.map((p) => [p.at, p.hosts, p.names.length]), [
    [0, ["host1"], 20],
    [1_000, ["host1"], 20],
    [2_000, ["other"], 5],
  ]);
  await sender.stop();
});

Deno.test("check_sender: a backlog over twice the checks slows to 15 s between chunks", async () => {
  await withLogs(async (lines) => {
    const clock = createVirtualClock(START);
    const client = recordingClient(clock);
    // With a one-second minute every delay shrinks sixty-fold: 15 s → 250 ms.
    const sender = await start({ client, clock, minuteMs: 1_000, checkCount: 10 });
    for (let i = 0; i < 45; i++) await sender.put(report(`c${i}`));
    sender.sender.wake();
    await clock.advance(1_000 - 1);
    assert.deepEqual(client.posts.map((p) => [p.at, p.names.length]), [[0, 20], [250, 20], [
      500,
      5,
    ]]);
    assert.deepEqual(lines, [
      "WARNING <command> 45 check reports are waiting; pausing 15 seconds between posts",
    ]);
    await sender.stop();
  }, { level: "info" });
});

Deno.test("check_sender: stop flushes once; what fails then stays in the spool", async () => {
  await withLogs(async (lines) => {
    const clock = createVirtualClock(START);
    const client = recordingClient(clock, [serverError()]);
    const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 1 });
    await sender.put(report("disk"));
    await sender.stop();
    assert.deepEqual(client.posts.map((p) => p.names), [["disk"]]);
    assert.deepEqual(lines, [
      "WARNING <command> ReportCheckMonitors: 1 check reports could not be posted before the " +
      "stop: API request failed: 503 Service Unavailable (POST /api/v0/monitoring/checks/report)",
    ]);
    assert.deepEqual(sender.spool.entries().map((e) => e.kind), ["checks"]);
  }, { level: "info" });
});

Deno.test("check_sender: stop interrupts the retry wait for one last try", async () => {
  await withLogs(async () => {
    const clock = createVirtualClock(START);
    const client = recordingClient(clock, [serverError()]);
    const sender = await start({ client, clock, minuteMs: MINUTE, checkCount: 1 });
    await sender.put(report("disk"));
    sender.sender.wake();
    await clock.advance(10_000);
    await sender.stop();
    assert.deepEqual(client.posts.map((p) => [p.at, p.names]), [[0, ["disk"]], [10_000, [
      "disk",
    ]]]);
  }, { level: "info" });
});
