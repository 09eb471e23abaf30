/**
 * Filesystem usage metrics (reference §3.6): `filesystem.<key>.size` and `filesystem.<key>.used`,
 * in bytes, for local filesystems on `/dev/` devices.
 *
 * @module
 */
import { type FilesystemUsage, listFilesystems } from "../host/filesystems.ts";
import type { Source } from "../host/source.ts";
import type { Collector, MetricValue } from "./collector.ts";
import { sanitizeMetricKey } from "./sanitize.ts";

/** Options of {@linkcode createFilesystemCollector}. */
export interface FilesystemCollectorOptions {
  readonly source: Source;
  /** `[filesystems] ignore`: filesystems whose device name (`/dev/sda1`) matches are skipped. */
  readonly ignore?: RegExp;
  /** `[filesystems] use_mountpoint`: key metrics by the mount point instead of the device. */
  readonly useMountpoint?: boolean;
  /** Lists filesystems; {@linkcode listFilesystems} by default. */
  readonly list?: () => Promise<FilesystemUsage[]>;
}

/** Creates the `filesystem` collector. */
export function createFilesystemCollector(options: FilesystemCollectorOptions): Collector {
  const { source, ignore, useMountpoint = false } = options;
  const list = options.list ?? (() => listFilesystems({ source }));
  return {
    name: "filesystem",
    sources: [source.procPath("mounts")],
    async collect(): Promise<MetricValue[]> {
      // Keyed so that a later filesystem with the same key replaces the earlier, as upstream.
      const byKey = new Map<string, { size: number; used: number }>();
      for (const fs of await list()) {
        if (!fs.name.startsWith("/dev/")) continue;
        if (ignore && fs.name.search(ignore) !== -1) continue;
        const key = useMountpoint
          ? sanitizeMetricKey(fs.mount)
          : sanitizeMetricKey(fs.name.slice("/dev/".length));
        byKey.delete(key);
        byKey.set(key, { size: (fs.kbUsed + fs.kbAvailable) * 1024, used: fs.kbUsed * 1024 });
      }
      return [...byKey].flatMap(([key, { size, used }]) => [
        { name: `filesystem.${key}.size`, value: size },
        { name: `filesystem.${key}.used`, value: used },
      ]);
    },
  };
}
