import assert from "node:assert/strict";
import { statfsSync as nodeStatfsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeStatFs, openStatfsSync, statfs } from "../../../src/platform/linux/statfs.ts";
import { onLinux } from "../../support/platform.ts";
import { withTempDir } from "../../support/temp_dir.ts";

const linux = onLinux("calls the C library of Linux");

const STATFS_MODULE = fileURLToPath(
  new URL("../../../src/platform/linux/statfs.ts", import.meta.url),
);

Deno.test("statfs: a struct statfs of 64-bit Linux decodes word by word", () => {
  const buffer = new Uint8Array(128);
  const view = new DataView(buffer.buffer);
  // f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid, f_namelen, f_frsize
  const words = [0xef53, 4096, 2 ** 40 + 3, 500, 400, 1000, 900, 0x1234, 255, 1024];
  words.forEach((w, i) => view.setBigUint64(i * 8, BigInt(w), true));
  assert.deepEqual(decodeStatFs(buffer), {
    type: 0xef53,
    bsize: 4096,
    blocks: 2 ** 40 + 3,
    bfree: 500,
    bavail: 400,
    files: 1000,
    ffree: 900,
    frsize: 1024,
  });
});

linux.test("statfs: the C library's answers match node:fs on this machine's root, both ways", async () => {
  const statfsSync = await openStatfsSync();
  for (const answer of [statfsSync("/"), await statfs("/")]) {
    const node = nodeStatfsSync("/");
    for (const key of ["type", "bsize", "blocks", "files"] as const) {
      assert.equal(answer[key], node[key], key);
    }
    // Other processes write meanwhile: free counts may move a little.
    for (const key of ["bfree", "bavail", "ffree"] as const) {
      assert.ok(Math.abs(answer[key] - node[key]) < 65536, `${key} ${answer[key]} ${node[key]}`);
    }
  }
});

linux.test("statfs: a missing path and a NUL in a path fail with a message", async () => {
  const statfsSync = await openStatfsSync();
  assert.throws(() => statfsSync("/no/such/dir"), {
    message: "statfs /no/such/dir failed: errno 2",
  });
  await assert.rejects(statfs("/no/such/dir"), { message: "statfs /no/such/dir failed" });
  assert.throws(() => statfsSync("/tmp\0x"), TypeError);
});

linux.test("statfs: without --allow-ffi the failure says what is missing", async () => {
  await withTempDir("statfs_test_", async (dir) => {
    const script = join(dir, "try.ts");
    await Deno.writeTextFile(
      script,
      `import { openStatfsSync } from ${JSON.stringify(STATFS_MODULE)};\n` +
        `const statfsSync = await openStatfsSync();\n` +
        `try { statfsSync("/"); } catch (e) { console.log(e.name + ": " + e.message); }\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", "--allow-read", script],
      env: { NO_COLOR: "1" },
      stdin: "null",
      signal: AbortSignal.timeout(30_000),
    }).output();
    assert.equal(
      new TextDecoder().decode(out.stdout).trim(),
      "StatfsUnavailable: cannot call statfs through libc.so.6: it needs --allow-ffi (or -A)",
      new TextDecoder().decode(out.stderr),
    );
  });
});
