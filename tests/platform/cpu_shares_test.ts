import assert from "node:assert/strict";
import { cpuShares, createCpuSharesCollector, sumCpuTimes } from "../../src/metrics/cpu_shares.ts";
import type { CpuTimes } from "../../src/platform/platform.ts";
import { at, T0 } from "../metrics/rounds.ts";

const cpu = (user: number, sys: number, idle: number, nice = 0): CpuTimes => ({
  user,
  nice,
  sys,
  idle,
  irq: 0,
});

Deno.test("cpu shares: iostat's arithmetic, nice time left out of the share and the total", () => {
  const before = sumCpuTimes([cpu(1000, 500, 8000, 70), cpu(2000, 500, 7000, 30)]);
  const after = sumCpuTimes([cpu(1600, 700, 9200, 570), cpu(2300, 900, 8300, 530)]);
  // Deltas: user 900, sys 600, idle 2500 (nice 1000 ignored): of 4000 in all.
  assert.deepEqual(cpuShares(before, after), [
    { name: "cpu.user.percentage", value: 22.5 },
    { name: "cpu.system.percentage", value: 15 },
    { name: "cpu.idle.percentage", value: 62.5 },
  ]);
});

Deno.test("cpu shares: none across a CPU count change, a counter going back, or no time", () => {
  const one = sumCpuTimes([cpu(10, 10, 10)]);
  assert.deepEqual(cpuShares(one, sumCpuTimes([cpu(20, 20, 20), cpu(1, 1, 1)])), []);
  assert.deepEqual(cpuShares(one, sumCpuTimes([cpu(5, 20, 20)])), []);
  assert.deepEqual(cpuShares(one, one), []);
});

Deno.test("cpu shares collector: nothing on the first round, then the window's shares at its start", async () => {
  const samples = [[cpu(0, 0, 0)], [cpu(300, 100, 600)]];
  const collector = createCpuSharesCollector(() => Promise.resolve(samples.shift()!));
  assert.deepEqual(await collector.collect(at(T0)), []);
  const values = await collector.collect(at(T0 + 60_000));
  assert.deepEqual(values, [
    { name: "cpu.user.percentage", value: 30, time: T0 / 1000 },
    { name: "cpu.system.percentage", value: 10, time: T0 / 1000 },
    { name: "cpu.idle.percentage", value: 60, time: T0 / 1000 },
  ]);
});
