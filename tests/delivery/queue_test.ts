import assert from "node:assert/strict";
import { createPostQueue, type QueuedRound } from "../../src/delivery/queue.ts";

/** 2024-01-01T00:00:00Z, second 0 of a minute. */
const T0 = Date.UTC(2024, 0, 1);

function round(id: number, count = 1): QueuedRound {
  return { id, count };
}

const ids = (rounds: readonly QueuedRound[]) => rounds.map((r) => r.id);

Deno.test("queue: starts empty in state first, with upstream's minute", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  assert.equal(q.timings.minuteMs, 60_000);
  assert.equal(q.state, "first");
  assert.equal(q.next(T0), undefined);
});

Deno.test("queue: the first post goes at once, then default when nothing waits", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  q.enqueue(round(1));
  const first = q.next(T0 + 5_000)!;
  assert.equal(first.delayMs, 0);
  assert.deepEqual(ids(first.batches), [1]);
  assert.equal(q.state, "default");
  assert.deepEqual(q.onSuccess(), { done: false, recovered: false });
});

Deno.test("queue: at most two rounds per post, in order; a backlog means queued", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  for (const id of [1, 2, 3]) q.enqueue(round(id, 2));
  assert.equal(q.size, 3);
  assert.equal(q.pointCount, 6);
  const first = q.next(T0)!;
  assert.deepEqual(ids(first.batches), [1, 2]);
  assert.equal(q.state, "queued");
  assert.equal(q.size, 1);
  assert.equal(q.pointCount, 2);
  assert.deepEqual(ids(q.waiting()), [3]);
  q.onSuccess();
  const second = q.next(T0)!;
  assert.equal(second.delayMs, 30_000, "the dequeue delay is half a minute");
  assert.deepEqual(ids(second.batches), [3]);
  assert.equal(q.state, "default");
  assert.equal(q.pointCount, 0);
});

Deno.test("queue: default delay waits for this host's second of the minute", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  q.enqueue(round(1));
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
    q.enqueue(round(2));
    assert.equal(q.state, "default");
    assert.equal(q.next(T0 + offset)!.delayMs, expected, `at +${offset} ms`);
  }
});

Deno.test("queue: after a failure the next post waits one minute", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  q.enqueue(round(1));
  const taken = q.next(T0)!;
  q.onFailure(taken.batches);
  assert.equal(q.state, "hadError");
  const retry = q.next(T0 + 1_000)!;
  assert.equal(retry.delayMs, 60_000);
  assert.deepEqual(ids(retry.batches), [1]);
  assert.equal(q.state, "default");
  assert.deepEqual(q.onSuccess(), { done: false, recovered: true });
  q.enqueue(round(2));
  q.next(T0);
  assert.deepEqual(q.onSuccess(), { done: false, recovered: false });
});

Deno.test("queue: a failed round goes back to the tail, behind rounds queued meanwhile", () => {
  const q = createPostQueue({ postDelaySeconds: 0 });
  for (const id of [1, 2, 3]) q.enqueue(round(id));
  q.onFailure(q.next(T0)!.batches);
  q.enqueue(round(4));
  const order: number[] = [];
  for (let next = q.next(T0); next; next = q.next(T0)) {
    order.push(...ids(next.batches));
    q.onSuccess();
  }
  assert.deepEqual(order, [3, 1, 2, 4]);
});

Deno.test("queue: a refusal without requeue still waits the error minute", () => {
  const q = createPostQueue({ postDelaySeconds: 0 });
  q.enqueue(round(1));
  q.enqueue(round(2));
  q.enqueue(round(3));
  q.next(T0);
  q.onFailure([]);
  assert.equal(q.size, 1);
  assert.equal(q.next(T0)!.delayMs, 60_000);
});

Deno.test("queue: Retry-After holds the next post until the time given, never less than the state's delay", () => {
  const q = createPostQueue({ postDelaySeconds: 0 });
  q.enqueue(round(1));
  q.onFailure(q.next(T0)!.batches, T0 + 5 * 60_000);
  assert.equal(q.next(T0 + 60_000)!.delayMs, 4 * 60_000, "held past the error minute");
  q.onFailure([round(1)], T0 + 1_000);
  assert.equal(q.next(T0)!.delayMs, 60_000, "a short Retry-After keeps the error minute");
  q.onSuccess();
  q.enqueue(round(2));
  q.onFailure([], 0);
  assert.equal(q.next(T0)!.delayMs, 60_000);
});

Deno.test("queue: terminating drains one second apart and ends when empty", () => {
  const q = createPostQueue({ postDelaySeconds: 40 });
  for (const id of [1, 2, 3]) q.enqueue(round(id));
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
  for (const id of [1, 2, 3, 4]) q.enqueue(round(id));
  assert.equal(q.next(T0)!.delayMs, 0);
  assert.equal(q.next(T0)!.delayMs, 500, "queued: half of the 1 000 ms minute");
  q.onFailure([]);
  q.enqueue(round(5));
  assert.equal(q.next(T0)!.delayMs, 1_000, "after an error: the whole minute");
  q.enqueue(round(6));
  assert.equal(q.next(T0 + 5_200)!.delayMs, 300, "default: up to second 30 of the minute");
  q.terminate();
  q.enqueue(round(7));
  assert.equal(q.next(T0)!.delayMs, 1_000 / 60);
});

Deno.test("queue: a bad post delay is refused", () => {
  assert.throws(() => createPostQueue({ postDelaySeconds: 60 }), RangeError);
  assert.throws(() => createPostQueue({ postDelaySeconds: 1.5 }), RangeError);
  assert.throws(() => createPostQueue({ postDelaySeconds: 0, minuteMs: 0 }), RangeError);
});
