/**
 * The agent's sources hold no character above U+00FF. V8 keeps a script's source as one byte per
 * character only when every character fits in Latin-1; one arrow or dash in a comment doubles the
 * memory of that whole file for the life of the daemon (about 1.5 MiB over src/, measured with
 * `deno task compare`). Strings that need such a character spell it as an escape (`\u2026`).
 */
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

Deno.test("agent sources are Latin-1, so V8 stores them one byte per character", async () => {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const offenders: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) check(path, await Deno.readTextFile(path));
    }
  };
  const check = (path: string, text: string): void => {
    text.split("\n").forEach((line, i) => {
      const wide = [...line].find((c) => c.codePointAt(0)! > 0xff);
      if (wide !== undefined) {
        offenders.push(`${path}:${i + 1}: U+${wide.codePointAt(0)!.toString(16).toUpperCase()}`);
      }
    });
  };
  await walk(`${root}src`);
  check(`${root}main.ts`, await Deno.readTextFile(`${root}main.ts`));
  assert.deepEqual(offenders, [], "use an ASCII spelling or a \\u escape");
});
