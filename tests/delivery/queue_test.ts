import assert from "node:assert/strict";
import type { MetricPoint } from "../../src/mackerel/types.ts";
import {
  createPostQueue,
  DEFAULT_CAPACITY,
  DEFAULT_MAX_REQUEUES,
} from "../../src/delivery/queue.ts";

/** 2024-01-01T00:00:00Z, second 0 of a minute. */
const T0 = Date.UTC(2024, 0, 1);

function batch(value: number, size = 1): MetricPoint[] {
  return Array.from({ length: size }, (_, i) => ({
    hostId: "h",
    name: `m${i}`,
    time: 1_704_067_200 + value * 60,
    value,
  }));
}

Deno.test("queue: upstream's defaults are 360 batches and 60 requeues", () => {
  assert.equal(DEFAULT_CAPACITY, 360);
  assert.equal(DEFAULT_MAX_REQUEUES, 60);
  const q = createPostQueue({ postDelaySeconds: 40 });
  assert.equal(q.capacity, 360);
  assert.equal(q.timings.minuteMs, 60_000);
  assert.equal(q.state, "first");
  assert.equal(q.next(T0), undefined);
});

Deno.test("queue: the first post goes at once, then default when nothing waits", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  q.enqueue(batch(1));
  const first = q.next(T0 + 5_000)!;
  assert.equal(first.delayMs, 0);
  assert.deepEqual(first.points, batch(1));
  assert.equal(q.state, "default");
  assert.deepEqual(q.onSuccess(), { done: false, recovered: false });
});

Deno.test("queue: at most two batches per post, merged in order; a backlog means queued", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  for (const v of [1, 2, 3]) q.enqueue(batch(v, 2));
  assert.equal(q.size, 3);
  assert.equal(q.pointCount, 6);
  const first = q.next(T0)!;
  assert.equal(first.batches.length, 2);
  assert.deepEqual(first.points, [...batch(1, 2), ...batch(2, 2)]);
  assert.equal(q.state, "queued");
  assert.equal(q.size, 1);
  assert.equal(q.pointCount, 2);
  q.onSuccess();
  const second = q.next(T0)!;
  assert.equal(second.delayMs, 30_000, "the dequeue delay is half a minute");
  assert.deepEqual(second.points, batch(3, 2));
  assert.equal(q.state, "default");
  assert.equal(q.pointCount, 0);
});

Deno.test("queue: default delay waits for this host's second of the minute", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  q.enqueue(batch(1));
  q.next(T0);
  q.onSuccess();
  const cases: [number, number][] = [
    [0, 40_000],
    [10_000, 30_000],
    [39_500, 500],
    [40_000, 0],
    [59_999, 0],
    [3 * 60_000 + 25_000, 15_000],
  ];
  for (const [offset, expected] of cases) {
    q.enqueue(batch(2));
    assert.equal(q.state, "default");
    assert.equal(q.next(T0 + offset)!.delayMs, expected, `at +${offset} ms`);
  }
});

Deno.test("queue: after a failure the next post waits one minute", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  q.enqueue(batch(1));
  const taken = q.next(T0)!;
  const outcome = q.onFailure(taken.batches);
  assert.deepEqual(outcome, { abandoned: [], dropped: { batches: 0, points: 0 } });
  assert.equal(q.state, "hadError");
  const retry = q.next(T0 + 1_000)!;
  assert.equal(retry.delayMs, 60_000);
  assert.equal(retry.batches[0].requeues, 1);
  assert.equal(q.state, "default");
  assert.deepEqual(q.onSuccess(), { done: false, recovered: true });
  q.enqueue(batch(2));
  q.next(T0);
  assert.deepEqual(q.onSuccess(), { done: false, recovered: false });
});

Deno.test("queue: a failed batch goes back to the tail with its counter raised", () => {
  const q = createPostQueue({ postDelaySeconds: 0 });
  for (const v of [1, 2, 3]) q.enqueue(batch(v));
  const taken = q.next(T0)!;
  q.onFailure(taken.batches);
  q.enqueue(batch(4));
  const order: [number, number][] = [];
  for (let next = q.next(T0); next; next = q.next(T0)) {
    for (const b of next.batches) order.push([b.points[0].value, b.requeues]);
    q.onSuccess();
  }
  assert.deepEqual(order, [[3, 0], [1, 1], [2, 1], [4, 0]]);
});

Deno.test("queue: a batch is abandoned at its 61st failure", () => {
  const q = createPostQueue({ postDelaySeconds: 0 });
  q.enqueue(batch(7, 3));
  for (let failures = 1; failures <= 60; failures++) {
    const taken = q.next(T0)!;
    assert.equal(taken.batches[0].requeues, failures - 1);
    assert.deepEqual(q.onFailure(taken.batches).abandoned, []);
  }
  const last = q.next(T0)!;
  const outcome = q.onFailure(last.batches);
  assert.deepEqual(outcome.abandoned, [{ points: batch(7, 3), requeues: 61 }]);
  assert.equal(q.size, 0);
  assert.equal(q.pointCount, 0);
});

Deno.test("queue: the requeue limit is configurable", () => {
  const q = createPostQueue({ postDelaySeconds: 0, maxRequeues: 0 });
  q.enqueue(batch(1));
  q.enqueue(batch(2));
  const outcome = q.onFailure(q.next(T0)!.batches);
  assert.deepEqual(outcome.abandoned.map((b) => b.points[0].value), [1, 2]);
});

Deno.test("queue: a full queue drops its oldest batches and says how many points", () => {
  const q = createPostQueue({ postDelaySeconds: 0, capacity: 3 });
  assert.deepEqual(q.enqueue(batch(1, 4)), { batches: 0, points: 0 });
  assert.deepEqual(q.enqueue(batch(2, 5)), { batches: 0, points: 0 });
  assert.deepEqual(q.enqueue(batch(3, 6)), { batches: 0, points: 0 });
  assert.deepEqual(q.enqueue(batch(4, 7)), { batches: 1, points: 4 });
  assert.deepEqual(q.enqueue(batch(5, 1)), { batches: 1, points: 5 });
  assert.equal(q.size, 3);
  assert.equal(q.pointCount, 6 + 7 + 1);
  assert.deepEqual(q.next(T0)!.batches.map((b) => b.points[0].value), [3, 4]);
});

Deno.test("queue: requeued batches past the bound push the oldest out", () => {
  const q = createPostQueue({ postDelaySeconds: 0, capacity: 2 });
  q.enqueue(batch(1, 2));
  q.enqueue(batch(2, 2));
  const taken = q.next(T0)!;
  q.enqueue(batch(3, 3));
  q.enqueue(batch(4, 4));
  const outcome = q.onFailure(taken.batches);
  assert.deepEqual(outcome.dropped, { batches: 2, points: 7 });
  assert.deepEqual(q.next(T0)!.batches.map((b) => [b.points[0].value, b.requeues]), [[1, 1], [
    2,
    1,
  ]]);
});

Deno.test("queue: terminating drains one second apart and ends when empty", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  for (const v of [1, 2, 3]) q.enqueue(batch(v));
  assert.equal(q.terminate(), true);
  assert.equal(q.terminate(), false, "a second stop request is reported");
  const first = q.next(T0)!;
  assert.equal(first.delayMs, 1_000);
  assert.equal(q.state, "terminating");
  assert.deepEqual(q.onSuccess(), { done: false, recovered: false });
  const second = q.next(T0)!;
  assert.equal(second.delayMs, 1_000);
  q.onFailure(second.batches);
  assert.equal(q.state, "terminating", "a failure while terminating keeps draining");
  q.next(T0);
  assert.deepEqual(q.onSuccess(), { done: true, recovered: true });
});

Deno.test("queue: delays follow a shortened minute", () => {
  const q = createPostQueue({ postDelaySeconds: 30, minuteMs: 1_000 });
  for (const v of [1, 2, 3, 4]) q.enqueue(batch(v));
  assert.equal(q.next(T0)!.delayMs, 0);
  assert.equal(q.next(T0)!.delayMs, 500, "queued: half of the 1 000 ms minute");
  q.onFailure([]);
  q.enqueue(batch(5));
  assert.equal(q.next(T0)!.delayMs, 1_000, "after an error: the whole minute");
  q.enqueue(batch(6));
  assert.equal(q.next(T0 + 5_200)!.delayMs, 300, "default: up to second 30 of the minute");
  q.terminate();
  q.enqueue(batch(7));
  assert.equal(q.next(T0)!.delayMs, 1_000 / 60);
});

Deno.test("queue: a bad capacity or post delay is refused", () => {
  assert.throws(() => createPostQueue({ postDelaySeconds: 0, capacity: 0 }), /capacity/);
  assert.throws(() => createPostQueue({ postDelaySeconds: 60 }), /\[0, 60\) seconds, got 60/);
  assert.throws(() => createPostQueue({ postDelaySeconds: 1.5 }), RangeError);
  assert.throws(() => createPostQueue({ postDelaySeconds: 0, minuteMs: 0 }), RangeError);
});
