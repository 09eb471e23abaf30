import assert from "node:assert/strict";
import { join } from "node:path";
import { createSource, watchesFromOutside } from "../../src/host/source.ts";
import { withTempDir, writeFiles } from "../support/temp_dir.ts";

Deno.test("source: the rootfs is normalized, holds /etc, and resolves host paths", () => {
  const cases: [string | undefined, string, string, string][] = [
    [undefined, "/", "/etc", "/boot"],
    ["/", "/", "/etc", "/boot"],
    ["//", "/", "/etc", "/boot"],
    ["/rootfs/", "/rootfs", "/rootfs/etc", "/rootfs/boot"],
    ["/host//root", "/host/root", "/host/root/etc", "/host/root/boot"],
  ];
  for (const [given, rootfs, etc, boot] of cases) {
    const source = createSource({ rootfs: given });
    assert.deepEqual([source.rootfs, source.etc, source.rootPath("/boot")], [rootfs, etc, boot]);
    assert.equal(watchesFromOutside(source), rootfs !== "/", String(given));
  }
  // Tests may still point /etc elsewhere.
  assert.equal(createSource({ rootfs: "/rootfs", etc: "/fixture/etc" }).etc, "/fixture/etc");
});

Deno.test("source: files under the rootfs's etc are read through it", async () => {
  await withTempDir("source_test_", async (dir) => {
    await writeFiles(dir, { "etc/os-release": "ID=rocky\n" });
    assert.equal(await createSource({ rootfs: dir }).readEtc("os-release"), "ID=rocky\n");
  });
});

Deno.test("source: procfs reads (sync or not) answer with a promise, and a missing file rejects", async () => {
  await withTempDir("source_test_", async (dir) => {
    await writeFiles(dir, { stat: "cpu  1 2 3 4\n", mounts: "/dev/sda1 / ext4 rw 0 0\n" });
    const source = createSource({ procfs: dir });
    assert.equal(await source.readProc("stat"), "cpu  1 2 3 4\n");
    assert.equal(await source.readProc("mounts"), "/dev/sda1 / ext4 rw 0 0\n");
    for (const rel of ["loadavg", "net/tcp"]) {
      const reading = source.readProc(rel);
      assert.ok(reading instanceof Promise, rel);
      await assert.rejects(reading, Deno.errors.NotFound);
    }
  });
});

/** Runs `run` counting the paths `Deno.readTextFile` (the asynchronous, pool-thread read) is asked. */
async function countingAsyncReads(run: (paths: string[]) => Promise<void>): Promise<void> {
  const original = Deno.readTextFile;
  const paths: string[] = [];
  Deno.readTextFile = (path, options) => {
    paths.push(String(path));
    return original(path, options);
  };
  try {
    await run(paths);
  } finally {
    Deno.readTextFile = original;
  }
}

Deno.test("source: the mount table is read on this thread while small, in the pool once large", async () => {
  await withTempDir("source_large_", async (dir) => {
    const source = createSource({ procfs: dir });
    const mounts = join(dir, "mounts");
    const line = "/dev/vda1 /var/lib/kubelet/pods/0123456789abcdef/volumes ext4 rw 0 0\n";
    await countingAsyncReads(async (asked) => {
      await Deno.writeTextFile(mounts, line.repeat(10));
      assert.equal(await source.readProc("mounts"), line.repeat(10));
      assert.deepEqual(asked, [], "small: read synchronously");
      await Deno.writeTextFile(mounts, line.repeat(5000));
      // The first read of the grown table is still synchronous: only then is it known to be large.
      assert.equal(await source.readProc("mounts"), line.repeat(5000));
      assert.deepEqual(asked, []);
      assert.equal(await source.readProc("mounts"), line.repeat(5000));
      assert.deepEqual(asked, [mounts], "large: read through the pool");
      await Deno.writeTextFile(mounts, line);
      assert.equal(await source.readProc("mounts"), line);
      assert.equal(await source.readProc("mounts"), line);
      assert.deepEqual(asked, [mounts, mounts], "small again: synchronous");
      // Other procfs files are never read through the pool, whatever their size.
      await Deno.writeTextFile(join(dir, "stat"), line.repeat(5000));
      await source.readProc("stat");
      await source.readProc("stat");
      assert.equal(asked.length, 2);
    });
  });
});
