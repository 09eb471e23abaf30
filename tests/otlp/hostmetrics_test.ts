import assert from "node:assert/strict";
import { join } from "node:path";
import { createSource } from "../../src/host/source.ts";
import type { FilesystemUsage } from "../../src/host/filesystems.ts";
import { defaultConfig } from "../../src/config/schema.ts";
import { type OtlpMetric } from "../../src/otlp/encode.ts";
import { createHostMetrics } from "../../src/otlp/hostmetrics.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { fixtureTrees } from "../metrics/rounds.ts";

const T = 1_718_000_060_000; // a round's time, ms
const NS = BigInt(T) * 1_000_000n;
const BOOT = 1718000000n * 1_000_000_000n; // btime of the fixture

const ROOT_FS: FilesystemUsage = {
  name: "/dev/sda1",
  mount: "/",
  type: "ext4",
  kbSize: 1000,
  kbUsed: 600,
  kbAvailable: 350,
  percentUsed: 64,
  inodes: { total: 100, free: 40 },
};

/** The metrics of one round on the x86 fixture tree, by name. */
async function round(times = 1): Promise<Map<string, OtlpMetric>> {
  const config = { ...defaultConfig(), disks: { ignore: /^loop/ } };
  const host = createHostMetrics({
    source: createSource({ procfs: join(PROCFS_FIXTURES, "x86") }),
    filesystems: () => Promise.resolve([ROOT_FS]),
    config,
  });
  let metrics: OtlpMetric[] = [];
  for (let i = 0; i < times; i++) metrics = await host.collect(T + i * 60_000);
  return new Map(metrics.map((m) => [m.name, m]));
}

const values = (m: OtlpMetric | undefined, key: string) =>
  Object.fromEntries(m!.points.map((p) => [p.attributes![key], p.value]));

Deno.test("hostmetrics: cpu time in seconds by mode, counted since boot, guest time out of user and nice", async () => {
  const cpu = (await round()).get("system.cpu.time")!;
  assert.equal(cpu.type, "sum");
  assert.equal(cpu.monotonic, true);
  assert.equal(cpu.unit, "s");
  // cpu  10000 200 3000 80000 500 100 300 50 400 20 (ticks of 1/100 s; guest 400, guest_nice 20)
  assert.deepEqual(values(cpu, "cpu.mode"), {
    user: 96,
    nice: 1.8,
    system: 30,
    idle: 800,
    wait: 5,
    interrupt: 1,
    softirq: 3,
    steal: 0.5,
  });
  assert.ok(cpu.points.every((p) => p.startNs === BOOT && p.timeNs === NS));
});

Deno.test("hostmetrics: no utilization on the first round; shares of 1 from the second", async () => {
  assert.equal((await round()).has("system.cpu.utilization"), false);
  // The same file twice: no tick elapsed, so no utilization either (never NaN).
  assert.equal((await round(2)).has("system.cpu.utilization"), false);
  const trees = fixtureTrees();
  const host = createHostMetrics({
    source: trees.source,
    filesystems: () => Promise.resolve([]),
    config: defaultConfig(),
  });
  await host.collect(T);
  trees.use("x86-next");
  const next = await host.collect(T + 60_000);
  const utilization = next.find((m) => m.name === "system.cpu.utilization")!;
  assert.equal(utilization.type, "gauge");
  // Ticks in the window: user 200, nice 16, system 100, idle 1500, iowait 40, irq 10,
  // softirq 20, steal 10 (guest time out of user and nice): 1896 in all.
  const share = values(utilization, "cpu.mode");
  assert.deepEqual(share, {
    user: 200 / 1896,
    nice: 16 / 1896,
    system: 100 / 1896,
    idle: 1500 / 1896,
    wait: 40 / 1896,
    interrupt: 10 / 1896,
    softirq: 20 / 1896,
    steal: 10 / 1896,
  });
});

Deno.test("hostmetrics: memory states as hostmetrics counts them on Linux, and swap as paging", async () => {
  const m = await round();
  const memory = m.get("system.memory.usage")!;
  assert.equal(memory.type, "sum");
  assert.equal(memory.monotonic, false);
  assert.equal(memory.unit, "By");
  const kb = 1024;
  const cached = (3456789 + 269548) * kb;
  assert.deepEqual(values(memory, "system.memory.state"), {
    used: 16303428 * kb - 8123456 * kb - 234567 * kb - cached,
    free: 8123456 * kb,
    buffered: 234567 * kb,
    cached,
    slab_reclaimable: 269548 * kb,
    slab_unreclaimable: 123408 * kb,
  });
  assert.deepEqual(values(m.get("system.paging.usage"), "system.paging.state"), {
    used: (2097148 - 2090000 - 1024) * kb,
    cached: 1024 * kb,
    free: 2090000 * kb,
  });
});

Deno.test("hostmetrics: disk bytes and operations per device and direction, [disks] ignore applied", async () => {
  // loop* ignored by the config; dm-* and all-zero devices left out as for the Mackerel metrics.
  const m = await round();
  const io = m.get("system.disk.io")!;
  const sda = io.points.filter((p) => p.attributes!["system.device"] === "sda");
  assert.deepEqual(
    sda.map((p) => [p.attributes!["disk.io.direction"], p.value]),
    [["read", 900000 * 512], ["write", 640000 * 512]],
  );
  const devices = new Set(io.points.map((p) => p.attributes!["system.device"]));
  assert.deepEqual([...devices], ["sda", "sda1", "sda2", "nvme0n1", "cciss/c0d0"]);
  const ops = m.get("system.disk.operations")!.points
    .filter((p) => p.attributes!["system.device"] === "nvme0n1").map((p) => p.value);
  assert.deepEqual(ops, [50000, 30000]);
});

Deno.test("hostmetrics: network counters per interface and direction, lo and veth left out", async () => {
  const m = await round();
  const by = (name: string) =>
    m.get(name)!.points.filter((p) => p.attributes!["network.interface.name"] === "eth0")
      .map((p) => [p.attributes!["network.io.direction"], p.value]);
  assert.deepEqual(by("system.network.io"), [["receive", 1000000], ["transmit", 500000]]);
  assert.deepEqual(by("system.network.packets"), [["receive", 9000], ["transmit", 4000]]);
  assert.deepEqual(by("system.network.errors"), [["receive", 5], ["transmit", 1]]);
  assert.deepEqual(by("system.network.dropped"), [["receive", 10], ["transmit", 0]]);
  const names = new Set(m.get("system.network.io")!.points.map((p) =>
    p.attributes![
      "network.interface.name"
    ]
  ));
  assert.equal(names.has("lo") || names.has("veth1234"), false);
});

Deno.test("hostmetrics: filesystem bytes and inodes by state, load averages, processes", async () => {
  const m = await round();
  const fs = m.get("system.filesystem.usage")!;
  assert.deepEqual(fs.points[0].attributes, {
    "system.device": "/dev/sda1",
    "system.filesystem.mountpoint": "/",
    "system.filesystem.type": "ext4",
    "system.filesystem.state": "used",
  });
  assert.deepEqual(values(fs, "system.filesystem.state"), {
    used: 600 * 1024,
    free: 350 * 1024,
    reserved: 50 * 1024,
  });
  assert.deepEqual(values(m.get("system.filesystem.inodes.usage"), "system.filesystem.state"), {
    used: 60,
    free: 40,
  });
  const load = m.get("system.cpu.load_average.5m")!;
  assert.equal(load.type, "gauge");
  assert.deepEqual(load.points, [{ value: 0.58, timeNs: NS }]);
  assert.deepEqual(values(m.get("system.processes.count"), "status"), { running: 2, blocked: 0 });
  assert.deepEqual(m.get("system.processes.created")!.points.map((p) => p.value), [48213]);
});

Deno.test("hostmetrics: a source that fails leaves its part out, the rest is sent", async () => {
  const host = createHostMetrics({
    source: createSource({ procfs: "/nonexistent-procfs" }),
    filesystems: () => Promise.resolve([ROOT_FS]),
    config: defaultConfig(),
  });
  const names = (await host.collect(T)).map((m) => m.name);
  assert.deepEqual(names, ["system.filesystem.usage", "system.filesystem.inodes.usage"]);
});
