/**
 * The `meta.filesystem` part: every mounted filesystem `df` would list, keyed by device name.
 *
 * @module
 */
import type { FilesystemSpec } from "../../mackerel/types.ts";
import { type FilesystemUsage, listFilesystems } from "../filesystems.ts";
import type { Source } from "../source.ts";

/** Lists filesystems with their usage; {@linkcode listFilesystems} unless a test injects one. */
export type ListFilesystems = (
  options: { readonly source: Source; readonly timeoutMs?: number },
) => Promise<FilesystemUsage[]>;

/**
 * Collects the filesystem spec: `kb_size`, `kb_used`, `kb_available`, `percent_used` (`"91%"`) and
 * `mount` per filesystem, keyed by its name (last wins on duplicates). Unlike the filesystem
 * metrics, nothing is filtered by `[filesystems] ignore` and names need not start with `/dev/`.
 */
export async function collectFilesystemSpec(
  source: Source,
  list: ListFilesystems = listFilesystems,
): Promise<Record<string, FilesystemSpec>> {
  const spec: Record<string, FilesystemSpec> = {};
  for (const fs of await list({ source })) {
    spec[fs.name] = {
      kb_size: fs.kbSize,
      kb_used: fs.kbUsed,
      kb_available: fs.kbAvailable,
      percent_used: `${wholePercent(fs.percentUsed)}%`,
      mount: fs.mount,
    };
  }
  return spec;
}

/** df prints its capacity as a whole percentage rounded up; keep that shape for any input. */
function wholePercent(value: number): number {
  return Number.isInteger(value) ? value : Math.ceil(value);
}
