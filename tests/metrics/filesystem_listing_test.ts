import assert from "node:assert/strict";
import { createSource } from "../../src/host/source.ts";
import { createDiskCollector } from "../../src/metrics/disk.ts";
import { createFilesystemCollector } from "../../src/metrics/filesystem.ts";
import { createRoundFilesystems } from "../../src/metrics/filesystem_listing.ts";
import { createInodesCollector } from "../../src/metrics/inodes.ts";
import { collectRound } from "../../src/metrics/round.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { fakeStatfs, X86_STATFS, x86DeviceOf } from "../support/x86_statfs.ts";
import { T0 } from "./rounds.ts";

Deno.test("filesystem listing: disk, filesystem and inodes share one listing per round", async () => {
  const source = createSource({ procfs: `${PROCFS_FIXTURES}x86` });
  const { statfs, calls } = fakeStatfs(
    Object.fromEntries(
      Object.entries(X86_STATFS).map(([path, s]) => [path, { ...s, files: 100, ffree: 40 }]),
    ),
  );
  let mountTables = 0;
  const counted = {
    ...source,
    readProc: (rel: string) => {
      if (rel === "mounts") mountTables++;
      return source.readProc(rel);
    },
  };
  const list = createRoundFilesystems({ source: counted, statfs, deviceOf: x86DeviceOf });
  const selection = { useMountpoint: true };
  const collectors = [
    createDiskCollector({ source, useMountpoint: true, mounts: list }),
    createFilesystemCollector({ source, ...selection, list }),
    createInodesCollector({ source, ...selection, list }),
  ];
  const values = await collectRound(collectors, { timeMs: T0 });
  assert.equal(mountTables, 1);
  assert.deepEqual(calls.toSorted(), [...new Set(calls)].toSorted(), "a mount statfs'd twice");
  const first = calls.length;
  assert.ok(first > 0);
  assert.ok(values.some((v) => v.name === "filesystem._.size"));
  assert.ok(values.some((v) => v.name === "custom.inode.count._.used" && v.value === 60));

  // The next round lists afresh, once.
  await collectRound(collectors, { timeMs: T0 + 60_000 });
  assert.equal(mountTables, 2);
  assert.equal(calls.length, 2 * first);
});
