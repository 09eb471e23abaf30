import assert from "node:assert/strict";
import { cpus } from "node:os";
import {
  createCpuFallback,
  createLoadavgFallback,
  createMemoryFallback,
} from "../../src/metrics/fallback.ts";
import { parseMeminfo } from "../../src/metrics/memory.ts";
import { at, T0 } from "./rounds.ts";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("compares with the live /proc/meminfo");

// These run against the live machine: the point of a fallback is what Deno's built-ins report here.

Deno.test("fallback: loadavg from Deno.loadavg() has the primary's names", async () => {
  const collector = createLoadavgFallback();
  assert.equal(collector.name, "loadavg");
  const values = await collector.collect(at(T0));
  assert.deepEqual(values.map((v) => v.name), ["loadavg1", "loadavg5", "loadavg15"]);
  for (const v of values) assert.ok(Number.isFinite(v.value) && v.value >= 0, v.name);
});

linux.test("fallback: memory from Deno.systemMemoryInfo() matches /proc/meminfo's MemTotal", async () => {
  const collector = createMemoryFallback();
  assert.equal(collector.name, "memory");
  const values = await collector.collect(at(T0));
  // No memory.cached (Deno reports 0) and no memory.swap_cached (Deno lacks it).
  assert.deepEqual(values.map((v) => v.name), [
    "memory.total",
    "memory.used",
    "memory.mem_available",
    "memory.swap_total",
    "memory.swap_free",
  ]);
  const byName = new Map(values.map((v) => [v.name, v.value]));
  const live = parseMeminfo(await Deno.readTextFile("/proc/meminfo"));
  assert.equal(byName.get("memory.total"), live.get("MemTotal"));
  assert.equal(byName.get("memory.swap_total"), live.get("SwapTotal"));
  assert.equal(
    byName.get("memory.used"),
    byName.get("memory.total")! - byName.get("memory.mem_available")!,
  );
  for (const v of values) assert.ok(Number.isSafeInteger(v.value) && v.value >= 0, v.name);
});

Deno.test("fallback: cpu from node:os cpus() yields nothing first, then five percentages", async () => {
  const collector = createCpuFallback();
  assert.equal(collector.name, "cpu");
  let round = 0;
  const next = () => collector.collect(at(T0 + 60_000 * round++));
  assert.deepEqual(await next(), []);
  // cpus() counts in 10 ms ticks: spin until at least one tick has passed on some CPU.
  let values = await next();
  for (let attempt = 0; values.length === 0 && attempt < 200; attempt++) {
    const until = performance.now() + 5;
    while (performance.now() < until) { /* burn CPU so the counters move */ }
    values = await next();
  }
  assert.deepEqual(values.map((v) => v.name), [
    "cpu.user.percentage",
    "cpu.nice.percentage",
    "cpu.system.percentage",
    "cpu.idle.percentage",
    "cpu.irq.percentage",
  ]);
  for (const v of values) assert.ok(Number.isFinite(v.value) && v.value >= 0, v.name);
  // Stamped, as the primary's, with the time of the round before: the start of the window.
  assert.deepEqual(
    new Set(values.map((v) => v.time)),
    new Set([(T0 + 60_000 * (round - 2)) / 1000]),
  );
  const sum = values.reduce((s, v) => s + v.value, 0);
  const expected = cpus().length * 100;
  assert.ok(Math.abs(sum - expected) < 1e-9 * expected, `sum ${sum} ≠ ${expected}`);
});
