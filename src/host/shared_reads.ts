/**
 * One read of each procfs file per round, however many readers ask: when the Mackerel collectors
 * and the OTLP host metrics both run, `/proc/stat`, `meminfo`, `diskstats` and `net/dev` are read
 * once and both parse the same text. Outside a round every read goes to the file.
 *
 * @module
 */
import type { Source } from "./source.ts";

/** A {@linkcode Source} whose procfs reads are shared within a round. */
export interface SharedReads {
  /** Reads through it; within {@linkcode SharedReads.round} each procfs file is read once. */
  readonly source: Source;
  /** Runs `fn` as one round: its reads are shared, and forgotten when it ends. */
  round<T>(fn: () => Promise<T>): Promise<T>;
}

/** Wraps `source`; only `readProc` is shared, the rest goes straight through. */
export function shareReads(source: Source): SharedReads {
  let reads: Map<string, Promise<string>> | undefined;
  let depth = 0;
  return {
    source: {
      ...source,
      readProc(rel) {
        if (reads === undefined) return source.readProc(rel);
        let read = reads.get(rel);
        if (read === undefined) {
          read = source.readProc(rel);
          reads.set(rel, read);
        }
        return read;
      },
    },
    async round(fn) {
      if (depth++ === 0) reads = new Map();
      try {
        return await fn();
      } finally {
        if (--depth === 0) reads = undefined;
      }
    },
  };
}
