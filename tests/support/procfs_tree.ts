/**
 * Procfs roots for collector tests, built from the fixture trees under `tests/fixtures/procfs/`
 * (`x86`, `x86-next`, `reset`, `old-kernel`).
 *
 * Rate collectors need two samples of the same file; a test starts with one tree's copy in a temp
 * root and swaps in another tree's between two collections, as the kernel would update it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { withTempDir } from "./temp_dir.ts";

/** The directory that holds the procfs fixture trees, with a trailing slash. */
export const PROCFS_FIXTURES = fileURLToPath(new URL("../fixtures/procfs/", import.meta.url));

/** Replaces the root's copy of the file with fixture `tree`'s (e.g. `"x86-next"`). */
export type NextSnapshot = (tree: string) => Promise<void>;

/**
 * Runs `fn` with a temp procfs root holding the x86 tree's `file` (a path relative to the root,
 * e.g. `"diskstats"` or `"net/dev"`); `next(tree)` swaps in another tree's copy. The root is removed
 * afterwards.
 */
export function withProcfsSnapshots(
  file: string,
  fn: (dir: string, next: NextSnapshot) => Promise<void>,
): Promise<void> {
  return withTempDir("procfs_", async (dir) => {
    await Deno.mkdir(dirname(join(dir, file)), { recursive: true });
    const next = (tree: string) =>
      Deno.copyFile(join(PROCFS_FIXTURES, tree, file), join(dir, file));
    await next("x86");
    await fn(dir, next);
  });
}
