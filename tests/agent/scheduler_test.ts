import assert from "node:assert/strict";
import { runScheduler } from "../../src/agent/scheduler.ts";
import { withLogs } from "../support/logs.ts";
import { abortAfter, createVirtualClock } from "../support/virtual_clock.ts";

/** 2024-01-01T00:00:00Z, second 0 of a minute. */
const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

/** A promise the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test("scheduler: a round at once, then one at every minute boundary, stamped with it", async () => {
  // 17.25 s into a minute: the first round is stamped now, the next ones on the boundaries.
  const start = T0 + 17_250;
  const clock = createVirtualClock(start);
  const rounds: { stamp: number; at: number }[] = [];
  const stop = abortAfter(clock, 3 * MIN);
  await clock.run(runScheduler({
    clock,
    minuteMs: MIN,
    signal: stop,
    round: (timeMs) => {
      rounds.push({ stamp: timeMs - T0, at: clock.now() - T0 });
      return Promise.resolve();
    },
  }));
  assert.deepEqual(rounds, [
    { stamp: 17_250, at: 17_250 },
    { stamp: MIN, at: MIN },
    { stamp: 2 * MIN, at: 2 * MIN },
    { stamp: 3 * MIN, at: 3 * MIN },
  ]);
  // The stop came at 3:17.25; the scheduler left no timer behind.
  assert.equal(clock.now() - T0, 3 * MIN + 17_250);
  assert.equal(clock.pending, 0);
});

Deno.test("scheduler: the minute is the agent's minute (-interval)", async () => {
  const clock = createVirtualClock(T0 + 1500);
  const stamps: number[] = [];
  const stop = abortAfter(clock, 3500);
  await clock.run(runScheduler({
    clock,
    minuteMs: 1000,
    signal: stop,
    round: (timeMs) => {
      stamps.push(timeMs - T0);
      return Promise.resolve();
    },
  }));
  assert.deepEqual(stamps, [1500, 2000, 3000, 4000]);
});

Deno.test("scheduler: a 4th tick while 3 rounds hang is skipped with a WARNING", async () => {
  await withLogs(async (logs) => {
    const clock = createVirtualClock(T0);
    const hanging: ReturnType<typeof deferred>[] = [];
    const stamps: number[] = [];
    const settledAt: number[] = [];
    clock.after(3.5 * MIN, () => hanging[0].resolve());
    const stop = abortAfter(clock, 4.5 * MIN);
    clock.after(5.25 * MIN, () => hanging.slice(1).forEach((d) => d.resolve()));
    const scheduler = runScheduler({
      clock,
      minuteMs: MIN,
      maxConcurrent: 3,
      signal: stop,
      round: async (timeMs) => {
        stamps.push((timeMs - T0) / MIN);
        const d = deferred();
        hanging.push(d);
        await d.promise;
        settledAt.push((clock.now() - T0) / MIN);
      },
    });
    await clock.run(scheduler);
    // 0, 1, 2 hang; 3 is skipped; the slot freed at 3.5 takes 4; the stop at 4.5 ends ticking.
    assert.deepEqual(stamps, [0, 1, 2, 4]);
    assert.deepEqual(logs, [
      "WARNING <agent> 3 collection rounds are still running; skipping this one",
    ]);
    // The scheduler resolved only once the rounds in progress had settled, at 5.25.
    assert.deepEqual(settledAt, [3.5, 5.25, 5.25, 5.25]);
    assert.equal(clock.now() - T0, 5.25 * MIN);
  });
});

Deno.test("scheduler: a stop waits for the rounds in progress", async () => {
  const clock = createVirtualClock(T0);
  const round = deferred();
  let finished = false;
  const stop = abortAfter(clock, 30_000);
  clock.after(45_000, () => round.resolve());
  const scheduler = runScheduler({
    clock,
    minuteMs: MIN,
    signal: stop,
    round: async () => {
      await round.promise;
      finished = true;
    },
  });
  await clock.run(scheduler);
  assert.equal(finished, true);
  assert.equal(clock.now() - T0, 45_000);
});

Deno.test("scheduler: force ends the wait for hanging rounds", async () => {
  const clock = createVirtualClock(T0);
  const force = new AbortController();
  let started = 0;
  const stop = abortAfter(clock, 1.5 * MIN);
  clock.after(2 * MIN, () => force.abort());
  await clock.run(runScheduler({
    clock,
    minuteMs: MIN,
    signal: stop,
    force: force.signal,
    round: () => {
      started++;
      return new Promise<void>(() => {}); // never settles
    },
  }));
  assert.equal(started, 2);
  assert.equal(clock.now() - T0, 2 * MIN);
});

Deno.test("scheduler: a force already aborted at the stop does not wait at all", async () => {
  const clock = createVirtualClock(T0);
  const stop = new AbortController();
  const force = new AbortController();
  clock.after(10_000, () => {
    force.abort();
    stop.abort();
  });
  await clock.run(runScheduler({
    clock,
    minuteMs: MIN,
    signal: stop.signal,
    force: force.signal,
    round: () => new Promise<void>(() => {}),
  }));
  assert.equal(clock.now() - T0, 10_000);
});

Deno.test("scheduler: an already aborted signal runs no round", async () => {
  const clock = createVirtualClock(T0);
  let started = 0;
  await clock.run(runScheduler({
    clock,
    minuteMs: MIN,
    signal: AbortSignal.abort(),
    round: () => {
      started++;
      return Promise.resolve();
    },
  }));
  assert.equal(started, 0);
});

Deno.test("scheduler: a failing round is logged and the ticking goes on", async () => {
  await withLogs(async (logs) => {
    const clock = createVirtualClock(T0);
    const stamps: number[] = [];
    const stop = abortAfter(clock, 2.5 * MIN);
    await clock.run(runScheduler({
      clock,
      minuteMs: MIN,
      signal: stop,
      round: (timeMs) => {
        stamps.push((timeMs - T0) / MIN);
        return stamps.length === 1 ? Promise.reject(new Error("disk gone")) : Promise.resolve();
      },
    }));
    assert.deepEqual(stamps, [0, 1, 2]);
    assert.deepEqual(logs, ["ERROR <agent> collection round failed: disk gone"]);
  });
});

Deno.test("scheduler: a round taking longer than a minute does not shift the boundaries", async () => {
  const clock = createVirtualClock(T0);
  const stamps: number[] = [];
  const stop = abortAfter(clock, 4.5 * MIN);
  await clock.run(runScheduler({
    clock,
    minuteMs: MIN,
    signal: stop,
    round: async (timeMs) => {
      stamps.push((timeMs - T0) / MIN);
      await clock.sleep(1.5 * MIN);
    },
  }));
  assert.deepEqual(stamps, [0, 1, 2, 3, 4]);
  // Resolved when the round stamped 4 finished, at 5.5.
  assert.equal(clock.now() - T0, 5.5 * MIN);
});
