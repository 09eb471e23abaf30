import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { locate, locateCached } from "../../src/plugins/exec_path.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onUnix } from "../support/platform.ts";
import { runAgent } from "../support/agent_process.ts";

const PLUGIN_BASE_ENV = fileURLToPath(
  new URL("../fixtures/env/plugin_base_env.ts", import.meta.url),
);

const unix = onUnix("shell scripts with Unix file modes");

async function writeExecutable(file: string): Promise<void> {
  await Deno.writeTextFile(file, "#!/bin/sh\necho hi\n");
  await Deno.chmod(file, 0o755);
}

const NOT_FOUND = {
  code: 127,
  message: 'exec: "tool": executable file not found in $PATH',
};

unix.test("exec path: a cached lookup follows the file: removed, not executable, back again", async () => {
  await withTempDir("exec_path", async (dir) => {
    const path = `${dir}/a:${dir}/b`;
    const tool = `${dir}/b/tool`;
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    await writeExecutable(tool);
    assert.deepEqual(locateCached("tool", path), { path: tool });
    assert.deepEqual(locateCached("tool", path), { path: tool });
    await Deno.chmod(tool, 0o644);
    assert.deepEqual(locateCached("tool", path), NOT_FOUND);
    await Deno.remove(tool);
    assert.deepEqual(locateCached("tool", path), NOT_FOUND);
    await writeExecutable(tool);
    assert.deepEqual(locateCached("tool", path), { path: tool });
  });
});

unix.test("exec path: another PATH is another lookup; a shadowing file wins after a minute", async () => {
  await withTempDir("exec_path", async (dir) => {
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    await writeExecutable(`${dir}/b/tool`);
    const now = performance.now();
    assert.deepEqual(locateCached("tool", `${dir}/a:${dir}/b`, now), { path: `${dir}/b/tool` });
    await writeExecutable(`${dir}/a/tool`);
    // Installed earlier in PATH: a fresh lookup sees it at once, the cached one within a minute.
    assert.deepEqual(locate("tool", `${dir}/a:${dir}/b`), { path: `${dir}/a/tool` });
    assert.deepEqual(locateCached("tool", `${dir}/b:${dir}/a`, now), { path: `${dir}/b/tool` });
    assert.deepEqual(locateCached("tool", `${dir}/a:${dir}/b`, now + 1_000), {
      path: `${dir}/b/tool`,
    });
    assert.deepEqual(locateCached("tool", `${dir}/a:${dir}/b`, now + 61_000), {
      path: `${dir}/a/tool`,
    });
  });
});

unix.test("exec path: names with a slash are never cached", async () => {
  await withTempDir("exec_path", async (dir) => {
    const tool = `${dir}/tool`;
    await writeExecutable(tool);
    assert.deepEqual(locateCached(tool, ""), { path: tool });
    await Deno.remove(tool);
    assert.deepEqual(locateCached(tool, ""), {
      code: 127,
      message: `fork/exec ${tool}: no such file or directory`,
    });
  });
});

Deno.test("exec path: the plugins' base environment is built once, again when a proxy is set", async () => {
  // In a child of its own, which sets HTTPS_PROXY: set here, it would reach the children of every
  // test file running beside this one.
  const out = await runAgent([], { entry: PLUGIN_BASE_ENV, timeoutMs: 20_000 });
  assert.deepEqual([out.code, out.stdout, out.stderr], [0, "ok\n", ""]);
});
