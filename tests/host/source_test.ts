import assert from "node:assert/strict";
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
