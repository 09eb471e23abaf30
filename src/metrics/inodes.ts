/**
 * Inodes per filesystem (`[collectors] inodes`), for the filesystems the filesystem metrics cover
 * and under the same keys (`[filesystems] ignore` and `use_mountpoint` apply):
 *
 * - `custom.inode.count.<key>.used`, `.free`, `.total`;
 * - `custom.inode.percentage.<key>.used`: used × 100 ÷ total.
 *
 * The names and graphs are those of mackerel-agent-plugins' `mackerel-plugin-inode`, so a host
 * that ran it keeps its graphs and monitors when it switches to this collector. Filesystems that
 * report no inodes at all (btrfs, vfat) are left out, as `df -i` shows them as `-`.
 *
 * The counts come from the same statfs calls as the sizes (`listFilesystems`, with its deadline
 * and its care for mounts that never answer), recorded as they pass.
 *
 * @module
 */
import { statfs as nodeStatfs } from "node:fs/promises";
import { listFilesystems, type StatFsLike } from "../host/filesystems.ts";
import type { Source } from "../host/source.ts";
import type { GraphDef } from "../mackerel/api_types.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { filesystemsByKey, type FilesystemSelection } from "./filesystem.ts";

/** A statfs answer with its inode counts. */
export interface InodeStatFs extends StatFsLike {
  /** Inodes in total. */
  readonly files: number;
  /** Inodes free. */
  readonly ffree: number;
}

/** Options of {@linkcode createInodesCollector}. */
export interface InodesCollectorOptions extends FilesystemSelection {
  readonly source: Source;
  /** statfs(2) of a path; `node:fs/promises` `statfs` by default. */
  readonly statfs?: (path: string) => Promise<InodeStatFs>;
  /** st_dev of a path, to fold bind mounts as df does; `Deno.stat` by default. */
  readonly deviceOf?: (path: string) => Promise<number>;
}

/** Creates the `inodes` collector. */
export function createInodesCollector(options: InodesCollectorOptions): Collector {
  const { source, deviceOf } = options;
  const measure = options.statfs ?? nodeStatfs;
  // Latest counts by mount point. One function for the collector's life: the lister remembers a
  // mount whose statfs never answered by the function that asked, and does not ask it again.
  const counts = new Map<string, { files: number; ffree: number }>();
  const statfs = async (path: string): Promise<StatFsLike> => {
    const stats = await measure(path);
    counts.set(path, { files: stats.files, ffree: stats.ffree });
    return stats;
  };
  return {
    name: "inodes",
    async collect(): Promise<MetricValue[]> {
      const listed = await listFilesystems({ source, statfs, deviceOf });
      const values: MetricValue[] = [];
      for (const [key, fs] of filesystemsByKey(listed, options)) {
        const count = counts.get(fs.mount);
        if (count === undefined || !(count.files > 0)) continue;
        const used = Math.max(0, count.files - count.ffree);
        values.push(
          { name: `custom.inode.count.${key}.used`, value: used },
          { name: `custom.inode.count.${key}.free`, value: count.ffree },
          { name: `custom.inode.count.${key}.total`, value: count.files },
          { name: `custom.inode.percentage.${key}.used`, value: used * 100 / count.files },
        );
      }
      return values;
    },
  };
}

/** One graph of counts and one of the percentage per filesystem (`#`), as the plugin's. */
export const INODES_GRAPH_DEFS: readonly GraphDef[] = [
  {
    name: "custom.inode.count.#",
    displayName: "Inode",
    unit: "integer",
    metrics: ["used", "free", "total"].map((m) => ({
      name: `custom.inode.count.#.${m}`,
      displayName: m,
      isStacked: false,
    })),
  },
  {
    name: "custom.inode.percentage.#",
    displayName: "Inode Percentage",
    unit: "percentage",
    metrics: [{ name: "custom.inode.percentage.#.used", displayName: "used %", isStacked: false }],
  },
];

/** The registry's line: off unless `[collectors] inodes = true`. */
export const INODES_COLLECTOR: CollectorDefinition = {
  name: "inodes",
  optIn: "inodes",
  sources: (source) => [source.procPath("mounts")],
  graphDefs: INODES_GRAPH_DEFS,
  create: ({ source, config }) =>
    createInodesCollector({
      source,
      ignore: config.filesystems.ignore,
      useMountpoint: config.filesystems.useMountpoint,
    }),
};
