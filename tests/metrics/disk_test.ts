import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import type { FilesystemUsage } from "../../src/host/filesystems.ts";
import { createSource } from "../../src/host/source.ts";
import { createDiskCollector, DISK_COLLECTOR, parseDiskstats } from "../../src/metrics/disk.ts";
import { PROCFS_FIXTURES, withProcfsSnapshots } from "../support/procfs_tree.ts";
import { manualClock } from "../support/virtual_clock.ts";
import { at } from "./rounds.ts";

const fsAt = (name: string, mount: string): FilesystemUsage => ({
  name,
  mount,
  type: "ext4",
  kbSize: 1,
  kbUsed: 0,
  kbAvailable: 1,
  percentUsed: 0,
});

Deno.test("disk: parseDiskstats keeps eleven counters, skips dm-, all-zero devices and short lines", async () => {
  const warnings: string[] = [];
  const stats = parseDiskstats(
    await Deno.readTextFile(join(PROCFS_FIXTURES, "x86", "diskstats")),
    (m) => warnings.push(m),
  );
  assert.deepEqual(stats.map((s) => s.device), [
    "loop1",
    "sda",
    "sda1",
    "sda2",
    "nvme0n1",
    "cciss/c0d0",
  ]);
  // nvme0n1's line has 18 columns: the discard counters past the eleventh are ignored.
  assert.deepEqual(stats[4], {
    device: "nvme0n1",
    reads: 50000,
    readsMerged: 100,
    sectorsRead: 4000000,
    readTime: 20000,
    writes: 30000,
    writesMerged: 500,
    sectorsWritten: 2000000,
    writeTime: 40000,
    ioInProgress: 2,
    ioTime: 30000,
    ioTimeWeighted: 60000,
  });
  assert.equal(warnings.length, 0);

  const broken = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n\n8 1\n8 2 sda2 1 x 3 4 5 6 7 8 9 10 11\n" +
    "8 3 sda3 1 2 3 4 5 6 7 8 9 10 11\n8 4 sda4 1 2 3\n8 5 sda5 1 2 3 4 5 6 7 8 9 10 11\n";
  assert.deepEqual(parseDiskstats(broken, (m) => warnings.push(m)).map((s) => s.device), [
    "sda",
    "sda3",
  ]);
  assert.deepEqual(warnings, [
    "Failed to parse disk metrics: line 3: 8 1",
    "Failed to parse disk metrics: line 4: non-numeric counter for sda2",
    "Failed to parse disk metrics: line 6: too few columns for sda4",
  ]);
});

Deno.test("disk: no values on the first sample, then reads and writes per second", async () => {
  await withProcfsSnapshots("diskstats", async (dir, next) => {
    const clock = manualClock(1_000);
    const disk = createDiskCollector({ source: createSource({ procfs: dir }) });
    assert.equal(disk.name, "disk");
    assert.deepEqual(DISK_COLLECTOR.sources(createSource({ procfs: dir })), [
      join(dir, "diskstats"),
    ]);
    assert.deepEqual(await disk.collect(at(clock.now())), []);

    await next("x86-next");
    clock.advance(2000);
    // sdc appeared in the second sample only, so it has no rate yet; sdb stayed idle.
    assert.deepEqual(await disk.collect(at(clock.now())), [
      { name: "disk.loop1.reads.delta", value: 0, time: 1 },
      { name: "disk.loop1.writes.delta", value: 0, time: 1 },
      { name: "disk.sda.reads.delta", value: 50, time: 1 },
      { name: "disk.sda.writes.delta", value: 200, time: 1 },
      { name: "disk.sda1.reads.delta", value: 45, time: 1 },
      { name: "disk.sda1.writes.delta", value: 195, time: 1 },
      { name: "disk.sda2.reads.delta", value: 5, time: 1 },
      { name: "disk.sda2.writes.delta", value: 5, time: 1 },
      { name: "disk.nvme0n1.reads.delta", value: 250, time: 1 },
      { name: "disk.nvme0n1.writes.delta", value: 15, time: 1 },
      { name: "disk.cciss_c0d0.reads.delta", value: 0.5, time: 1 },
      { name: "disk.cciss_c0d0.writes.delta", value: 1.5, time: 1 },
    ]);
  });
});

Deno.test("disk: a counter that went backwards or a vanished device is omitted", async () => {
  await withProcfsSnapshots("diskstats", async (dir, next) => {
    const clock = manualClock(1_000);
    const disk = createDiskCollector({ source: createSource({ procfs: dir }) });
    await disk.collect(at(clock.now()));
    await next("reset");
    clock.advance(2000);
    assert.deepEqual(await disk.collect(at(clock.now())), [
      { name: "disk.loop1.reads.delta", value: 0, time: 1 },
      { name: "disk.loop1.writes.delta", value: 0, time: 1 },
      { name: "disk.sda.writes.delta", value: 100, time: 1 },
      { name: "disk.sda1.reads.delta", value: 10, time: 1 },
      { name: "disk.sda2.reads.delta", value: 0, time: 1 },
      { name: "disk.sda2.writes.delta", value: 0, time: 1 },
      { name: "disk.nvme0n1.reads.delta", value: 0, time: 1 },
      { name: "disk.nvme0n1.writes.delta", value: 0, time: 1 },
    ]);
  });
});

Deno.test("disk: ignore is matched unanchored against the sanitized device name", async () => {
  await withProcfsSnapshots("diskstats", async (dir, next) => {
    const clock = manualClock(1_000);
    const disk = createDiskCollector({
      source: createSource({ procfs: dir }),
      ignore: /loop|sda\d|cciss_/,
    });
    await disk.collect(at(clock.now()));
    await next("x86-next");
    clock.advance(4000);
    assert.deepEqual((await disk.collect(at(clock.now()))).map((v) => `${v.name}=${v.value}`), [
      "disk.sda.reads.delta=25",
      "disk.sda.writes.delta=100",
      "disk.nvme0n1.reads.delta=125",
      "disk.nvme0n1.writes.delta=7.5",
    ]);
  });
});

Deno.test("disk: use_mountpoint names a /dev/<device> filesystem by its sanitized mount point", async () => {
  await withProcfsSnapshots("diskstats", async (dir, next) => {
    const clock = manualClock(1_000);
    const disk = createDiskCollector({
      source: createSource({ procfs: dir }),
      useMountpoint: true,
      ignore: /loop|cciss/,
      mounts: () =>
        Promise.resolve([
          fsAt("/dev/sda1", "/"),
          fsAt("/dev/sda2", "/var/lib/my data"),
          fsAt("tmpfs", "/run"),
          fsAt("/dev/mapper/vg-root", "/data"),
        ]),
    });
    await disk.collect(at(clock.now()));
    await next("x86-next");
    clock.advance(2000);
    assert.deepEqual((await disk.collect(at(clock.now()))).map((v) => v.name), [
      "disk.sda.reads.delta",
      "disk.sda.writes.delta",
      "disk._.reads.delta",
      "disk._.writes.delta",
      "disk._var_lib_my_data.reads.delta",
      "disk._var_lib_my_data.writes.delta",
      "disk.nvme0n1.reads.delta",
      "disk.nvme0n1.writes.delta",
    ]);
  });
});

Deno.test("disk: use_mountpoint falls back to device names when filesystems cannot be listed", async () => {
  await withProcfsSnapshots("diskstats", async (dir, next) => {
    const clock = manualClock(1_000);
    const disk = createDiskCollector({
      source: createSource({ procfs: dir }),
      useMountpoint: true,
      ignore: /^(loop|cciss|sda$|nvme)/,
      mounts: () => Promise.reject(new Error("cannot read /proc/mounts: no such file")),
    });
    await disk.collect(at(clock.now()));
    await next("x86-next");
    clock.advance(2000);
    assert.deepEqual((await disk.collect(at(clock.now()))).map((v) => v.name), [
      "disk.sda1.reads.delta",
      "disk.sda1.writes.delta",
      "disk.sda2.reads.delta",
      "disk.sda2.writes.delta",
    ]);
  });
});

Deno.test("disk: a missing diskstats is an error naming the file, and the next sample still works", async () => {
  await withProcfsSnapshots("diskstats", async (dir, next) => {
    const clock = manualClock(1_000);
    const disk = createDiskCollector({ source: createSource({ procfs: dir }) });
    await disk.collect(at(clock.now()));
    await Deno.remove(join(dir, "diskstats"));
    clock.advance(1000);
    await assert.rejects(
      disk.collect(at(clock.now())),
      (e) => e instanceof Deno.errors.NotFound && e.message.includes(join(dir, "diskstats")),
    );
    await next("x86-next");
    clock.advance(1000);
    const values = await disk.collect(at(clock.now()));
    // The rate spans both intervals, measured from the last good sample.
    assert.deepEqual(values.find((v) => v.name === "disk.sda.reads.delta"), {
      name: "disk.sda.reads.delta",
      value: 50,
      time: 1,
    });
  });
});

// Mostly well-formed counters, so that many runs reach the rate arithmetic.
const counter = fc.oneof(
  { arbitrary: fc.nat(), weight: 30 },
  { arbitrary: fc.constantFrom(0, 2 ** 53, -1, 1.5, NaN, "x"), weight: 1 },
);
const diskstatsLine = fc.tuple(
  fc.constantFrom("sda", "sda1", "dm-1", "nvme0n1", "loop0", "a.b/c", "x"),
  fc.array(counter, { minLength: 9, maxLength: 18 }),
).map(([device, counters]) => `  8  0 ${device} ${counters.join(" ")}`);

const diskstatsText = fc.array(fc.oneof(diskstatsLine, diskstatsLine, fc.string()), {
  maxLength: 8,
})
  .map((lines) => lines.join("\n"));

Deno.test("disk: parseDiskstats never throws and rates are never negative or NaN", async () => {
  let emitted = 0;
  await fc.assert(
    fc.asyncProperty(
      diskstatsText,
      diskstatsText,
      fc.nat({ max: 5000 }),
      async (first, second, elapsed) => {
        const texts = [first, second];
        let ms = 0;
        const source = { ...createSource(), readProc: () => Promise.resolve(texts.shift() ?? "") };
        const disk = createDiskCollector({ source });
        await disk.collect(at(ms));
        ms += elapsed;
        for (const { value } of await disk.collect(at(ms))) {
          assert.ok(Number.isFinite(value) && value >= 0, String(value));
          emitted++;
        }
      },
    ),
    // Enough runs that some pairs share a device with valid counters: the check below needs it.
    { numRuns: 1000 },
  );
  assert.ok(emitted > 0, "no run produced a rate");
});
