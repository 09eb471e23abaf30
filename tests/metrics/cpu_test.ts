import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { createSource } from "../../src/host/source.ts";
import type { Collector, MetricValue } from "../../src/metrics/collector.ts";
import { CPU_COLLECTOR, cpuUsage, createCpuCollector, parseStat } from "../../src/metrics/cpu.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { at, T0 } from "./rounds.ts";

const fixture = (tree: string) => Deno.readTextFile(join(PROCFS_FIXTURES, tree, "stat"));

const rounds = new WeakMap<Collector, number>();

/**
 * Runs the collector's next round, a minute after its previous one; the values without their time
 * (see "cpu: values are stamped with the start of their window").
 */
async function nextRound(collector: Collector): Promise<MetricValue[]> {
  const round = rounds.get(collector) ?? 0;
  rounds.set(collector, round + 1);
  const values = await collector.collect(at(T0 + 60_000 * round));
  return values.map(({ name, value }) => ({ name, value }));
}

/** Copies fixture `tree`'s stat into `dir` and collects once. */
async function collectFrom(
  collector: Collector,
  dir: string,
  tree: string,
): Promise<MetricValue[]> {
  await Deno.writeTextFile(join(dir, "stat"), await fixture(tree));
  return nextRound(collector);
}

// x86 → x86-next, 4 CPUs: Δuser 300, Δguest 100 (so Δ(user−guest) 200), Δnice 20, Δsystem 100,
// Δidle 1500, Δiowait 40, Δirq 10, Δsoftirq 20, Δsteal 10, Δguest_nice 4.
// ΔTotal = 200 + 20 + 100 + 1500 + 40 + 10 + 20 + 10 = 2000, so each value is Δ × 400 / 2000.
const X86_TO_NEXT: MetricValue[] = [
  { name: "cpu.user.percentage", value: 40 }, // 200 × 0.2
  { name: "cpu.nice.percentage", value: 4 }, // 20 × 0.2
  { name: "cpu.system.percentage", value: 20 }, // 100 × 0.2
  { name: "cpu.idle.percentage", value: 300 }, // 1500 × 0.2
  { name: "cpu.iowait.percentage", value: 8 }, // 40 × 0.2
  { name: "cpu.irq.percentage", value: 2 }, // 10 × 0.2
  { name: "cpu.softirq.percentage", value: 4 }, // 20 × 0.2
  { name: "cpu.steal.percentage", value: 2 }, // 10 × 0.2
  { name: "cpu.guest.percentage", value: 20 }, // 100 × 0.2
];

Deno.test("cpu: parseStat reads the ten columns of a modern kernel and counts the CPUs", async () => {
  assert.deepEqual(parseStat(await fixture("x86")), {
    user: 10000,
    nice: 200,
    system: 3000,
    idle: 80000,
    iowait: 500,
    irq: 100,
    softirq: 300,
    steal: 50,
    guest: 400,
    guestNice: 20,
    // 94570 − guest 400 − guest_nice 20
    total: 94150,
    statCount: 10,
    cpuCount: 4,
  });
});

Deno.test("cpu: parseStat reads a 2.4 kernel's four columns, the others 0", async () => {
  assert.deepEqual(parseStat(await fixture("old-kernel")), {
    user: 123456,
    nice: 789,
    system: 45678,
    idle: 9876543,
    iowait: 0,
    irq: 0,
    softirq: 0,
    steal: 0,
    guest: 0,
    guestNice: 0,
    total: 10046466, // 123456 + 789 + 45678 + 9876543
    statCount: 4,
    cpuCount: 2,
  });
});

Deno.test("cpu: parseStat gives undefined for text without a usable cpu line", () => {
  assert.equal(parseStat(""), undefined);
  assert.equal(parseStat("cpu0 1 2 3 4\nctxt 5\n"), undefined); // no aggregate line
  assert.equal(parseStat("cpu  1 2 3\n"), undefined); // fewer than four columns
  assert.equal(parseStat("cpu  1 2 x 4\n"), undefined);
  assert.equal(parseStat("cpu  1 -2 3 4\n"), undefined);
  assert.equal(parseStat("cpu  1 2 3 18446744073709551615\n"), undefined); // not exact as a number
});

Deno.test("cpu: the collector names its source and yields nothing on the first sample", async () => {
  const collector = createCpuCollector({
    source: createSource({ procfs: join(PROCFS_FIXTURES, "x86") }),
  });
  assert.equal(collector.name, "cpu");
  assert.deepEqual(CPU_COLLECTOR.sources(createSource({ procfs: join(PROCFS_FIXTURES, "x86") })), [
    join(PROCFS_FIXTURES, "x86", "stat"),
  ]);
  assert.deepEqual(await nextRound(collector), []);
});

Deno.test("cpu: two snapshots give exact percentages summing to CPUCount × 100", async () => {
  await withTempDir("cpu_test_", async (dir) => {
    const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
    assert.deepEqual(await collectFrom(collector, dir, "x86"), []);
    const values = await collectFrom(collector, dir, "x86-next");
    assert.deepEqual(values, X86_TO_NEXT);
    assert.equal(values.reduce((sum, v) => sum + v.value, 0), 400);
    assert.ok(!values.some((v) => v.name.startsWith("cpu.guest_nice")));
  });
});

Deno.test("cpu: a 2.4 kernel without iowait, steal or guest gets only user/nice/system/idle", async () => {
  await withTempDir("cpu_test_", async (dir) => {
    const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
    assert.deepEqual(await collectFrom(collector, dir, "old-kernel"), []);
    // Δuser 150, Δnice 10, Δsystem 40, Δidle 800: ΔTotal 1000 on 2 CPUs, so Δ × 200 / 1000.
    const next = (await fixture("old-kernel"))
      .replace("cpu  123456 789 45678 9876543", "cpu  123606 799 45718 9877343");
    await Deno.writeTextFile(join(dir, "stat"), next);
    assert.deepEqual(await nextRound(collector), [
      { name: "cpu.user.percentage", value: 30 }, // 150 × 0.2
      { name: "cpu.nice.percentage", value: 2 }, // 10 × 0.2
      { name: "cpu.system.percentage", value: 8 }, // 40 × 0.2
      { name: "cpu.idle.percentage", value: 160 }, // 800 × 0.2
    ]);
  });
});

Deno.test("cpu: a 2.6.0 kernel's seven columns add iowait, irq and softirq only", () => {
  const before = parseStat("cpu  1000 0 500 8000 100 10 20\ncpu0 1000 0 500 8000 100 10 20\n")!;
  const after = parseStat("cpu  1060 0 520 8900 110 12 28\ncpu0 1060 0 520 8900 110 12 28\n")!;
  assert.equal(after.statCount, 7);
  // Δ 60, 0, 20, 900, 10, 2, 8: ΔTotal 1000 on 1 CPU, so Δ × 100 / 1000.
  assert.deepEqual(cpuUsage(before, after), [
    { name: "cpu.user.percentage", value: 6 },
    { name: "cpu.nice.percentage", value: 0 },
    { name: "cpu.system.percentage", value: 2 },
    { name: "cpu.idle.percentage", value: 90 },
    { name: "cpu.iowait.percentage", value: 1 },
    { name: "cpu.irq.percentage", value: 0.2 },
    { name: "cpu.softirq.percentage", value: 0.8 },
  ]);
});

Deno.test("cpu: counters going backwards give nothing, then the new baseline is used", async () => {
  await withTempDir("cpu_test_", async (dir) => {
    const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
    assert.deepEqual(await collectFrom(collector, dir, "x86"), []);
    assert.deepEqual(await collectFrom(collector, dir, "x86-next"), X86_TO_NEXT);
    assert.deepEqual(await collectFrom(collector, dir, "reset"), []);
    // reset → x86: Δuser 1200, Δguest 200 (Δ(user−guest) 1000), Δnice 100, Δsystem 400,
    // Δidle 14000, Δiowait 160, Δirq 40, Δsoftirq 80, Δsteal 20: ΔTotal 16000 on 4 CPUs,
    // so each value is Δ × 400 / 16000 = Δ / 40.
    assert.deepEqual(await collectFrom(collector, dir, "x86"), [
      { name: "cpu.user.percentage", value: 25 },
      { name: "cpu.nice.percentage", value: 2.5 },
      { name: "cpu.system.percentage", value: 10 },
      { name: "cpu.idle.percentage", value: 350 },
      { name: "cpu.iowait.percentage", value: 4 },
      { name: "cpu.irq.percentage", value: 1 },
      { name: "cpu.softirq.percentage", value: 2 },
      { name: "cpu.steal.percentage", value: 0.5 },
      { name: "cpu.guest.percentage", value: 5 },
    ]);
  });
});

Deno.test("cpu: no tick elapsed (ΔTotal = 0) gives nothing rather than NaN", async () => {
  await withTempDir("cpu_test_", async (dir) => {
    const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
    assert.deepEqual(await collectFrom(collector, dir, "x86"), []);
    assert.deepEqual(await collectFrom(collector, dir, "x86"), []);
    assert.deepEqual(await collectFrom(collector, dir, "x86-next"), X86_TO_NEXT);
  });
});

Deno.test("cpu: a decreased iowait is reported from its current value, as upstream does", async () => {
  await withTempDir("cpu_test_", async (dir) => {
    const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
    assert.deepEqual(await collectFrom(collector, dir, "x86"), []);
    // x86-next with iowait 140 instead of 540 (it went from 500 down to 140). ΔTotal is the raw
    // difference of totals: 2000 − 40 (the Δiowait of x86-next) + (140 − 500) = 1600, so each
    // value is Δ × 400 / 1600 = Δ / 4, and iowait is its current value 140 / 4 = 35.
    const next = (await fixture("x86-next"))
      .replace("cpu  10300 220 3100 81500 540 ", "cpu  10300 220 3100 81500 140 ");
    await Deno.writeTextFile(join(dir, "stat"), next);
    assert.deepEqual(await nextRound(collector), [
      { name: "cpu.user.percentage", value: 50 },
      { name: "cpu.nice.percentage", value: 5 },
      { name: "cpu.system.percentage", value: 25 },
      { name: "cpu.idle.percentage", value: 375 },
      { name: "cpu.iowait.percentage", value: 35 },
      { name: "cpu.irq.percentage", value: 2.5 },
      { name: "cpu.softirq.percentage", value: 5 },
      { name: "cpu.steal.percentage", value: 2.5 },
      { name: "cpu.guest.percentage", value: 25 },
    ]);
  });
});

Deno.test("cpu: an unreadable format rejects with the path and keeps the baseline", async () => {
  await withTempDir("cpu_test_", async (dir) => {
    const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
    assert.deepEqual(await collectFrom(collector, dir, "x86"), []);
    await Deno.writeTextFile(join(dir, "stat"), "intr 1 2 3\n");
    await assert.rejects(nextRound(collector), {
      message: `unexpected format of /proc/stat: no "cpu" line of counters in ${join(dir, "stat")}`,
    });
    assert.deepEqual(await collectFrom(collector, dir, "x86-next"), X86_TO_NEXT);
  });
});

const counter = fc.oneof(
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  fc.constantFrom("", "-1", "1.5", "x", "0x10"),
);
const cpuLine = fc.tuple(fc.constantFrom("cpu", "cpu0", "cpu ", "cpu1"), fc.array(counter))
  .map(([head, cs]) => [head, ...cs].join(" "));
const statText = fc.array(fc.oneof(fc.string(), cpuLine), { maxLength: 6 })
  .map((lines) => lines.join("\n"));

Deno.test("cpu: arbitrary stat text never throws in parseStat nor yields NaN or negatives", async () => {
  fc.assert(fc.property(statText, (text) => {
    const stat = parseStat(text);
    if (stat !== undefined) assert.ok(Object.values(stat).every(Number.isSafeInteger));
  }));
  // Well-formed pairs of growing counters: values are finite, non-negative and sum to
  // CPUCount × 100 (guest growing faster than user is a reset and gives nothing).
  const columns = fc.integer({ min: 4, max: 10 }).chain((n) =>
    fc.tuple(
      fc.array(fc.nat({ max: 2 ** 52 }), { minLength: n, maxLength: n }),
      fc.array(fc.nat({ max: 2 ** 40 }), { minLength: n, maxLength: n }),
      fc.integer({ min: 1, max: 8 }),
    )
  );
  fc.assert(fc.property(columns, ([a, deltas, cpus]) => {
    const b = a.map((x, i) => x + deltas[i]);
    const text = (cs: number[]) =>
      [`cpu  ${cs.join(" ")}`, ...Array.from({ length: cpus }, (_, i) => `cpu${i} 0 0 0 0`)]
        .join("\n");
    const before = parseStat(text(a))!;
    const after = parseStat(text(b))!;
    const values = cpuUsage(before, after);
    for (const v of values) assert.ok(Number.isFinite(v.value) && v.value >= 0, v.name);
    if (values.length > 0) {
      const sum = values.reduce((s, v) => s + v.value, 0);
      assert.ok(Math.abs(sum - cpus * 100) < 1e-6 * cpus * 100, `sum ${sum}`);
    }
  }));
  await withTempDir("cpu_test_", async (dir) => {
    await fc.assert(
      fc.asyncProperty(statText, statText, async (first, second) => {
        const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
        const values: MetricValue[] = [];
        for (const text of [first, second]) {
          await Deno.writeTextFile(join(dir, "stat"), text);
          try {
            values.push(...await nextRound(collector));
          } catch (error) {
            assert.match((error as Error).message, /^unexpected format of \/proc\/stat/);
          }
        }
        for (const v of values) assert.ok(Number.isFinite(v.value) && v.value >= 0, v.name);
      }),
      { numRuns: 200 },
    );
  });
});

Deno.test("cpu: values are stamped with the start of their window, the previous round", async () => {
  await withTempDir("cpu_test_", async (dir) => {
    const collector = createCpuCollector({ source: createSource({ procfs: dir }) });
    await Deno.writeTextFile(join(dir, "stat"), await fixture("x86"));
    assert.deepEqual(await collector.collect(at(T0)), []);
    await Deno.writeTextFile(join(dir, "stat"), await fixture("x86-next"));
    const values = await collector.collect(at(T0 + 60_000));
    assert.deepEqual(values, X86_TO_NEXT.map((v) => ({ ...v, time: T0 / 1000 })));
  });
});
