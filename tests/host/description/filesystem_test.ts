import assert from "node:assert/strict";
import type { FilesystemUsage } from "../../../src/host/filesystems.ts";
import { createSource, type Source } from "../../../src/host/source.ts";
import { collectFilesystemSpec } from "../../../src/host/description/filesystem.ts";

const usage = (
  name: string,
  mount: string,
  used: number,
  percentUsed: number,
): FilesystemUsage => ({
  name,
  mount,
  type: "ext4",
  kbSize: 19734388,
  kbUsed: used,
  kbAvailable: 1863772,
  percentUsed,
});

Deno.test("filesystem: keyed by device name, not filtered, last duplicate wins", async () => {
  const source = createSource();
  let asked: Source | undefined;
  const list = (options: { source: Source }) => {
    asked = options.source;
    return Promise.resolve([
      usage("/dev/sda1", "/", 16868164, 91),
      usage("tmpfs", "/run", 0, 0),
      usage("/dev/sdb1", "/data", 1, 1),
      usage("/dev/sdb1", "/srv", 2, 1),
    ]);
  };
  assert.deepEqual(await collectFilesystemSpec(source, list), {
    "/dev/sda1": {
      kb_size: 19734388,
      kb_used: 16868164,
      kb_available: 1863772,
      percent_used: "91%",
      mount: "/",
    },
    "tmpfs": {
      kb_size: 19734388,
      kb_used: 0,
      kb_available: 1863772,
      percent_used: "0%",
      mount: "/run",
    },
    "/dev/sdb1": {
      kb_size: 19734388,
      kb_used: 2,
      kb_available: 1863772,
      percent_used: "1%",
      mount: "/srv",
    },
  });
  assert.equal(asked, source);
});

Deno.test("filesystem: a fractional percentage is rounded up as df does", async () => {
  const spec = await collectFilesystemSpec(
    createSource(),
    () => Promise.resolve([usage("/dev/vda", "/", 1, 22.1)]),
  );
  assert.equal(spec["/dev/vda"].percent_used, "23%");
});

Deno.test("filesystem: a listing failure rejects", async () => {
  await assert.rejects(
    collectFilesystemSpec(createSource(), () => Promise.reject(new Error("statfs hung"))),
    { message: "statfs hung" },
  );
});
