/**
 * Temporary directories that tests fill with files and that are always removed afterwards.
 *
 * @module
 */
import { dirname, join } from "node:path";

/**
 * Runs `fn` with a fresh temp dir named `<prefix>…`, then removes the dir and all it holds,
 * whatever `fn` does. Resolves to what `fn` resolves to.
 */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes each `path → text` of `files` under `dir`, creating the directories on the way. */
export async function writeFiles(
  dir: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    await Deno.mkdir(dirname(file), { recursive: true });
    await Deno.writeTextFile(file, text);
  }
}
