import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { join } from "node:path";
import { type FilesystemUsage, listFilesystems } from "../../src/host/filesystems.ts";
import { createSource } from "../../src/host/source.ts";
import { createFilesystemCollector, FILESYSTEM_COLLECTOR } from "../../src/metrics/filesystem.ts";
import { fakeStatfs, X86_STATFS, x86DeviceOf } from "../support/x86_statfs.ts";
import { at, T0 } from "./rounds.ts";

const X86 = fileURLToPath(new URL("../fixtures/procfs/x86/", import.meta.url));

/** The x86 fixture's filesystems, listed through the real lister with a table-driven statfs. */
const listFixture = () =>
  listFilesystems({
    source: createSource({ procfs: X86 }),
    statfs: fakeStatfs(X86_STATFS).statfs,
    deviceOf: x86DeviceOf,
  });

const fs = (name: string, mount: string, kbUsed: number, kbAvailable: number): FilesystemUsage => ({
  name,
  mount,
  type: "ext4",
  kbSize: kbUsed + kbAvailable + 10,
  kbUsed,
  kbAvailable,
  percentUsed: 0,
});

Deno.test("filesystem: size and used in bytes for /dev/ filesystems, keyed by device", async () => {
  const collector = createFilesystemCollector({
    source: createSource({ procfs: X86 }),
    list: listFixture,
  });
  assert.equal(collector.name, "filesystem");
  assert.deepEqual(FILESYSTEM_COLLECTOR.sources(createSource({ procfs: X86 })), [
    join(X86, "mounts"),
  ]);
  // size is used + available (reserved blocks left out), as upstream sends it.
  assert.deepEqual(await collector.collect(at(T0)), [
    { name: "filesystem.sda1.size", value: 19000000 * 1024 },
    { name: "filesystem.sda1.used", value: 14000000 * 1024 },
    { name: "filesystem.sda2.size", value: 1000001 * 1024 },
    { name: "filesystem.sda2.used", value: 500000 * 1024 },
    { name: "filesystem.nvme0n1.size", value: 3800 * 1024 },
    { name: "filesystem.nvme0n1.used", value: 2000 * 1024 },
    { name: "filesystem.mapper_vg-root.size", value: 800 * 1024 },
    { name: "filesystem.mapper_vg-root.used", value: 200 * 1024 },
    { name: "filesystem.dm-4.size", value: 1200 * 1024 },
    { name: "filesystem.dm-4.used", value: 1200 * 1024 },
    { name: "filesystem.loop0.size", value: 200 * 1024 },
    { name: "filesystem.loop0.used", value: 200 * 1024 },
  ]);
});

Deno.test("filesystem: use_mountpoint keys by the sanitized mount point", async () => {
  const collector = createFilesystemCollector({
    source: createSource({ procfs: X86 }),
    useMountpoint: true,
    list: listFixture,
  });
  assert.deepEqual((await collector.collect(at(T0))).filter((v) => v.name.endsWith(".used")), [
    { name: "filesystem._.used", value: 14000000 * 1024 },
    { name: "filesystem._var_lib_my_data.used", value: 500000 * 1024 },
    { name: "filesystem._srv.used", value: 2000 * 1024 },
    { name: "filesystem._data.used", value: 200 * 1024 },
    { name: "filesystem._backup.used", value: 1200 * 1024 },
    { name: "filesystem._snap_core_123.used", value: 200 * 1024 },
  ]);
});

Deno.test("filesystem: ignore is matched unanchored against the device name", async () => {
  const collector = createFilesystemCollector({
    source: createSource({ procfs: X86 }),
    ignore: /\/dev\/(loop|dm-)|mapper/,
    list: listFixture,
  });
  assert.deepEqual((await collector.collect(at(T0))).map((v) => v.name), [
    "filesystem.sda1.size",
    "filesystem.sda1.used",
    "filesystem.sda2.size",
    "filesystem.sda2.used",
    "filesystem.nvme0n1.size",
    "filesystem.nvme0n1.used",
  ]);
});

Deno.test("filesystem: when two filesystems share a key the last one wins", async () => {
  const collector = createFilesystemCollector({
    source: createSource({ procfs: X86 }),
    useMountpoint: true,
    list: () =>
      Promise.resolve([
        fs("/dev/sda1", "/a.b", 1, 2),
        fs("tmpfs", "/tmp", 5, 5),
        fs("/dev/sdb1", "/a_b", 3, 4),
      ]),
  });
  assert.deepEqual(await collector.collect(at(T0)), [
    { name: "filesystem._a_b.size", value: 7 * 1024 },
    { name: "filesystem._a_b.used", value: 3 * 1024 },
  ]);
});
