import assert from "node:assert/strict";
import { retry, tryWithImmediateRetry } from "../../src/async/retry.ts";
import { abortAfter, createVirtualClock } from "../support/virtual_clock.ts";

const T0 = Date.UTC(2024, 0, 1);

/** A task failing `failures` times, recording the virtual time of each call. */
function flaky<T>(clock: { now(): number }, failures: number, value: T) {
  const calls: number[] = [];
  const fn = () => {
    calls.push(clock.now() - T0);
    return calls.length <= failures
      ? Promise.reject(new Error(`failure ${calls.length}`))
      : Promise.resolve(value);
  };
  return { fn, calls };
}

Deno.test("retry: a first success is returned without waiting", async () => {
  const clock = createVirtualClock(T0);
  const { fn, calls } = flaky(clock, 0, "ok");
  assert.equal(await clock.run(retry(fn, { attempts: 5, delayMs: 3000, clock })), "ok");
  assert.deepEqual(calls, [0]);
  assert.equal(clock.pending, 0);
});

Deno.test("retry: failures are retried after the delay until one succeeds", async () => {
  const clock = createVirtualClock(T0);
  const { fn, calls } = flaky(clock, 2, 42);
  const retried: [string, number][] = [];
  const result = await clock.run(retry(fn, {
    attempts: 20,
    delayMs: 3000,
    clock,
    onRetry: (error, attempt) => retried.push([(error as Error).message, attempt]),
  }));
  assert.equal(result, 42);
  assert.deepEqual(calls, [0, 3000, 6000]);
  assert.deepEqual(retried, [["failure 1", 1], ["failure 2", 2]]);
});

Deno.test("retry: after the last attempt its error is thrown", async () => {
  const clock = createVirtualClock(T0);
  const { fn, calls } = flaky(clock, Infinity, 0);
  let retries = 0;
  await assert.rejects(
    clock.run(retry(fn, { attempts: 3, delayMs: 2000, clock, onRetry: () => retries++ })),
    new Error("failure 3"),
  );
  assert.deepEqual(calls, [0, 2000, 4000]);
  assert.equal(retries, 2);
  assert.equal(clock.pending, 0);
});

Deno.test("retry: one attempt means no retry", async () => {
  const clock = createVirtualClock(T0);
  const { fn, calls } = flaky(clock, Infinity, 0);
  await assert.rejects(clock.run(retry(fn, { attempts: 1, delayMs: 10, clock })), /failure 1/);
  assert.deepEqual(calls, [0]);
});

Deno.test("retry: an error that is not retryable is thrown at once", async () => {
  const clock = createVirtualClock(T0);
  const seen: unknown[] = [];
  let calls = 0;
  const fatal = new Error("403 Forbidden");
  const fn = () => Promise.reject(++calls === 1 ? new Error("503") : fatal);
  await assert.rejects(
    clock.run(retry(fn, {
      attempts: 20,
      delayMs: 3000,
      clock,
      retryable: (error) => {
        seen.push(error);
        return error !== fatal;
      },
    })),
    (error) => error === fatal,
  );
  assert.equal(calls, 2);
  assert.equal(seen.length, 2);
  assert.equal(clock.now() - T0, 3000);
});

Deno.test({
  name: "retry: an abort during the wait ends it with the last error ",
  fn: async () => {
    const clock = createVirtualClock(T0);
    const { fn, calls } = flaky(clock, Infinity, 0);
    const stop = abortAfter(clock, 4500);
    await assert.rejects(
      clock.run(retry(fn, { attempts: 20, delayMs: 3000, clock, signal: stop })),
      new Error("failure 2"),
    );
    // Attempts at 0 and 3000; the wait for 6000 is cut at 4500 and nothing more is tried.
    assert.deepEqual(calls, [0, 3000]);
    assert.equal(clock.pending, 0);
  },
});

Deno.test("retry: an abort during the wait cuts it short", async () => {
  const clock = createVirtualClock(T0);
  const { fn, calls } = flaky(clock, Infinity, 0);
  const stop = abortAfter(clock, 4500);
  await assert.rejects(
    clock.run(retry(fn, { attempts: 20, delayMs: 3000, clock, signal: stop })),
  );
  // No attempt waits for the 6000 slot, let alone the 19 more of an uninterrupted run.
  assert.deepEqual(calls.slice(0, 2), [0, 3000]);
  assert.ok(calls.length <= 3 && calls.every((t) => t <= 4500), String(calls));
  assert.equal(clock.pending, 0);
});

Deno.test("retry: an already aborted signal allows one attempt and no wait", async () => {
  const clock = createVirtualClock(T0);
  const { fn, calls } = flaky(clock, Infinity, 0);
  let retries = 0;
  await assert.rejects(
    clock.run(retry(fn, {
      attempts: 20,
      delayMs: 3000,
      clock,
      signal: AbortSignal.abort(),
      onRetry: () => retries++,
    })),
    new Error("failure 1"),
  );
  assert.deepEqual(calls, [0]);
  assert.equal(retries, 0);
});

Deno.test("retry: an abort while an attempt runs stops after that attempt", async () => {
  const clock = createVirtualClock(T0);
  const controller = new AbortController();
  const calls: number[] = [];
  const fn = async () => {
    calls.push(clock.now() - T0);
    if (calls.length === 2) controller.abort();
    await clock.sleep(100);
    throw new Error(`failure ${calls.length}`);
  };
  await assert.rejects(
    clock.run(retry(fn, { attempts: 20, delayMs: 3000, clock, signal: controller.signal })),
    new Error("failure 2"),
  );
  assert.deepEqual(calls, [0, 3100]);
});

Deno.test("retry: a quick network failure is tried again at once, and only once", async () => {
  const clock = createVirtualClock(0);
  let calls = 0;
  const result = await tryWithImmediateRetry(() => {
    calls++;
    return Promise.reject(new Error("reset"));
  }, { clock, windowMs: 25_000, isNetworkError: () => true });
  assert.equal(calls, 2);
  assert.equal(result.retried, true);
  assert.equal((result.failure?.error as Error).message, "reset");
});

Deno.test("retry: no immediate retry for a slow, a non-network or an unwanted failure", async () => {
  const clock = createVirtualClock(0);
  const cases = [
    { slow: true, network: true, allowed: true },
    { slow: false, network: false, allowed: true },
    { slow: false, network: true, allowed: false },
  ];
  for (const c of cases) {
    let calls = 0;
    const result = await clock.run(tryWithImmediateRetry(async () => {
      calls++;
      if (c.slow) await clock.sleep(25_000);
      throw new Error("down");
    }, {
      clock,
      windowMs: 25_000,
      isNetworkError: () => c.network,
      allowed: () => c.allowed,
    }));
    assert.equal(calls, 1, JSON.stringify(c));
    assert.equal(result.retried, false);
  }
});

Deno.test("retry: success on the first try needs no retry", async () => {
  const result = await tryWithImmediateRetry(() => Promise.resolve(), {
    clock: createVirtualClock(0),
    windowMs: 25_000,
    isNetworkError: () => true,
  });
  assert.deepEqual(result, { failure: undefined, retried: false });
});
