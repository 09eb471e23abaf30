import assert from "node:assert/strict";
import { runSpecUpdater } from "../../src/agent/spec_updater.ts";
import { withLogs } from "../support/logs.ts";
import { abortAfter, createVirtualClock } from "../support/virtual_clock.ts";

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;

const refreshNow = (target: EventTarget) => () => target.dispatchEvent(new Event("refresh"));

Deno.test("spec_updater: updates at once, then every period, until stopped", async () => {
  const clock = createVirtualClock(T0);
  const updates: number[] = [];
  const stop = abortAfter(clock, 2.5 * HOUR);
  await clock.run(runSpecUpdater({
    clock,
    periodMs: HOUR,
    signal: stop,
    update: () => {
      updates.push((clock.now() - T0) / MIN);
      return Promise.resolve();
    },
  }));
  assert.deepEqual(updates, [0, 60, 120]);
  // It returned at the stop, leaving no timer behind.
  assert.equal(clock.now() - T0, 2.5 * HOUR);
  assert.equal(clock.pending, 0);
});

Deno.test("spec_updater: a refresh event updates now and restarts the period", async () => {
  const clock = createVirtualClock(T0);
  const refresh = new EventTarget();
  const updates: number[] = [];
  clock.after(30 * MIN, refreshNow(refresh));
  clock.after(100 * MIN, refreshNow(refresh));
  const stop = abortAfter(clock, 170 * MIN);
  await clock.run(runSpecUpdater({
    clock,
    periodMs: HOUR,
    refresh,
    signal: stop,
    update: () => {
      updates.push((clock.now() - T0) / MIN);
      return Promise.resolve();
    },
  }));
  assert.deepEqual(updates, [0, 30, 90, 100, 160]);
});

Deno.test("spec_updater: a failing update is logged and tried again next period", async () => {
  await withLogs(async (logs) => {
    const clock = createVirtualClock(T0);
    const updates: number[] = [];
    const stop = abortAfter(clock, 2.5 * HOUR);
    await clock.run(runSpecUpdater({
      clock,
      periodMs: HOUR,
      signal: stop,
      update: async () => {
        updates.push((clock.now() - T0) / MIN);
        // Upstream does not retry in between: the next try is the next period's.
        await clock.sleep(1000);
        if (updates.length === 1) {
          throw new Error("API request failed: fake failure 503 (PUT /api/v0/hosts/2Xj9fQk7Hn3)");
        }
      },
    }));
    assert.deepEqual(updates, [0, 60 + 1 / 60, 120 + 2 / 60]);
    assert.deepEqual(logs, [
      "ERROR <command> Error while updating host specs: " +
      "API request failed: fake failure 503 (PUT /api/v0/hosts/2Xj9fQk7Hn3)",
    ]);
  });
});

Deno.test("spec_updater: an already aborted signal updates nothing", async () => {
  const clock = createVirtualClock(T0);
  let updates = 0;
  await clock.run(runSpecUpdater({
    clock,
    periodMs: HOUR,
    signal: AbortSignal.abort(),
    update: () => {
      updates++;
      return Promise.resolve();
    },
  }));
  assert.equal(updates, 0);
});

Deno.test({
  name: "spec_updater: a refresh during an update is not lost ",
  fn: async () => {
    const clock = createVirtualClock(T0);
    const refresh = new EventTarget();
    const updates: number[] = [];
    // SIGHUP arrives while the first update (taking 10 s, e.g. cloud probing) is in progress.
    clock.after(5000, refreshNow(refresh));
    const stop = abortAfter(clock, 30 * MIN);
    await clock.run(runSpecUpdater({
      clock,
      periodMs: HOUR,
      refresh,
      signal: stop,
      update: async () => {
        updates.push(clock.now() - T0);
        await clock.sleep(10_000);
      },
    }));
    // Upstream runs an update for every SIGHUP: the second one starts once the first is done.
    assert.deepEqual(updates, [0, 10_000]);
  },
});
