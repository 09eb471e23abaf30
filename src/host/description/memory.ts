/**
 * The `meta.memory` part: selected `/proc/meminfo` lines, values kept as text (`"3009856kB"`).
 *
 * @module
 */
import { describeReadError, type Source } from "../source.ts";

/** meminfo keys mackerel-agent reports, with their spec names, in report order. */
const MEMINFO_KEYS: ReadonlyMap<string, string> = new Map([
  ["MemTotal", "total"],
  ["MemFree", "free"],
  ["Buffers", "buffers"],
  ["Cached", "cached"],
  ["Active", "active"],
  ["Inactive", "inactive"],
  ["HighTotal", "high_total"],
  ["HighFree", "high_free"],
  ["LowTotal", "low_total"],
  ["LowFree", "low_free"],
  ["Dirty", "dirty"],
  ["Writeback", "writeback"],
  ["AnonPages", "anon_pages"],
  ["Mapped", "mapped"],
  ["Slab", "slab"],
  ["SReclaimable", "slab_reclaimable"],
  ["SUnreclaim", "slab_unreclaim"],
  ["PageTables", "page_tables"],
  ["NFS_Unstable", "nfs_unstable"],
  ["Bounce", "bounce"],
  ["CommitLimit", "commit_limit"],
  ["Committed_AS", "committed_as"],
  ["VmallocTotal", "vmalloc_total"],
  ["VmallocUsed", "vmalloc_used"],
  ["VmallocChunk", "vmalloc_chunk"],
  ["SwapCached", "swap_cached"],
  ["SwapTotal", "swap_total"],
  ["SwapFree", "swap_free"],
]);

/**
 * Builds the memory spec from meminfo text: for each known key present, the remaining fields
 * joined without spaces (`MemTotal:  3916792 kB` -> `total: "3916792kB"`). Other keys
 * (MemAvailable, HugePages_*) are left out, as upstream.
 */
export function parseMemorySpec(text: string): Record<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2 || !fields[0].endsWith(":")) continue;
    const name = MEMINFO_KEYS.get(fields[0].slice(0, -1));
    if (name !== undefined) found.set(name, fields.slice(1).join(""));
  }
  const spec: Record<string, string> = {};
  for (const name of MEMINFO_KEYS.values()) {
    const value = found.get(name);
    if (value !== undefined) spec[name] = value;
  }
  return spec;
}

/** Reads `<procfs>/meminfo` into the memory spec; rejects when it cannot be read. */
export async function collectMemorySpec(source: Source): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await source.readProc("meminfo");
  } catch (error) {
    throw new Error(describeReadError(source.procPath("meminfo"), error), { cause: error });
  }
  return parseMemorySpec(text);
}
