/**
 * Filesystem usage metrics (docs/upstream.md, "Filesystems"): `filesystem.<key>.size` and
 * `filesystem.<key>.used`, in bytes, for local filesystems on `/dev/` devices.
 *
 * @module
 */
import type { FilesystemUsage } from "../host/filesystems.ts";
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { createRoundFilesystems, type RoundFilesystems } from "./filesystem_listing.ts";
import { sanitizeMetricKey } from "./sanitize.ts";

/** Which filesystems get metrics and under which key: `[filesystems]`. */
export interface FilesystemSelection {
  /** `[filesystems] ignore`: filesystems whose device name (`/dev/sda1`) matches are skipped. */
  readonly ignore?: RegExp;
  /** `[filesystems] use_mountpoint`: key metrics by the mount point instead of the device. */
  readonly useMountpoint?: boolean;
}

/**
 * Upstream's choice of filesystems and keys: `/dev/` devices not ignored, keyed by the sanitized
 * device less `/dev/` (or mount point); a later filesystem with the same key replaces the earlier.
 */
export function filesystemsByKey(
  filesystems: readonly FilesystemUsage[],
  { ignore, useMountpoint = false }: FilesystemSelection,
): Map<string, FilesystemUsage> {
  const byKey = new Map<string, FilesystemUsage>();
  for (const fs of filesystems) {
    if (!fs.name.startsWith("/dev/")) continue;
    if (ignore && fs.name.search(ignore) !== -1) continue;
    const key = useMountpoint
      ? sanitizeMetricKey(fs.mount)
      : sanitizeMetricKey(fs.name.slice("/dev/".length));
    // Delete first so that the replacement also takes the later position, as upstream.
    byKey.delete(key);
    byKey.set(key, fs);
  }
  return byKey;
}

/** Options of {@linkcode createFilesystemCollector}. */
export interface FilesystemCollectorOptions extends FilesystemSelection {
  readonly source: Source;
  /** The round's filesystems; a listing of its own by default. */
  readonly list?: RoundFilesystems;
}

/** Creates the `filesystem` collector. */
export function createFilesystemCollector(options: FilesystemCollectorOptions): Collector {
  const { source } = options;
  const list = options.list ?? createRoundFilesystems({ source });
  return {
    name: "filesystem",
    async collect({ timeMs }): Promise<MetricValue[]> {
      return [...filesystemsByKey(await list(timeMs), options)].flatMap(([key, fs]) => [
        { name: `filesystem.${key}.size`, value: (fs.kbUsed + fs.kbAvailable) * 1024 },
        { name: `filesystem.${key}.used`, value: fs.kbUsed * 1024 },
      ]);
    },
  };
}

/** The registry's line: upstream's filesystem metrics, always on. */
export const FILESYSTEM_COLLECTOR: CollectorDefinition = {
  name: "filesystem",
  os: ["linux"],
  metrics: [
    {
      name: "filesystem.<device>.size",
      unit: "bytes",
      description: "Size of a /dev/ filesystem: used plus available to users (as df counts).",
    },
    {
      name: "filesystem.<device>.used",
      unit: "bytes",
      description: "Space used on a /dev/ filesystem.",
    },
  ],
  sources: (source) => [source.procPath("mounts")],
  create: ({ source, config, filesystems }) =>
    createFilesystemCollector({
      source,
      ignore: config.filesystems.ignore,
      useMountpoint: config.filesystems.useMountpoint,
      list: filesystems,
    }),
};
