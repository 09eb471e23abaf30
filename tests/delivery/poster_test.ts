import assert from "node:assert/strict";
import type { MetricPoint } from "../../src/mackerel/types.ts";
import { ApiError } from "../../src/mackerel/errors.ts";
import { encodeMetricPoints } from "../../src/mackerel/json.ts";
import { postDelaySeconds } from "../../src/delivery/delay.ts";
import { createPostQueue } from "../../src/delivery/queue.ts";
import { realClock } from "../../src/async/clock.ts";
import { createStopping, NEVER_ABORTS } from "../../src/async/abort.ts";
import { createPoster, type PostJson } from "../../src/delivery/poster.ts";
import { openSpool, type Spool, type SpoolEntry } from "../../src/delivery/spool.ts";
import { withLogs } from "../support/logs.ts";
import { createVirtualClock, type VirtualClock } from "../support/virtual_clock.ts";

/** 2024-01-01T00:00:00Z: second 0 of a minute. */
const T0 = Date.UTC(2024, 0, 1);
const SEC = 1_000;
const MIN = 60_000;

const apiError = (status: number, reason: string) =>
  new ApiError({ method: "POST", path: "/api/v0/tsdb", status, reason });
const networkError = (reason: string) => apiError(0, reason);
const serverError = () => apiError(503, "503 Service Unavailable");

function points(value: number, size = 1, minute = value): MetricPoint[] {
  return Array.from({ length: size }, (_, i) => ({
    hostId: "2Xj9fQk7Hn3",
    name: `custom.m${i}`,
    time: T0 / 1000 + minute * 60,
    value,
  }));
}

type Behaviour = (
  points: readonly MetricPoint[],
  call: number,
  signal: AbortSignal,
) => Promise<void> | void;

interface Setup {
  readonly postDelaySeconds?: number;
  readonly minuteMs?: number;
  readonly behave?: Behaviour;
  /** Pretend every record is on disk (the memory spool is what runs on a virtual clock). */
  readonly durable?: boolean;
}

/** A poster over a memory spool on a virtual clock; POSTs are recorded (time, points) and stored on success. */
async function setup(options: Setup = {}) {
  const clock = createVirtualClock(T0);
  const opened = await openSpool({ maxBytes: 1 << 30, maxAgeMs: 24 * 60 * MIN, clock });
  const spool: Spool = options.durable
    ? { ...opened.spool, isDurable: (id) => opened.spool.has(id) }
    : opened.spool;
  const queue = createPostQueue<SpoolEntry>({
    postDelaySeconds: options.postDelaySeconds ?? 0,
    minuteMs: options.minuteMs,
  });
  // The agent's one graceful-stop timer, on the test's clock.
  const stopping = createStopping({ graceMs: queue.timings.maxTerminatingMs, clock });
  const stop = { abort: () => stopping.requestStop() };
  const force = { abort: () => stopping.forceStop() };
  const calls: { at: number; points: readonly MetricPoint[] }[] = [];
  const stored: MetricPoint[] = [];
  const post: PostJson = async (json, signal) => {
    const batch = JSON.parse(json) as MetricPoint[];
    calls.push({ at: clock.now() - T0, points: batch });
    await options.behave?.(batch, calls.length, signal);
    stored.push(...batch);
  };
  const created = createPoster({ queue, spool, post, clock });
  const poster = {
    ...created,
    run: async () => {
      try {
        return await created.run(stopping.stop, stopping.force);
      } finally {
        stopping.dispose(); // as the daemon does once everything has stopped
      }
    },
  };
  /** Keeps a round in the spool and hands it to the poster, as the outbox does. */
  const enqueue = async (batch: readonly MetricPoint[]) => {
    const entry = await spool.put({
      kind: "metrics",
      body: new TextEncoder().encode(encodeMetricPoints(batch)),
      count: batch.length,
    });
    poster.enqueue(entry);
  };
  return { clock, queue, spool, stop, force, calls, stored, poster, enqueue };
}

/** Enqueues `batches[i]` at virtual time `i` minutes (i = 0 at once). */
async function produce(
  clock: VirtualClock,
  enqueue: (p: MetricPoint[]) => Promise<void>,
  batches: MetricPoint[][],
) {
  for (const [i, batch] of batches.entries()) {
    if (i > 0) await clock.sleep(MIN);
    await enqueue(batch);
  }
}

const keyOf = (p: MetricPoint) => `${p.name}@${p.time}`;

Deno.test("poster: a batch refused three times is requeued; all 7 points stored once (TestLoop)", async () => {
  let refusals = 0;
  const t = await setup({
    postDelaySeconds: await postDelaySeconds("xxx1234567890"),
    behave: (batch) => {
      if (batch.some((p) => p.value === 3) && refusals < 3) {
        refusals++;
        throw serverError();
      }
    },
  });
  const producer = produce(t.clock, t.enqueue, [1, 2, 3, 4, 5, 6, 7].map((v) => points(v)));
  t.clock.after(20 * MIN, () => t.stop.abort());
  const [result] = await t.clock.run(Promise.all([t.poster.run(), producer]));
  assert.equal(result, "drained");
  assert.equal(refusals, 3);
  // Post second 12, so the first post is 6 s in; each refusal costs a minute, and the refused
  // batch rides along with the next ones from the tail of the queue.
  assert.deepEqual(
    t.calls.map((c) => [c.at / SEC, c.points.map((p) => p.value)]),
    [
      [6, [1]],
      [72, [2]],
      [132, [3]],
      [192, [3]],
      [252, [4, 3]],
      [312, [5, 4]],
      [342, [3, 6]],
      [372, [7]],
    ],
  );
  assert.deepEqual(
    t.stored.toSorted((a, b) => a.time - b.time).map((p) => p.value),
    [1, 2, 3, 4, 5, 6, 7],
  );
  assert.equal(t.clock.now(), T0 + 20 * MIN);
  assert.equal(t.clock.pending, 0);
});

Deno.test("poster: an hour-long outage loses and duplicates nothing", async () => {
  const outageEnd = T0 + 60 * MIN;
  let refusals = 0;
  const t = await setup({
    postDelaySeconds: await postDelaySeconds("21GZjCE5Etb"),
    behave: () => {
      if (t.clock.now() < outageEnd) {
        refusals++;
        throw serverError();
      }
    },
  });
  const batches = Array.from({ length: 60 }, (_, i) => points(i, 50, i));
  const producer = produce(t.clock, t.enqueue, batches);
  t.clock.after(3 * 60 * MIN, () => t.stop.abort());
  const [result] = await t.clock.run(Promise.all([t.poster.run(), producer]));
  assert.equal(result, "drained");
  assert.equal(t.stored.length, 3_000);
  assert.equal(new Set(t.stored.map(keyOf)).size, 3_000);
  assert.deepEqual(
    new Set(t.stored.map(keyOf)),
    new Set(batches.flat().map(keyOf)),
  );
  // One attempt a minute during the outage, then two batches per post.
  assert.equal(refusals, 60);
  assert.equal(t.calls.length - refusals, 30);
  assert.ok(t.calls.every((c) => c.points.length <= 100));
});

Deno.test("poster: first post right after the initial delay, then at the host's second", async () => {
  await withLogs(async (lines) => {
    const t = await setup({ postDelaySeconds: await postDelaySeconds("246PUVUngPo") });
    const producer = produce(t.clock, t.enqueue, [points(1), points(2), points(3)]);
    t.clock.after(3 * MIN, () => t.stop.abort());
    await t.clock.run(Promise.all([t.poster.run(), producer]));
    assert.deepEqual(t.calls.map((c) => c.at / SEC), [20, 100, 160]);
    assert.deepEqual(lines, [
      "DEBUG <command> wait 20 seconds before initial posting.",
      "DEBUG <command> Sleep 0 seconds before posting.",
      "DEBUG <command> Posting metrics succeeded.",
      "DEBUG <command> Sleep 40 seconds before posting.",
      "DEBUG <command> Posting metrics succeeded.",
      "DEBUG <command> Sleep 40 seconds before posting.",
      "DEBUG <command> Posting metrics succeeded.",
    ]);
  });
});

Deno.test("poster: two waiting batches go in one post, half a minute apart", async () => {
  await withLogs(async (lines) => {
    const t = await setup();
    for (const v of [1, 2, 3, 4, 5]) await t.enqueue(points(v));
    t.clock.after(2 * MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(
      t.calls.map((c) => [c.at / SEC, c.points.map((p) => p.value)]),
      [[0, [1, 2]], [30, [3, 4]], [60, [5]]],
    );
    assert.equal(
      lines.filter((l) => l.endsWith("Merging datapoints with next queued ones")).length,
      2,
    );
    assert.deepEqual(lines.filter((l) => l.includes("Sleep")), [
      "DEBUG <command> Sleep 0 seconds before posting.",
      "DEBUG <command> Sleep 30 seconds before posting.",
      "DEBUG <command> Sleep 30 seconds before posting.",
    ]);
    assert.equal(t.clock.now(), T0 + 2 * MIN, "an empty queue at stop ends the loop at once");
  });
});

Deno.test("poster: a network error is retried at once and recovers", async () => {
  await withLogs(async (lines) => {
    const t = await setup({
      behave: (_, call) => {
        if (call === 1) throw networkError("connection reset by peer");
      },
    });
    await t.enqueue(points(1));
    t.clock.after(MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(t.calls.map((c) => c.at), [0, 0]);
    assert.deepEqual(t.stored, points(1));
    assert.deepEqual(lines.slice(2), [
      "WARNING <command> Failed to post metrics value (will retry immediately): API request failed: connection reset by peer (POST /api/v0/tsdb)",
      "DEBUG <command> Posting metrics succeeded.",
      "DEBUG <command> Posting metrics recovered.",
    ]);
  });
});

Deno.test("poster: a failed immediate retry requeues and waits a minute", async () => {
  await withLogs(async (lines) => {
    const t = await setup({
      behave: (_, call) => {
        if (call <= 2) throw networkError(`refused ${call}`);
      },
    });
    await t.enqueue(points(1));
    t.clock.after(5 * MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 0, 60]);
    assert.deepEqual(t.stored, points(1));
    assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), [
      "WARNING <command> Failed to post metrics value (will retry immediately): API request failed: refused 1 (POST /api/v0/tsdb)",
      "WARNING <command> Failed to post metrics value (will retry): API request failed: refused 2 (POST /api/v0/tsdb)",
    ]);
    assert.ok(lines.includes("DEBUG <command> Sleep 60 seconds before posting."));
    assert.equal(lines.at(-1), "DEBUG <command> Posting metrics recovered.");
  });
});

Deno.test("poster: no immediate retry when the failing try took 25 s, nor for a server error", async () => {
  const t = await setup({
    behave: async (_, call) => {
      if (call === 1) {
        await t.clock.sleep(25 * SEC);
        throw networkError("timeout");
      }
      if (call === 2) throw serverError();
    },
  });
  await t.enqueue(points(1));
  t.clock.after(5 * MIN, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 85, 145]);
  assert.deepEqual(t.stored, points(1));
});

Deno.test("poster: a stop while sleeping posts at once, then drains one second apart", async () => {
  const t = await setup();
  for (const v of [1, 2, 3, 4, 5]) await t.enqueue(points(v));
  t.clock.after(10 * SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.deepEqual(
    t.calls.map((c) => [c.at / SEC, c.points.map((p) => p.value)]),
    [[0, [1, 2]], [10, [3, 4]], [11, [5]]],
  );
  assert.equal(t.clock.now(), T0 + 11 * SEC);
  assert.equal(t.clock.pending, 0, "the graceful-stop deadline is cancelled");
});

Deno.test("poster: a stop during a slow post drains the rest one second apart", async () => {
  const t = await setup({
    behave: async (_, call) => {
      if (call === 1) await t.clock.sleep(5 * SEC);
    },
  });
  for (const v of [1, 2, 3, 4, 5, 6, 7]) await t.enqueue(points(v));
  t.clock.after(2 * SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.deepEqual(
    t.calls.map((c) => [c.at / SEC, c.points.map((p) => p.value)]),
    [[0, [1, 2]], [6, [3, 4]], [7, [5, 6]], [8, [7]]],
  );
});

Deno.test("poster: a stop with an empty queue returns at once", async () => {
  const t = await setup();
  await t.enqueue(points(1));
  t.clock.after(5 * SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.equal(t.clock.now(), T0 + 5 * SEC);
  assert.equal(t.calls.length, 1);
});

Deno.test("poster: a stop during the initial delay drains what is queued (upstream drops it)", async () => {
  const t = await setup({ postDelaySeconds: 40 });
  await t.enqueue(points(1));
  t.clock.after(3 * SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  // Terminating: one agent second before the post, then done.
  assert.equal(t.clock.now(), T0 + 4 * SEC);
  assert.equal(t.calls.length, 1);
  assert.equal(t.queue.size, 0);
});

Deno.test("poster: points handed over after the loop ended are counted in a WARNING", async () => {
  await withLogs(async (lines) => {
    const t = await setup({ postDelaySeconds: 0 });
    t.stop.abort();
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    await t.enqueue(points(1, 3));
    assert.ok(
      lines.some((l) => l.includes("The post loop has ended: 3 points of a late round not posted")),
      lines.join("\n"),
    );
  });
});

Deno.test("poster: a hanging API is abandoned after the graceful-stop limit", async () => {
  await withLogs(async (lines) => {
    let aborted = false;
    const t = await setup({
      behave: (_, _call, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(signal.reason);
          })
        ),
    });
    await t.enqueue(points(1, 3));
    await t.enqueue(points(2, 4));
    await t.enqueue(points(3, 5));
    t.clock.after(10 * SEC, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "forced");
    assert.equal(t.clock.now(), T0 + 40 * SEC);
    assert.equal(aborted, true, "the POST in flight was told to stop");
    assert.equal(t.calls.length, 1);
    assert.deepEqual(lines.filter((l) => !l.startsWith("DEBUG")), [
      "WARNING <command> Terminating before posting everything: 12 points not posted",
    ]);
  });
});

Deno.test("poster: a POST deaf to its signal cannot hold the stop past the limit", async () => {
  const t = await setup({ minuteMs: 6 * SEC, behave: () => new Promise<void>(() => {}) });
  await t.enqueue(points(1));
  t.clock.after(SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "forced");
  assert.equal(t.clock.now(), T0 + SEC + 3 * SEC, "half of the 6 s minute after the stop");
});

Deno.test("poster: a second stop request forces the end while draining", async () => {
  const t = await setup({ behave: () => Promise.reject(serverError()) });
  for (const v of [1, 2, 3]) await t.enqueue(points(v));
  t.clock.after(10 * SEC, () => t.stop.abort());
  t.clock.after(12.5 * SEC, () => t.force.abort());
  assert.equal(await t.clock.run(t.poster.run()), "forced");
  assert.equal(t.clock.now(), T0 + 12.5 * SEC);
  assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 10, 11, 12]);
  assert.equal(t.clock.pending, 0);
});

Deno.test("poster: a one-second minute runs the same schedule sixty times faster", async () => {
  await withLogs(async (lines) => {
    const t = await setup({
      postDelaySeconds: 30,
      minuteMs: SEC,
      behave: (_, call) => {
        if (call === 1) throw serverError();
      },
    });
    for (const v of [1, 2, 3]) await t.enqueue(points(v));
    t.clock.after(5 * SEC, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    // initial 15/60 s; failure → 1 s; the leftover batch waits a half-minute of 0.5 s.
    assert.deepEqual(t.calls.map((c) => c.at), [250, 1250, 1750]);
    // The log speaks in agent seconds, so it reads exactly as with a real minute.
    assert.deepEqual(lines.filter((l) => l.includes("seconds")), [
      "DEBUG <command> wait 15 seconds before initial posting.",
      "DEBUG <command> Sleep 0 seconds before posting.",
      "DEBUG <command> Sleep 60 seconds before posting.",
      "DEBUG <command> Sleep 30 seconds before posting.",
    ]);
  });
});

Deno.test("poster: run may be called only once", async () => {
  const t = await setup();
  t.stop.abort();
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  await assert.rejects(t.poster.run(), /already running/);
});

Deno.test("clock: the real sleep resolves early when aborted, and at once when already aborted", async () => {
  const controller = new AbortController();
  const sleeping = realClock.sleep(60 * MIN, controller.signal);
  controller.abort();
  await sleeping; // a leaked hour-long timer would fail the test's sanitizer
  await realClock.sleep(60 * MIN, AbortSignal.abort());
  await realClock.sleep(0);
  assert.equal(typeof realClock.now(), "number");
});

Deno.test("poster: a 400 is split to find the refused point; the rest is delivered once", async () => {
  await withLogs(async (lines) => {
    const bad = { hostId: "2Xj9fQk7Hn3", name: "custom.bad", time: T0 / 1000, value: 1 };
    const t = await setup({
      behave: (batch) => {
        if (batch.some((p) => p.name === "custom.bad")) throw apiError(400, "Invalid metric name");
      },
    });
    const round = [...points(1, 5), bad, ...points(2, 4)];
    await t.enqueue(round);
    await t.enqueue(points(3, 2));
    t.clock.after(MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    const delivered = round.filter((p) => p !== bad).concat(points(3, 2));
    assert.deepEqual(t.stored.map(keyOf).sort(), delivered.map(keyOf).sort());
    assert.equal(new Set(t.stored.map(keyOf)).size, t.stored.length, "no point twice");
    assert.ok(t.calls.length <= 12, `a handful of requests, not one per point: ${t.calls.length}`);
    assert.deepEqual(lines.filter((l) => l.startsWith("ERROR")), [
      'ERROR <command> The API refused 1 points ("custom.bad"), dropped; the other 11 points ' +
      "were delivered: API request failed: Invalid metric name (POST /api/v0/tsdb)",
    ]);
    assert.deepEqual(t.spool.entries(), [], "nothing left in the spool");
  });
});

Deno.test("poster: a refused key (401, 403) keeps every round and posts them once it works", async () => {
  await withLogs(async (lines) => {
    const t = await setup({
      behave: (_, call) => {
        if (call <= 3) throw apiError(call === 2 ? 403 : 401, "Unauthorized");
      },
    });
    await t.enqueue(points(1, 3));
    await t.enqueue(points(2, 2));
    await t.enqueue(points(3, 1));
    t.clock.after(5 * MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(
      t.stored.map((p) => p.value).toSorted(),
      [1, 1, 1, 2, 2, 3],
      "every point arrives, once",
    );
    assert.deepEqual(lines.filter((l) => l.startsWith("ERROR")), []);
    assert.equal(
      lines.filter((l) =>
        l.startsWith("WARNING <command> Failed to post metrics value (will retry)")
      )
        .length,
      3,
    );
    assert.deepEqual(t.spool.entries(), []);
  });
});

Deno.test("poster: a 404 drops the round with an ERROR instead of retrying it", async () => {
  await withLogs(async (lines) => {
    const t = await setup({
      behave: (_, call) => {
        if (call === 1) throw apiError(404, "Not Found");
      },
    });
    await t.enqueue(points(1, 3));
    await t.enqueue(points(2, 2));
    await t.enqueue(points(3, 1));
    t.clock.after(3 * MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(t.calls.map((c) => [c.at / SEC, c.points.length]), [[0, 5], [60, 1]]);
    assert.deepEqual(t.stored, points(3, 1));
    assert.deepEqual(lines.filter((l) => l.startsWith("ERROR")), [
      "ERROR <command> The API refused 5 points, dropped: API request failed: Not Found (POST /api/v0/tsdb)",
    ]);
  });
});

Deno.test("poster: a 400 to every point is a fault of the path: nothing dropped, few requests", async () => {
  await withLogs(async (lines) => {
    const brokenUntil = T0 + 10 * MIN;
    const t = await setup({
      behave: () => {
        if (t.clock.now() < brokenUntil) throw apiError(400, "Bad Request");
      },
    });
    const producer = produce(
      t.clock,
      t.enqueue,
      Array.from({ length: 15 }, (_, i) => points(i + 1, 40)),
    );
    t.clock.after(20 * MIN, () => t.stop.abort());
    const [result] = await t.clock.run(Promise.all([t.poster.run(), producer]));
    assert.equal(result, "drained");
    assert.equal(t.stored.length, 15 * 40, "every point arrives");
    assert.equal(new Set(t.stored.map(keyOf)).size, 15 * 40, "once");
    const during = t.calls.filter((c) => c.at < brokenUntil - T0);
    // The first refused post is searched (within the split budget); then a few requests a minute.
    assert.ok(during.length <= 33 + 2 * 3 * 10, `${during.length} requests in 10 minutes`);
    assert.deepEqual(lines.filter((l) => l.startsWith("ERROR")), [
      "ERROR <command> Posting metrics: the API refuses every point it is sent (API request " +
      "failed: Bad Request (POST /api/v0/tsdb)): taken as a fault of the API or a proxy, not " +
      "of the points; 40 points are kept and retried",
    ]);
  });
});

Deno.test("poster: several refusals of everything, with recoveries between, drop nothing", async () => {
  await withLogs(async (lines) => {
    // Broken for minutes 2-5, 9-12 and 16-19; working otherwise.
    const broken = (ms: number) => [2, 9, 16].some((m) => ms >= m * MIN && ms < (m + 3) * MIN);
    const t = await setup({
      behave: () => {
        if (broken(t.clock.now() - T0)) throw apiError(400, "Bad Request");
      },
    });
    const producer = produce(
      t.clock,
      t.enqueue,
      Array.from({ length: 22 }, (_, i) => points(i + 1, 20)),
    );
    t.clock.after(26 * MIN, () => t.stop.abort());
    const [result] = await t.clock.run(Promise.all([t.poster.run(), producer]));
    assert.equal(result, "drained");
    assert.equal(t.stored.length, 22 * 20, "every point arrives");
    assert.equal(new Set(t.stored.map(keyOf)).size, 22 * 20, "once");
    const errors = lines.filter((l) => l.startsWith("ERROR"));
    assert.equal(errors.length, 3, errors.join("\n"));
    assert.ok(errors.every((e) => e.includes("refuses every point it is sent")));
    // Each round the poster posted is one record: nothing grows into a backlog-sized post.
    assert.ok(t.calls.every((c) => c.points.length <= 2 * 20), "at most two rounds a post");
  });
});

Deno.test("poster: points refused alone while the API takes others are dropped, the rest delivered", async () => {
  await withLogs(async (lines) => {
    const t = await setup({
      behave: (batch) => {
        if (batch.some((p) => p.name === "custom.bad")) throw apiError(400, "Invalid metric");
      },
    });
    const bad = [{ ...points(1, 1)[0], name: "custom.bad" }, {
      ...points(1, 1)[0],
      name: "custom.bad",
    }];
    await t.enqueue(bad); // a round of bad points only: nothing to tell them from a broken path
    t.clock.after(90 * SEC, () => void t.enqueue(points(2, 3)));
    t.clock.after(5 * MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(t.stored.map((p) => p.value), [2, 2, 2]);
    assert.deepEqual(t.spool.entries(), []);
    const errors = lines.filter((l) => l.startsWith("ERROR"));
    assert.equal(errors.length, 2, errors.join("\n"));
    assert.match(errors[0], /refuses every point it is sent/);
    assert.match(errors[1], /The API refused 2 points \("custom.bad"\), dropped/);
  });
});

Deno.test("poster: Retry-After holds the next post, up to ten minutes", async () => {
  const retryAfter = (seconds: number) =>
    new ApiError({
      method: "POST",
      path: "/api/v0/tsdb",
      status: 429,
      reason: "Too Many Requests",
      retryAfter: String(seconds),
    });
  const t = await setup({
    behave: (_, call) => {
      if (call === 1) throw retryAfter(300);
      if (call === 2) throw retryAfter(3600);
    },
  });
  await t.enqueue(points(1));
  t.clock.after(30 * MIN, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.deepEqual(t.calls.map((c) => c.at / MIN), [0, 5, 15]);
  assert.deepEqual(t.stored, points(1));
});

Deno.test("poster: a failure while draining ends at once when the rest is on disk", async () => {
  await withLogs(async (lines) => {
    const t = await setup({ durable: true, behave: () => Promise.reject(serverError()) });
    for (const v of [1, 2, 3]) await t.enqueue(points(v, 2));
    t.clock.after(10 * SEC, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "kept");
    assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 10]);
    assert.equal(t.clock.now(), T0 + 10 * SEC, "no 30 s of retries: the spool keeps the rounds");
    assert.deepEqual(t.spool.entries().map((e) => e.count), [2, 2, 2]);
    assert.ok(
      lines.includes(
        "INFO <command> 6 points of 3 rounds are kept in the spool for the next start",
      ),
      lines.join("\n"),
    );
  });
});

Deno.test("poster: a forced stop with every round on disk says they are kept", async () => {
  await withLogs(async (lines) => {
    const t = await setup({ durable: true, behave: () => new Promise<void>(() => {}) });
    await t.enqueue(points(1, 3));
    await t.enqueue(points(2, 4));
    t.clock.after(SEC, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "forced");
    assert.deepEqual(lines.filter((l) => !l.startsWith("DEBUG")), [
      "INFO <command> 7 points of 2 rounds are kept in the spool for the next start",
    ]);
  });
});

Deno.test("poster: on real timers a drain leaves no timer behind", async () => {
  const { spool } = await openSpool({ maxBytes: 1 << 20, maxAgeMs: MIN });
  const stop = new AbortController();
  const sent: number[] = [];
  const poster = createPoster({
    queue: createPostQueue<SpoolEntry>({ postDelaySeconds: 0, minuteMs: 600 }),
    spool,
    post: (json) => {
      sent.push(...(JSON.parse(json) as MetricPoint[]).map((p) => p.value));
      stop.abort(); // the stop request arrives during the first POST
      return Promise.resolve();
    },
  });
  for (const v of [1, 2, 3]) {
    poster.enqueue(
      await spool.put({
        kind: "metrics",
        body: new TextEncoder().encode(encodeMetricPoints(points(v))),
        count: 1,
      }),
    );
  }
  assert.equal(await poster.run(stop.signal, NEVER_ABORTS), "drained");
  assert.deepEqual(sent, [1, 2, 3]);
});

Deno.test("poster: a Retry-After does not turn a stop into a forced one; the rest is kept", async () => {
  const t = await setup({
    durable: true,
    behave: (_, call) => {
      if (call === 1) {
        throw new ApiError({
          method: "POST",
          path: "/api/v0/tsdb",
          status: 429,
          reason: "Too Many Requests",
          retryAfter: "600",
        });
      }
    },
  });
  for (const v of [1, 2, 3, 4, 5]) await t.enqueue(points(v));
  t.clock.after(2 * MIN, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  // Held by Retry-After until the stop, then drained one second apart as upstream.
  assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 120, 121, 122]);
  assert.equal(t.stored.length, 5);
});
