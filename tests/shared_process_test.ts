/**
 * `deno test --parallel` runs the test files as threads of one process, so its working directory,
 * environment, umask and signals are shared by every test running at the time, and the first
 * three are inherited by every child they start. A `chdir` in one test moved the others' relative
 * paths and the directory their children started in: a child started in a temp dir the first
 * test then removed could not read its working directory and exited 1 (seen once in CI, a
 * supervise test's exit 1 instead of 78). A variable set in one test reaches the HTTP clients
 * and children created beside it; a umask set (or read: `Deno.umask()` sets 0 for a moment)
 * applies to every file created then, the agent's own included; a signal sent to the process
 * reaches every listener in it. Code that needs any of them runs in a child process
 * (tests/fixtures/, tests/agent/shutdown_signals.ts) given its `cwd` or `env`; the agent itself
 * never changes its directory and never reads its umask.
 */
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/** Every `.ts` file under `dir`, recursively, but for those under `skip`. */
async function* sources(dir: string, skip?: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (path === skip) continue;
    if (entry.isDirectory) yield* sources(path, skip);
    else if (entry.name.endsWith(".ts") && path !== SELF) yield path;
  }
}

/** `file:line` of each line of the files under `dirs` that `pattern` matches. */
async function matching(pattern: RegExp, dirs: readonly string[], skip?: string) {
  const found: string[] = [];
  for (const dir of dirs) {
    for await (const path of sources(`${ROOT}${dir}`, skip && `${ROOT}${skip}`)) {
      (await Deno.readTextFile(path)).split("\n").forEach((line, i) => {
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) return; // comments may name what code must not call
        if (pattern.test(line)) found.push(`${path.slice(ROOT.length)}:${i + 1}`);
      });
    }
  }
  return found;
}

Deno.test("shared process: no source, test or script changes the working directory", async () => {
  assert.deepEqual(
    await matching(/\b(Deno|process)\.chdir\b/, ["src", "tests", "scripts"]),
    [],
    "run the code in a child process with `cwd` instead",
  );
});

Deno.test("shared process: no test sets or deletes an environment variable of its own process", async () => {
  assert.deepEqual(
    await matching(
      /\bDeno\.env\.(set|delete)\b|\bprocess\.env(\.\w+|\[[^\]]+\])\s*=[^=]|\bdelete\s+process\.env\b/,
      ["tests"],
      "tests/fixtures",
    ),
    [],
    "run the code in a child process (tests/fixtures/) with `env` instead",
  );
});

Deno.test("shared process: only children set or read the umask; the agent never reads it", async () => {
  const found = await matching(
    /\b(Deno|process)\.umask\(/,
    ["src", "tests", "scripts"],
    "tests/fixtures",
  );
  assert.deepEqual(
    found.filter((line) => !line.startsWith("tests/support/umask.ts:")),
    [],
    "create files with a mode and let the kernel apply the umask; read it with currentUmask()",
  );
  // The reader's one call, on Windows, where Deno has no umask to change.
  assert.equal(found.length, 1, found.join("\n"));
});

Deno.test("shared process: only the signals module run alone signals its own process", async () => {
  assert.deepEqual(
    (await matching(
      /\bDeno\.kill\((Deno\.pid\b|-?0\s*,)|\bprocess\.kill\(process\.pid\b/,
      ["src", "tests", "scripts"],
    ))
      .filter((line) => !line.startsWith("tests/agent/shutdown_signals.ts:")),
    [],
    "send the signal from a test in tests/agent/shutdown_signals.ts, which runs in a child",
  );
});
