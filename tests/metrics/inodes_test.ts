import assert from "node:assert/strict";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import { statfs } from "node:fs/promises";
import { createSource } from "../../src/host/source.ts";
import {
  createInodesCollector,
  INODES_COLLECTOR,
  type InodeStatFs,
} from "../../src/metrics/inodes.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { X86_STATFS, x86DeviceOf } from "../support/x86_statfs.ts";
import { at, readable, T0 } from "./rounds.ts";

const INODES_GRAPH_DEFS = graphDefsOf(INODES_COLLECTOR.metrics);

/** Inode counts (total, free) for the x86 fixture's mount points; the rest report none. */
const INODES: Readonly<Record<string, [number, number]>> = {
  "/": [1310720, 1179523],
  "/var/lib/my data": [640000, 639000],
  "/srv": [256, 0],
  // btrfs and vfat report no inodes at all: left out, as df -i shows "-".
  "/data": [0, 0],
  "/var/lib/docker/containers": [1310720, 1179523],
  "/backup": [1024, 512],
  "/snap/core/123": [100, 0],
};

const statfsX86 = (path: string): Promise<InodeStatFs> => {
  const blocks = X86_STATFS[path];
  if (!blocks) return Promise.reject(new Error(`ENOENT: statfs '${path}'`));
  const [files, ffree] = INODES[path] ?? [0, 0];
  return Promise.resolve({ ...blocks, files, ffree });
};

const x86 = createSource({ procfs: `${PROCFS_FIXTURES}x86` });

const inodes = (key: string, used: number, free: number, total: number, percent: number) => [
  { name: `custom.inode.count.${key}.used`, value: used },
  { name: `custom.inode.count.${key}.free`, value: free },
  { name: `custom.inode.count.${key}.total`, value: total },
  { name: `custom.inode.percentage.${key}.used`, value: percent },
];

Deno.test("inodes: used, free, total and used % for the filesystems and keys of filesystem.*", async () => {
  const collector = createInodesCollector({
    source: x86,
    statfs: statfsX86,
    deviceOf: x86DeviceOf,
  });
  assert.equal(collector.name, "inodes");
  assert.deepEqual(await collector.collect(at(T0)), [
    ...inodes("sda1", 131197, 1179523, 1310720, 131197 * 100 / 1310720),
    ...inodes("sda2", 1000, 639000, 640000, 0.15625),
    ...inodes("nvme0n1", 256, 0, 256, 100),
    ...inodes("dm-4", 512, 512, 1024, 50),
    ...inodes("loop0", 100, 0, 100, 100),
  ]);
});

Deno.test("inodes: [filesystems] ignore and use_mountpoint apply as to filesystem.*", async () => {
  const collector = createInodesCollector({
    source: x86,
    statfs: statfsX86,
    deviceOf: x86DeviceOf,
    ignore: /loop|dm-/,
    useMountpoint: true,
  });
  assert.deepEqual(
    (await collector.collect(at(T0))).filter((v) => v.name.startsWith("custom.inode.percentage")),
    [
      { name: "custom.inode.percentage._.used", value: 131197 * 100 / 1310720 },
      { name: "custom.inode.percentage._var_lib_my_data.used", value: 0.15625 },
      { name: "custom.inode.percentage._srv.used", value: 100 },
    ],
  );
});

Deno.test("inodes: the graph definitions are mackerel-plugin-inode's, one graph per filesystem", () => {
  assert.deepEqual(
    INODES_GRAPH_DEFS.map((g) => [g.name, g.unit, g.metrics.map((m) => m.name)]),
    [
      ["custom.inode.count.#", "integer", [
        "custom.inode.count.#.used",
        "custom.inode.count.#.free",
        "custom.inode.count.#.total",
      ]],
      ["custom.inode.percentage.#", "percentage", ["custom.inode.percentage.#.used"]],
    ],
  );
});

// The root must be a /dev/ filesystem with inodes to get inode metrics (an overlay root in a
// container is not; btrfs reports no inodes).
const rootOnDev = await readable("/proc/mounts") &&
  (await Deno.readTextFile("/proc/mounts")).split("\n").some((line) =>
    line.startsWith("/dev/") && line.split(" ")[1] === "/"
  ) && (await statfs("/")).files > 0;

Deno.test({
  name: `inodes: live counts of / agree with statfs(2)${
    rootOnDev ? "" : " (skipped: / is not a /dev/ filesystem with inodes here)"
  }`,
  ignore: !rootOnDev,
  async fn() {
    const before = await statfs("/");
    const collector = createInodesCollector({ source: createSource(), useMountpoint: true });
    const values = new Map((await collector.collect(at(T0))).map((v) => [v.name, v.value]));
    const after = await statfs("/");
    assert.equal(values.get("custom.inode.count._.total"), before.files);
    const free = values.get("custom.inode.count._.free")!;
    // Other processes create and delete files meanwhile: free lies near both readings.
    const [low, high] = [Math.min(before.ffree, after.ffree), Math.max(before.ffree, after.ffree)];
    assert.ok(free >= low - 1000 && free <= high + 1000, `${free} vs ${low}..${high}`);
    assert.equal(values.get("custom.inode.count._.used"), before.files - free);
  },
});
