import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hostIdPath, readHostId, removeHostId, writeHostId } from "../../src/agent/host_id.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onUnix, unixOnly } from "../support/platform.ts";
import { runAgent } from "../support/agent_process.ts";

const unix = onUnix("Unix file modes");

/** Runs `fn` with a fresh temporary directory and the log lines (without timestamps) it produced. */
const withRoot = (fn: (dir: string, logs: string[]) => Promise<void>): Promise<void> =>
  withTempDir("host_id_test_", (dir) => withLogs((logs) => fn(dir, logs)));

async function entries(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("host_id: the id file is <root>/id", () => {
  assert.equal(hostIdPath("/var/lib/mackerel-agent"), "/var/lib/mackerel-agent/id");
});

Deno.test("host_id: save then load returns the id; the file holds it without a newline", async () => {
  await withRoot(async (dir) => {
    const root = join(dir, "a", "b");
    await writeHostId(root, "2Xj9fQk7Hn3");
    assert.equal(await readHostId(root), "2Xj9fQk7Hn3");
    assert.equal(await Deno.readTextFile(join(root, "id")), "2Xj9fQk7Hn3");
  });
});

const UNDER_UMASK = fileURLToPath(
  new URL("../fixtures/host_id/write_under_umask.ts", import.meta.url),
);

/** `writeHostId(root, id)` in a child process whose umask is `mask`. */
async function writeUnderUmask(mask: number, root: string, id: string): Promise<void> {
  const out = await runAgent([mask.toString(8), root, id], {
    entry: UNDER_UMASK,
    timeoutMs: 20_000,
  });
  assert.equal(out.code, 0, out.stderr);
}

unix.test("host_id: under umask 022 the root is created 0755 and the file 0644", async () => {
  await withRoot(async (dir) => {
    const root = join(dir, "root");
    await writeUnderUmask(0o022, root, "2Xj9fQk7Hn3");
    assert.equal((await Deno.stat(root)).mode! & 0o777, 0o755);
    assert.equal((await Deno.stat(join(root, "id"))).mode! & 0o777, 0o644);
  });
});

Deno.test({
  ...unixOnly("host_id: the file mode is 0666 less the umask, as upstream ", "Unix file modes"),
  fn: async () => {
    await withRoot(async (dir) => {
      const root = join(dir, "root");
      await writeUnderUmask(0o077, root, "2Xj9fQk7Hn3");
      assert.equal((await Deno.stat(root)).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(join(root, "id"))).mode! & 0o777, 0o600);
    });
  },
});

Deno.test("host_id: a save replaces the old id and leaves no temporary file", async () => {
  await withRoot(async (root) => {
    await writeHostId(root, "first");
    await writeHostId(root, "second");
    assert.equal(await Deno.readTextFile(join(root, "id")), "second");
    assert.deepEqual(await entries(root), ["id"]);
  });
});

Deno.test("host_id: a failed save removes its temporary file", async () => {
  await withRoot(async (root) => {
    // A directory where the id file belongs: the final rename fails.
    await Deno.mkdir(join(root, "id"));
    await assert.rejects(writeHostId(root, "abc"));
    assert.deepEqual(await entries(root), ["id"]);
    assert.equal((await Deno.stat(join(root, "id"))).isDirectory, true);
  });
});

Deno.test("host_id: trailing CR and LF are stripped on load", async () => {
  await withRoot(async (root) => {
    await Deno.writeTextFile(join(root, "id"), "2Xj9fQk7Hn3\r\n");
    assert.equal(await readHostId(root), "2Xj9fQk7Hn3");
    await Deno.writeTextFile(join(root, "id"), "2Xj9fQk7Hn3\n\n\r");
    assert.equal(await readHostId(root), "2Xj9fQk7Hn3");
    // Only the end is trimmed, as upstream's strings.TrimRight: what is left is no host id.
    await Deno.writeTextFile(join(root, "id"), " 2Xj9\r\nfQk7 \n");
    await assert.rejects(readHostId(root), /id does not hold a host id: " 2Xj9\\r\\nfQk7 "/);
  });
});

Deno.test("host_id: a file that does not hold an id is refused, not used or overwritten", async () => {
  await withRoot(async (root) => {
    const garbage = "x".repeat(5_000_000);
    await Deno.writeTextFile(join(root, "id"), garbage);
    await assert.rejects(
      readHostId(root),
      /id does not hold a host id: it has 5000000 bytes, more than 1024; delete it to register/,
    );
    await assert.rejects(writeHostId(root, "a/b"), RangeError);
    assert.equal((await Deno.stat(join(root, "id"))).size, 5_000_000);
  });
});

unix.test("host_id: a FIFO, a directory or /dev/zero in its place is refused without reading it", async () => {
  await withRoot(async (root) => {
    const path = join(root, "id");
    await new Deno.Command("mkfifo", { args: [path] }).output();
    await assert.rejects(readHostId(root), /id does not hold a host id: it is not a regular file/);
    await Deno.remove(path);
    await Deno.symlink("/dev/zero", path);
    await assert.rejects(readHostId(root), /it is not a regular file/);
    await Deno.remove(path);
    await Deno.mkdir(path);
    await assert.rejects(readHostId(root), /it is not a regular file/);
  });
});

Deno.test("host_id: an empty file loads as no id, with a WARNING", async () => {
  await withRoot(async (root, logs) => {
    await Deno.writeTextFile(join(root, "id"), "");
    assert.equal(await readHostId(root), undefined);
    await Deno.writeTextFile(join(root, "id"), "\r\n");
    assert.equal(await readHostId(root), undefined);
    assert.deepEqual(logs, [
      "WARNING <command> HostIDFile found, but the content is empty",
      "WARNING <command> HostIDFile found, but the content is empty",
    ]);
  });
});

Deno.test("host_id: a missing file loads as no id, silently", async () => {
  await withRoot(async (root, logs) => {
    assert.equal(await readHostId(root), undefined);
    assert.equal(await readHostId(join(root, "no", "such", "dir")), undefined);
    assert.deepEqual(logs, []);
  });
});

Deno.test("host_id: remove deletes the file; loading afterwards gives no id", async () => {
  await withRoot(async (root) => {
    await writeHostId(root, "2Xj9fQk7Hn3");
    await removeHostId(root);
    assert.deepEqual(await entries(root), []);
    assert.equal(await readHostId(root), undefined);
    await assert.rejects(removeHostId(root), Deno.errors.NotFound);
  });
});
