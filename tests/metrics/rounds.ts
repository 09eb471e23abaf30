/**
 * Helpers for collector tests: the context of a round, a source that serves fixture trees in
 * turn, and a source that records what a collector read from the live /proc.
 *
 * @module
 */
import { join } from "node:path";
import { createSource, type Source } from "../../src/host/source.ts";
import type { CollectContext } from "../../src/metrics/collector.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";

/** A round's scheduled time in the fixture tests (epoch ms, on a minute). */
export const T0 = 1_718_000_040_000;

/** The context of the round scheduled at `timeMs`, with a signal that never aborts. */
export function at(timeMs: number): CollectContext {
  return { timeMs, signal: new AbortController().signal };
}

/**
 * A procfs source reading fixture tree `tree` (first `x86`) and switched with `use`, as the kernel
 * would update its files between two rounds; a file the tree lacks is read from `x86`.
 */
export function fixtureTrees(): { source: Source; use: (tree: string) => void } {
  let tree = "x86";
  const base = createSource({ procfs: join(PROCFS_FIXTURES, "x86") });
  const read = async (rel: string) => {
    try {
      return await Deno.readTextFile(join(PROCFS_FIXTURES, tree, rel));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      return await Deno.readTextFile(join(PROCFS_FIXTURES, "x86", rel));
    }
  };
  return { source: { ...base, readProc: read }, use: (next) => void (tree = next) };
}

/** The live procfs, recording the text of every file read since the last `take`. */
export function recordingSource(): { source: Source; take: () => Map<string, string> } {
  const base = createSource();
  let reads = new Map<string, string>();
  const readProc = async (rel: string) => {
    const text = await base.readProc(rel);
    reads.set(rel, text);
    return text;
  };
  return {
    source: { ...base, readProc },
    take: () => {
      const taken = reads;
      reads = new Map();
      return taken;
    },
  };
}

/** Whether the live `path` can be opened by this test process. */
export async function readable(path: string): Promise<boolean> {
  try {
    (await Deno.open(path)).close();
    return true;
  } catch {
    return false;
  }
}
