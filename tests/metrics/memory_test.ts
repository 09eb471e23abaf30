import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { createSource } from "../../src/host/source.ts";
import {
  createMemoryCollector,
  MEMORY_COLLECTOR,
  memoryValues,
  parseMeminfo,
} from "../../src/metrics/memory.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { at, T0 } from "./rounds.ts";

const PROCFS = join(import.meta.dirname!, "../fixtures/procfs");
const collectorFor = (tree: string) =>
  createMemoryCollector({ source: createSource({ procfs: join(PROCFS, tree) }) });

Deno.test("memory: parseMeminfo turns kB into bytes and keeps unitless counts", async () => {
  const info = parseMeminfo(await Deno.readTextFile(join(PROCFS, "x86", "meminfo")));
  assert.equal(info.size, 54);
  assert.equal(info.get("MemTotal"), 16694710272); // 16303428 kB × 1024
  assert.equal(info.get("Active(anon)"), 2401974272); // 2345678 kB × 1024
  assert.equal(info.get("VmallocTotal"), 35184372087808); // 34359738367 kB × 1024
  assert.equal(info.get("HugePages_Total"), 0); // no unit: a page count
  assert.equal(info.get("Zswap"), 0);
});

Deno.test("memory: parseMeminfo skips the table heading of a 2.4 kernel", async () => {
  const info = parseMeminfo(await Deno.readTextFile(join(PROCFS, "old-kernel", "meminfo")));
  assert.deepEqual([...info.keys()].filter((k) => !/^[A-Z][A-Za-z_]+$/.test(k)), []);
  assert.equal(info.has("Mem"), false);
  assert.equal(info.has("Swap"), false);
  assert.equal(info.has("MemAvailable"), false);
  assert.equal(info.get("MemTotal"), 1055760384); // 1031016 kB × 1024
});

Deno.test("memory: parseMeminfo ignores malformed lines and keeps the last duplicate", () => {
  const info = parseMeminfo(
    "MemTotal: 12 kB\nMemFree: lots kB\nBuffers 5 kB\nCached: -3 kB\nMemTotal: 13 kB\nSwapFree:\n",
  );
  assert.deepEqual([...info], [["MemTotal", 13312]]); // 13 × 1024
});

Deno.test("memory: with MemAvailable, used is MemTotal − MemAvailable", async () => {
  const collector = collectorFor("x86");
  assert.equal(collector.name, "memory");
  assert.deepEqual(MEMORY_COLLECTOR.sources(createSource({ procfs: join(PROCFS, "x86") })), [
    join(PROCFS, "x86", "meminfo"),
  ]);
  assert.deepEqual(await collector.collect(at(T0)), [
    { name: "memory.total", value: 16694710272 }, // 16303428 kB × 1024
    { name: "memory.used", value: 4052736000 }, // (16303428 − 12345678) kB = 3957750 kB × 1024
    { name: "memory.mem_available", value: 12641974272 }, // 12345678 kB × 1024
    { name: "memory.swap_total", value: 2147479552 }, // 2097148 kB × 1024
    { name: "memory.swap_cached", value: 1048576 }, // 1024 kB × 1024
    { name: "memory.swap_free", value: 2140160000 }, // 2090000 kB × 1024
  ]);
});

Deno.test("memory: without MemAvailable, used excludes free, buffers and cache", async () => {
  assert.deepEqual(await collectorFor("old-kernel").collect(at(T0)), [
    { name: "memory.total", value: 1055760384 }, // 1031016 kB × 1024
    // (1031016 − 13548 − 98064 − 692320) kB = 227084 kB × 1024
    { name: "memory.used", value: 232534016 },
    { name: "memory.buffers", value: 100417536 }, // 98064 kB × 1024
    { name: "memory.cached", value: 708935680 }, // 692320 kB × 1024
    { name: "memory.free", value: 13873152 }, // 13548 kB × 1024
    { name: "memory.swap_total", value: 1077501952 }, // 1052248 kB × 1024
    { name: "memory.swap_cached", value: 2297856 }, // 2244 kB × 1024
    { name: "memory.swap_free", value: 1068961792 }, // 1043908 kB × 1024
  ]);
});

Deno.test("memory: missing keys count as 0", () => {
  assert.deepEqual(memoryValues(new Map([["MemTotal", 4096], ["MemAvailable", 1024]])), [
    { name: "memory.total", value: 4096 },
    { name: "memory.used", value: 3072 },
    { name: "memory.mem_available", value: 1024 },
    { name: "memory.swap_total", value: 0 },
    { name: "memory.swap_cached", value: 0 },
    { name: "memory.swap_free", value: 0 },
  ]);
});

Deno.test("memory: a missing meminfo rejects with NotFound", async () => {
  await assert.rejects(collectorFor("no-such-tree").collect(at(T0)), Deno.errors.NotFound);
});

const KEYS = ["MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "SwapFree"];
const meminfoLine = fc.oneof(
  fc.string(),
  fc.tuple(
    fc.constantFrom(...KEYS),
    fc.oneof(fc.nat().map(String), fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.string()),
    fc.constantFrom(" kB", "", " MB", "kB"),
  ).map(([key, value, unit]) => `${key}:  ${value}${unit}`),
);

Deno.test("memory: arbitrary meminfo lines never throw nor yield NaN from the collector", async () => {
  await withTempDir("memory_test_", async (dir) => {
    const collector = createMemoryCollector({ source: createSource({ procfs: dir }) });
    await fc.assert(
      fc.asyncProperty(fc.array(meminfoLine, { maxLength: 8 }), async (lines) => {
        await Deno.writeTextFile(join(dir, "meminfo"), lines.join("\n"));
        const values = await collector.collect(at(T0));
        assert.ok(values.length === 6 || values.length === 8);
        for (const v of values) assert.ok(Number.isFinite(v.value), `${v.name} = ${v.value}`);
      }),
      { numRuns: 200 },
    );
  });
});
