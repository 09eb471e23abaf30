/**
 * No code here changes the process's working directory. `deno test --parallel` runs the test files
 * as threads of one process, so a `chdir` in one test moves every other test's relative paths and
 * the directory its children start in; a child that starts in a temp dir the first test then
 * removes cannot read its working directory and exits 1 (seen once in CI as a supervise test's
 * exit 1 instead of 78). Code that needs another directory gives a child process `cwd`.
 */
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

/** Every `.ts` file under `dir`, recursively. */
async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("no source, test or script changes the process's working directory", async () => {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const offenders: string[] = [];
  for (const dir of ["src", "tests", "scripts"]) {
    for await (const path of sources(`${root}${dir}`)) {
      if (path === fileURLToPath(import.meta.url)) continue;
      (await Deno.readTextFile(path)).split("\n").forEach((line, i) => {
        if (/\b(Deno|process)\.chdir\b/.test(line)) offenders.push(`${path}:${i + 1}`);
      });
    }
  }
  assert.deepEqual(offenders, [], "run the code in a child process with `cwd` instead");
});
