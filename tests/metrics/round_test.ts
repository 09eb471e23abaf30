import assert from "node:assert/strict";
import type { CollectContext, Collector, MetricValue } from "../../src/metrics/collector.ts";
import { createCounterRateCollector } from "../../src/metrics/counter_rates.ts";
import { collectRound } from "../../src/metrics/round.ts";
import { createWindows } from "../../src/metrics/window.ts";
import { captureLogs } from "../support/logs.ts";
import { T0 } from "./rounds.ts";

const fixed = (name: string, values: MetricValue[]): Collector => ({
  name,
  collect: () => Promise.resolve(values),
});

Deno.test("window: the nominal window between scheduled rounds, stamped with the earlier one", () => {
  const windows = createWindows<string>();
  assert.equal(windows.advance(T0 + 500, "a"), undefined);
  assert.deepEqual(windows.advance(T0 + 60_000, "b"), {
    previous: "a",
    current: "b",
    seconds: 59.5,
    time: T0 / 1000,
  });
  // A round not after the kept one (a slow round finishing late) is ignored: no window, and the
  // newer baseline stays.
  assert.equal(windows.advance(T0 + 60_000, "late"), undefined);
  assert.equal(windows.advance(T0 + 30_000, "older"), undefined);
  assert.deepEqual(windows.advance(T0 + 120_000, "c"), {
    previous: "b",
    current: "c",
    seconds: 60,
    time: T0 / 1000 + 60,
  });
});

Deno.test("counter rates: divided by the scheduled window, however long the read took", async () => {
  let count = 0;
  const collector = createCounterRateCollector({
    name: "slow",
    metricName: (key, counter) => `${key}.${counter}`,
    read: async () => {
      // A slow source: the measured gap between reads is not the nominal minute.
      await new Promise((resolve) => setTimeout(resolve, 20));
      count += 600;
      return { counters: new Map([["k", { c: count }]]), gauges: [{ name: "g", value: count }] };
    },
  });
  const signal = new AbortController().signal;
  assert.deepEqual(await collector.collect({ timeMs: T0, signal }), [{ name: "g", value: 600 }]);
  assert.deepEqual(await collector.collect({ timeMs: T0 + 60_000, signal }), [
    { name: "g", value: 1200 },
    { name: "k.c", value: 10, time: T0 / 1000 },
  ]);
});

Deno.test("counter rates: a read finishing after its round was given up does not move the baseline", async () => {
  let count = 0;
  const collector = createCounterRateCollector({
    name: "c",
    metricName: (key) => key,
    read: () => Promise.resolve({ counters: new Map([["k", { c: count += 60 }]]) }),
  });
  const live = new AbortController().signal;
  await collector.collect({ timeMs: T0, signal: live });
  const gone = AbortSignal.abort();
  await assert.rejects(collector.collect({ timeMs: T0 + 60_000, signal: gone }));
  // The next round spans both minutes from the last kept sample, stamped with its time.
  assert.deepEqual(await collector.collect({ timeMs: T0 + 120_000, signal: live }), [
    { name: "k", value: 1, time: T0 / 1000 },
  ]);
});

Deno.test("round: every collector gets the round's time; stamped values keep theirs", async () => {
  const seen: CollectContext[] = [];
  const spy: Collector = {
    name: "spy",
    collect: (context) => {
      seen.push(context);
      return Promise.resolve([{ name: "rate", value: 2, time: T0 / 1000 - 60 }]);
    },
  };
  const values = await collectRound([fixed("a", [{ name: "x", value: 1 }]), spy], {
    timeMs: T0,
  });
  assert.deepEqual(values, [{ name: "x", value: 1 }, {
    name: "rate",
    value: 2,
    time: T0 / 1000 - 60,
  }]);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].timeMs, T0);
  assert.equal(seen[0].signal.aborted, false);
});

Deno.test("round: a later duplicate wins, a non-finite value is dropped with a WARNING", async () => {
  const { result, lines } = await captureLogs(() =>
    collectRound([
      fixed("a", [{ name: "x", value: 1 }, { name: "bad", value: NaN }]),
      fixed("b", [{ name: "x", value: 2 }]),
    ], { timeMs: T0 })
  );
  assert.deepEqual(result, [{ name: "x", value: 2 }]);
  assert.deepEqual(lines, ["WARNING <agent> Invalid value: name = bad, value = NaN is not sent."]);
});

Deno.test("round: a collector past its deadline is skipped with one ERROR, its signal aborted", async () => {
  let signal: AbortSignal | undefined;
  const stuck: Collector = {
    name: "stuck",
    collect: (context) => {
      signal = context.signal;
      return new Promise(() => {});
    },
  };
  const { result, lines } = await captureLogs(() =>
    collectRound([stuck, fixed("ok", [{ name: "y", value: 3 }])], { timeMs: T0, deadlineMs: 30 })
  );
  assert.deepEqual(result, [{ name: "y", value: 3 }]);
  assert.equal(signal?.aborted, true);
  assert.deepEqual(lines, [
    "ERROR <agent> Failed to generate value in stuck (skip this metric): timed out after 0.03 seconds",
  ]);
  await assert.rejects(collectRound([], { timeMs: T0, deadlineMs: 0 }), RangeError);
});
