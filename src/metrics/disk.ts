/**
 * Disk I/O rates from `/proc/diskstats` (docs/upstream.md, "Disk I/O"): `disk.<dev>.reads.delta`
 * and `disk.<dev>.writes.delta`, per second.
 *
 * Upstream sleeps 60 s between two samples inside each round; we keep the previous round's sample
 * instead (`window.ts`), so the first call yields nothing; a rate is stamped with the previous
 * round's time and divided by the nominal window, as upstream divides by its interval.
 *
 * @module
 */
import type { FilesystemUsage } from "../host/filesystems.ts";
import type { Source } from "../host/source.ts";
import { errorMessage, logger } from "../log.ts";
import type { Collector, CollectorDefinition } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { createRoundFilesystems, type RoundFilesystems } from "./filesystem_listing.ts";
import { sanitizeMetricKey } from "./sanitize.ts";

const log = logger("metrics.disk");

/** The eleven counters of one `/proc/diskstats` line, after the major, minor and name columns. */
export interface DiskStat {
  /** Device name as the kernel writes it (`sda1`, `nvme0n1`, `cciss/c0d0`). */
  readonly device: string;
  readonly reads: number;
  readonly readsMerged: number;
  readonly sectorsRead: number;
  readonly readTime: number;
  readonly writes: number;
  readonly writesMerged: number;
  readonly sectorsWritten: number;
  readonly writeTime: number;
  readonly ioInProgress: number;
  readonly ioTime: number;
  readonly ioTimeWeighted: number;
}

// deno-fmt-ignore
const FIELDS = [
  "reads", "readsMerged", "sectorsRead", "readTime", "writes", "writesMerged", "sectorsWritten",
  "writeTime", "ioInProgress", "ioTime", "ioTimeWeighted",
] as const;

/**
 * Parses `/proc/diskstats` as upstream does: a line with fewer than 3 columns is skipped, one with
 * fewer than 14 ends the parse, `dm-*` devices and devices whose eleven counters are all zero are
 * left out, and columns past the eleventh counter (discards, flushes) are ignored.
 */
export function parseDiskstats(
  text: string,
  warn: (message: string) => void = () => {},
): DiskStat[] {
  const stats: DiskStat[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    const cols = line.trim().split(/\s+/);
    if (line.trim() === "") continue;
    if (cols.length < 3) {
      warn(`Failed to parse disk metrics: line ${index + 1}: ${line.trim()}`);
      continue;
    }
    if (cols.length < 3 + FIELDS.length) {
      warn(`Failed to parse disk metrics: line ${index + 1}: too few columns for ${cols[2]}`);
      break;
    }
    const device = cols[2];
    if (device.startsWith("dm-")) continue;
    const counters = cols.slice(3, 3 + FIELDS.length);
    if (!counters.every((c) => /^\d+$/.test(c))) {
      warn(`Failed to parse disk metrics: line ${index + 1}: non-numeric counter for ${device}`);
      continue;
    }
    const values = counters.map(Number);
    if (values.every((v) => v === 0)) continue;
    stats.push(
      Object.fromEntries([["device", device], ...FIELDS.map((f, i) => [f, values[i]])]) as DiskStat,
    );
  }
  return stats;
}

/** Options of {@linkcode createDiskCollector}. */
export interface DiskCollectorOptions {
  readonly source: Source;
  /** `[disks] ignore`: devices whose sanitized name matches (unanchored) are skipped. */
  readonly ignore?: RegExp;
  /** `[disks] use_mountpoint`: name a device df shows as `/dev/<device>` by its mount point. */
  readonly useMountpoint?: boolean;
  /** The round's filesystems, for `useMountpoint`; a listing of its own by default. */
  readonly mounts?: RoundFilesystems;
}

/** Creates the `disk` collector. */
export function createDiskCollector(options: DiskCollectorOptions): Collector {
  const { source, ignore, useMountpoint = false } = options;
  const mounts = options.mounts ?? createRoundFilesystems({ source });
  return createCounterRateCollector({
    name: "disk",
    metricName: (label, field) => `disk.${label}.${field}.delta`,
    read: async (_signal, timeMs) => {
      // Mount points first: their statfs calls may take a while, and diskstats is best read as
      // close to the round's time as possible.
      const names = useMountpoint
        ? await mountpointNames(() => mounts(timeMs))
        : new Map<string, string>();
      const text = await source.readProc("diskstats");
      const counters = new Map<string, { reads: number; writes: number }>();
      for (const stat of parseDiskstats(text, (message) => log.warn(message))) {
        const sanitized = sanitizeMetricKey(stat.device);
        if (ignore && sanitized.search(ignore) !== -1) continue;
        const mount = names.get(stat.device);
        const label = mount === undefined ? sanitized : sanitizeMetricKey(mount);
        counters.set(label, { reads: stat.reads, writes: stat.writes });
      }
      return { counters };
    },
  });
}

/** The registry's line: upstream's disk metrics, always on. */
export const DISK_COLLECTOR: CollectorDefinition = {
  name: "disk",
  os: ["linux"],
  metrics: [
    {
      name: "disk.<device>.reads.delta",
      unit: "iops",
      description: "Reads completed per second (the device's mount point with use_mountpoint).",
    },
    {
      name: "disk.<device>.writes.delta",
      unit: "iops",
      description: "Writes completed per second (the device's mount point with use_mountpoint).",
    },
  ],
  sources: (source) => [source.procPath("diskstats")],
  create: ({ source, config, filesystems }) =>
    createDiskCollector({
      source,
      ignore: config.disks.ignore,
      useMountpoint: config.filesystems.useMountpoint,
      mounts: filesystems,
    }),
};

/** Device name (`sda1`) -> mount point, for filesystems df lists as `/dev/<device>`. */
async function mountpointNames(
  mounts: () => Promise<FilesystemUsage[]>,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  try {
    for (const fs of await mounts()) {
      if (fs.name.startsWith("/dev/")) names.set(fs.name.slice("/dev/".length), fs.mount);
    }
  } catch (error) {
    const reason = errorMessage(error);
    log.warn(`Failed to prepare device name mapping: ${reason}`);
  }
  return names;
}
