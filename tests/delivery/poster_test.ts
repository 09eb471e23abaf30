import assert from "node:assert/strict";
import type { MetricPoint } from "../../src/mackerel/types.ts";
import { postDelaySeconds } from "../../src/delivery/delay.ts";
import { createPostQueue } from "../../src/delivery/queue.ts";
import { realClock } from "../../src/async/clock.ts";
import { createPoster, type PostFunction } from "../../src/delivery/poster.ts";
import { withLogs } from "../support/logs.ts";
import { createVirtualClock, type VirtualClock } from "../support/virtual_clock.ts";

/** 2024-01-01T00:00:00Z: second 0 of a minute. */
const T0 = Date.UTC(2024, 0, 1);
const SEC = 1_000;
const MIN = 60_000;

class NetworkError extends Error {}
const isNetworkError = (e: unknown) => e instanceof NetworkError;
const serverError = () => new Error("API request failed: 503 Service Unavailable");

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
  readonly capacity?: number;
  readonly behave?: Behaviour;
}

/** A poster on a virtual clock whose POSTs are recorded (time, points) and stored on success. */
function setup(options: Setup = {}) {
  const clock = createVirtualClock(T0);
  const queue = createPostQueue({
    postDelaySeconds: options.postDelaySeconds ?? 0,
    minuteMs: options.minuteMs,
    capacity: options.capacity,
  });
  const stop = new AbortController();
  const force = new AbortController();
  const calls: { at: number; points: readonly MetricPoint[] }[] = [];
  const stored: MetricPoint[] = [];
  const post: PostFunction = async (batch, signal) => {
    calls.push({ at: clock.now() - T0, points: batch });
    await options.behave?.(batch, calls.length, signal);
    stored.push(...batch);
  };
  const poster = createPoster({
    queue,
    post,
    isNetworkError,
    signal: stop.signal,
    force: force.signal,
    clock,
  });
  return { clock, queue, stop, force, calls, stored, poster };
}

/** Enqueues `batches[i]` at virtual time `i` minutes (i = 0 at once). */
async function produce(
  clock: VirtualClock,
  enqueue: (p: MetricPoint[]) => void,
  batches: MetricPoint[][],
) {
  for (const [i, batch] of batches.entries()) {
    if (i > 0) await clock.sleep(MIN);
    enqueue(batch);
  }
}

const keyOf = (p: MetricPoint) => `${p.name}@${p.time}`;

Deno.test("poster: a batch refused three times is requeued; all 7 points stored once (TestLoop)", async () => {
  let refusals = 0;
  const t = setup({
    postDelaySeconds: await postDelaySeconds("xxx1234567890"),
    behave: (batch) => {
      if (batch.some((p) => p.value === 3) && refusals < 3) {
        refusals++;
        throw serverError();
      }
    },
  });
  const producer = produce(t.clock, t.poster.enqueue, [1, 2, 3, 4, 5, 6, 7].map((v) => points(v)));
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
  const t = setup({
    postDelaySeconds: await postDelaySeconds("21GZjCE5Etb"),
    behave: () => {
      if (t.clock.now() < outageEnd) {
        refusals++;
        throw serverError();
      }
    },
  });
  const batches = Array.from({ length: 60 }, (_, i) => points(i, 50, i));
  const producer = produce(t.clock, t.poster.enqueue, batches);
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
    const t = setup({ postDelaySeconds: await postDelaySeconds("246PUVUngPo") });
    const producer = produce(t.clock, t.poster.enqueue, [points(1), points(2), points(3)]);
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
    const t = setup();
    for (const v of [1, 2, 3, 4, 5]) t.poster.enqueue(points(v));
    t.poster.enqueue([]); // an empty round is not worth a POST
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
    const t = setup({
      behave: (_, call) => {
        if (call === 1) throw new NetworkError("connection reset by peer");
      },
    });
    t.poster.enqueue(points(1));
    t.clock.after(MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(t.calls.map((c) => c.at), [0, 0]);
    assert.deepEqual(t.stored, points(1));
    assert.deepEqual(lines.slice(2), [
      "WARNING <command> Failed to post metrics value (will retry immediately): connection reset by peer",
      "DEBUG <command> Posting metrics succeeded.",
      "DEBUG <command> Posting metrics recovered.",
    ]);
  });
});

Deno.test("poster: a failed immediate retry requeues and waits a minute", async () => {
  await withLogs(async (lines) => {
    const t = setup({
      behave: (_, call) => {
        if (call <= 2) throw new NetworkError(`refused ${call}`);
      },
    });
    t.poster.enqueue(points(1));
    t.clock.after(5 * MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 0, 60]);
    assert.deepEqual(t.stored, points(1));
    assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), [
      "WARNING <command> Failed to post metrics value (will retry immediately): refused 1",
      "WARNING <command> Failed to post metrics value (will retry): refused 2",
    ]);
    assert.ok(lines.includes("DEBUG <command> Sleep 60 seconds before posting."));
    assert.equal(lines.at(-1), "DEBUG <command> Posting metrics recovered.");
  });
});

Deno.test("poster: no immediate retry when the failing try took 25 s, nor for a server error", async () => {
  const t = setup({
    behave: async (_, call) => {
      if (call === 1) {
        await t.clock.sleep(25 * SEC);
        throw new NetworkError("timeout");
      }
      if (call === 2) throw serverError();
    },
  });
  t.poster.enqueue(points(1));
  t.clock.after(5 * MIN, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 85, 145]);
  assert.deepEqual(t.stored, points(1));
});

Deno.test("poster: a batch is abandoned after 60 requeues, with its count logged", async () => {
  await withLogs(async (lines) => {
    const t = setup({
      behave: (batch) => {
        if (batch.some((p) => p.value === 13)) throw serverError();
      },
    });
    t.poster.enqueue(points(13, 2));
    t.clock.after(2 * 60 * MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.equal(t.calls.length, 61);
    assert.deepEqual(t.calls.map((c) => c.at), Array.from({ length: 61 }, (_, i) => i * MIN));
    assert.deepEqual(t.stored, []);
    assert.deepEqual(lines.filter((l) => l.startsWith("ERROR")), [
      `ERROR <command> Post values may be invalid and abandoned: ${
        JSON.stringify(points(13, 2))
      } (2 points, 61 failures)`,
    ]);
    assert.equal(t.queue.size, 0);
  });
});

Deno.test("poster: a stop while sleeping posts at once, then drains one second apart", async () => {
  const t = setup();
  for (const v of [1, 2, 3, 4, 5]) t.poster.enqueue(points(v));
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
  const t = setup({
    behave: async (_, call) => {
      if (call === 1) await t.clock.sleep(5 * SEC);
    },
  });
  for (const v of [1, 2, 3, 4, 5, 6, 7]) t.poster.enqueue(points(v));
  t.clock.after(2 * SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.deepEqual(
    t.calls.map((c) => [c.at / SEC, c.points.map((p) => p.value)]),
    [[0, [1, 2]], [6, [3, 4]], [7, [5, 6]], [8, [7]]],
  );
});

Deno.test("poster: a stop with an empty queue returns at once", async () => {
  const t = setup();
  t.poster.enqueue(points(1));
  t.clock.after(5 * SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  assert.equal(t.clock.now(), T0 + 5 * SEC);
  assert.equal(t.calls.length, 1);
});

Deno.test("poster: a stop during the initial delay drains what is queued (upstream drops it)", async () => {
  const t = setup({ postDelaySeconds: 40 });
  t.poster.enqueue(points(1));
  t.clock.after(3 * SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  // Terminating: one agent second before the post, then done.
  assert.equal(t.clock.now(), T0 + 4 * SEC);
  assert.equal(t.calls.length, 1);
  assert.equal(t.queue.size, 0);
});

Deno.test("poster: points handed over after the loop ended are counted in a WARNING", async () => {
  await withLogs(async (lines) => {
    const t = setup({ postDelaySeconds: 0 });
    t.stop.abort();
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    t.poster.enqueue(points(1, 3));
    assert.ok(
      lines.some((l) => l.includes("The post loop has ended: 3 points of a late round not posted")),
      lines.join("\n"),
    );
  });
});

Deno.test("poster: a hanging API is abandoned after the graceful-stop limit", async () => {
  await withLogs(async (lines) => {
    let aborted = false;
    const t = setup({
      behave: (_, _call, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(signal.reason);
          })
        ),
    });
    t.poster.enqueue(points(1, 3));
    t.poster.enqueue(points(2, 4));
    t.poster.enqueue(points(3, 5));
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
  const t = setup({ minuteMs: 6 * SEC, behave: () => new Promise<void>(() => {}) });
  t.poster.enqueue(points(1));
  t.clock.after(SEC, () => t.stop.abort());
  assert.equal(await t.clock.run(t.poster.run()), "forced");
  assert.equal(t.clock.now(), T0 + SEC + 3 * SEC, "half of the 6 s minute after the stop");
});

Deno.test("poster: a second stop request forces the end while draining", async () => {
  const t = setup({ behave: () => Promise.reject(serverError()) });
  for (const v of [1, 2, 3]) t.poster.enqueue(points(v));
  t.clock.after(10 * SEC, () => t.stop.abort());
  t.clock.after(12.5 * SEC, () => t.force.abort());
  assert.equal(await t.clock.run(t.poster.run()), "forced");
  assert.equal(t.clock.now(), T0 + 12.5 * SEC);
  assert.deepEqual(t.calls.map((c) => c.at / SEC), [0, 10, 11, 12]);
  assert.equal(t.clock.pending, 0);
});

Deno.test("poster: a full queue drops the oldest batches with a warning", async () => {
  await withLogs(async (lines) => {
    const t = setup({ capacity: 2 });
    for (const v of [1, 2, 3, 4]) t.poster.enqueue(points(v, v + 1));
    t.clock.after(MIN, () => t.stop.abort());
    assert.equal(await t.clock.run(t.poster.run()), "drained");
    assert.deepEqual(lines.slice(0, 2), [
      "WARNING <command> Post queue is full (2 batches): dropped the oldest 1 batches, 2 points",
      "WARNING <command> Post queue is full (2 batches): dropped the oldest 1 batches, 3 points",
    ]);
    assert.deepEqual([...new Set(t.stored.map((p) => p.value))], [3, 4]);
  });
});

Deno.test("poster: a one-second minute runs the same schedule sixty times faster", async () => {
  await withLogs(async (lines) => {
    const t = setup({
      postDelaySeconds: 30,
      minuteMs: SEC,
      behave: (_, call) => {
        if (call === 1) throw serverError();
      },
    });
    for (const v of [1, 2, 3]) t.poster.enqueue(points(v));
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
  const t = setup();
  t.stop.abort();
  assert.equal(await t.clock.run(t.poster.run()), "drained");
  await assert.rejects(t.poster.run(), /already running/);
});

Deno.test("poster: on real timers a drain leaves no timer behind", async () => {
  const stop = new AbortController();
  const sent: number[] = [];
  const poster = createPoster({
    queue: createPostQueue({ postDelaySeconds: 0, minuteMs: 600 }),
    post: (batch) => {
      sent.push(...batch.map((p) => p.value));
      stop.abort(); // the stop request arrives during the first POST
      return Promise.resolve();
    },
    isNetworkError,
    signal: stop.signal,
  });
  for (const v of [1, 2, 3]) poster.enqueue(points(v));
  assert.equal(await poster.run(), "drained");
  assert.deepEqual(sent, [1, 2, 3]);
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
