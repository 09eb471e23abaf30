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
 * The counts come from the same statfs calls as the sizes, in the round's one filesystem listing
 * (`listFilesystems`, with its deadline and its care for mounts that never answer).
 *
 * @module
 */
import type { StatFsLike } from "../host/filesystems.ts";
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { filesystemsByKey, type FilesystemSelection } from "./filesystem.ts";
import { createRoundFilesystems, type RoundFilesystems } from "./filesystem_listing.ts";
import { inGraph } from "./metric_declaration.ts";

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
  /** The round's filesystems; a listing of its own (with `statfs` and `deviceOf`) by default. */
  readonly list?: RoundFilesystems;
}

/** Creates the `inodes` collector. */
export function createInodesCollector(options: InodesCollectorOptions): Collector {
  const { source, statfs, deviceOf } = options;
  const list = options.list ?? createRoundFilesystems({ source, statfs, deviceOf });
  return {
    name: "inodes",
    async collect({ timeMs }): Promise<MetricValue[]> {
      const values: MetricValue[] = [];
      for (const [key, fs] of filesystemsByKey(await list(timeMs), options)) {
        if (!fs.inodes || !(fs.inodes.total > 0)) continue;
        const { total, free } = fs.inodes;
        const used = Math.max(0, total - free);
        values.push(
          { name: `custom.inode.count.${key}.used`, value: used },
          { name: `custom.inode.count.${key}.free`, value: free },
          { name: `custom.inode.count.${key}.total`, value: total },
          { name: `custom.inode.percentage.${key}.used`, value: used * 100 / total },
        );
      }
      return values;
    },
  };
}

/**
 * The registry's line: off unless `[collectors] inodes = true`. One graph of counts and one of the
 * percentage per filesystem (`#`), as the plugin's.
 */
export const INODES_COLLECTOR: CollectorDefinition = {
  name: "inodes",
  os: ["linux"],
  optIn: "inodes",
  metrics: [
    ...inGraph("Inode", [
      { name: "custom.inode.count.<device>.used", unit: "integer", description: "Inodes in use." },
      { name: "custom.inode.count.<device>.free", unit: "integer", description: "Inodes free." },
      {
        name: "custom.inode.count.<device>.total",
        unit: "integer",
        description: "Inodes in total.",
      },
    ]),
    ...inGraph("Inode Percentage", [{
      name: "custom.inode.percentage.<device>.used",
      unit: "percentage",
      label: "used %",
      description: "Inodes in use, in percent of the total.",
    }]),
  ],
  sources: (source) => [source.procPath("mounts")],
  create: ({ source, config, filesystems }) =>
    createInodesCollector({
      source,
      ignore: config.filesystems.ignore,
      useMountpoint: config.filesystems.useMountpoint,
      list: filesystems,
    }),
};
