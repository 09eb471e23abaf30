/**
 * The Windows collectors: upstream's set for Windows (`command/command_windows.go`), with its
 * names, units and formulas, all through Deno FFI (a `typeperf` or PowerShell spawn would cost
 * hundreds of milliseconds a round):
 *
 * | metrics                    | source                                                       |
 * | -------------------------- | ------------------------------------------------------------ |
 * | `processor_queue_length`   | PDH `\System\Processor Queue Length`                         |
 * | `cpu.*`                    | PDH `\Processor(_Total)\% User/Privileged/Idle Time`         |
 * | `memory.*`                 | GlobalMemoryStatusEx                                         |
 * | `filesystem.<drive>.*`     | GetLogicalDriveStrings, GetVolumeInformation, GetDiskFreeSpaceEx |
 * | `interface.<adapter>.*`    | PDH `\Network Interface(*)` (`\Network Adapter(*)` with `use_adapter`) |
 * | `disk.<drive>.*`           | PDH `\LogicalDisk(*)\Disk Reads/sec`, `Disk Writes/sec`      |
 *
 * Upstream reads the disk counters through WMI's `Win32_PerfFormattedData_PerfDisk_LogicalDisk`,
 * which formats these very PDH counters. Every rate covers the window between two rounds and is
 * stamped with its start, as on Linux; the first round has none.
 *
 * @module
 */
import { logger } from "../log.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import type { MetricDeclaration } from "./metric_declaration.ts";
import { createWindows } from "./window.ts";
import { sanitizeMetricKey } from "./sanitize.ts";
import { createCpuSharesCollector } from "./cpu_shares.ts";
import { CPU_SHARE_METRICS } from "./darwin.ts";
import type { Platform } from "../platform/platform.ts";
import { driveKiB, listDriveFilesystems } from "../platform/windows/drives.ts";
import { adapterKeys, descriptionOfInstance } from "../platform/windows/interface_names.ts";
import { globalMemoryStatus, KERNEL32, kernel32 } from "../platform/windows/kernel32.ts";
import { openPdhQuery, PDH, pdh, type PdhCounter, type PdhQuery } from "../platform/windows/pdh.ts";

const WINDOWS = ["windows"] as const;

const bytes = (name: string, description: string): MetricDeclaration => ({
  name: `memory.${name}`,
  unit: "bytes",
  description,
});

/**
 * Creates a collector over one PDH query, opened at the first round: `read` gets the counters
 * added by `paths` after each collection and the round's time.
 */
function createPdhCollector(
  name: string,
  platform: Pick<Platform, "open">,
  paths: readonly string[],
  read: (counters: readonly PdhCounter[], timeMs: number) => MetricValue[],
): Collector {
  let query: { readonly pdh: PdhQuery; readonly counters: readonly PdhCounter[] } | undefined;
  return {
    name,
    collect({ timeMs }) {
      if (query === undefined) {
        const opened = openPdhQuery(pdh(platform));
        query = { pdh: opened, counters: paths.map((path) => opened.add(path)) };
      }
      query.pdh.collect();
      return Promise.resolve(read(query.counters, timeMs));
    },
  };
}

/** `processor_queue_length`: the threads waiting for a processor, an instant count. */
export const WINDOWS_PROCESSOR_QUEUE_LENGTH: CollectorDefinition = {
  name: "processor_queue_length",
  os: WINDOWS,
  metrics: [{
    name: "processor_queue_length",
    unit: "integer",
    description:
      "Threads ready to run and waiting for a processor (\\System\\Processor Queue Length).",
  }],
  sources: () => [{ library: PDH }],
  create: ({ platform }) =>
    createPdhCollector(
      "processor_queue_length",
      platform,
      ["\\System\\Processor Queue Length"],
      ([queue]) => {
        const value = queue.value();
        return value === undefined ? [] : [{ name: "processor_queue_length", value }];
      },
    ),
};

/** The cpu counters of `\Processor(_Total)` by metric: shares of all processors' time, 0-100. */
const CPU_COUNTERS = [
  ["cpu.user.percentage", "\\Processor(_Total)\\% User Time"],
  ["cpu.system.percentage", "\\Processor(_Total)\\% Privileged Time"],
  ["cpu.idle.percentage", "\\Processor(_Total)\\% Idle Time"],
] as const;

/**
 * `cpu.user/system/idle.percentage` from PDH over the window since the previous round; without
 * `--allow-ffi`, the same shares from `node:os` `cpus()` (`NtQuerySystemInformation`).
 */
export const WINDOWS_CPU: CollectorDefinition = {
  name: "cpu",
  os: WINDOWS,
  metrics: CPU_SHARE_METRICS,
  sources: () => [{ library: PDH }],
  create: ({ platform }) => {
    const windows = createWindows<true>();
    return createPdhCollector(
      "cpu",
      platform,
      CPU_COUNTERS.map(([, path]) => path),
      (counters, timeMs) => {
        const window = windows.advance(timeMs, true);
        if (window === undefined) return [];
        const values: MetricValue[] = [];
        counters.forEach((counter, i) => {
          const value = counter.value();
          if (value !== undefined) {
            values.push({ name: CPU_COUNTERS[i][0], value, time: window.time });
          }
        });
        return values;
      },
    );
  },
  fallback: {
    sysKind: "cpus",
    os: WINDOWS,
    create: ({ platform }) => createCpuSharesCollector(platform.builtins.cpuTimes),
  },
};

/**
 * `memory.*` from GlobalMemoryStatusEx: free is the available physical memory, used the rest; the
 * page file's total and free are the commit limit and what is left of it. Without `--allow-ffi`,
 * Deno's `systemMemoryInfo()` (the same call) gives total, free and used.
 */
export const WINDOWS_MEMORY: CollectorDefinition = {
  name: "memory",
  os: WINDOWS,
  metrics: [
    bytes("free", "Physical memory available (GlobalMemoryStatusEx's ullAvailPhys)."),
    bytes("total", "Physical memory (ullTotalPhys)."),
    bytes("used", "Physical memory in use: total less free."),
    bytes("pagefile_total", "The commit limit: physical memory and page files (ullTotalPageFile)."),
    bytes("pagefile_free", "What can still be committed (ullAvailPageFile)."),
  ],
  sources: () => [{ library: KERNEL32 }],
  create: ({ platform }) => ({
    name: "memory",
    collect() {
      const status = globalMemoryStatus(kernel32(platform));
      return Promise.resolve([
        { name: "memory.free", value: status.availPhys },
        { name: "memory.total", value: status.totalPhys },
        { name: "memory.used", value: status.totalPhys - status.availPhys },
        { name: "memory.pagefile_total", value: status.totalPageFile },
        { name: "memory.pagefile_free", value: status.availPageFile },
      ]);
    },
  }),
  fallback: {
    sysKind: "systemMemoryInfo",
    os: WINDOWS,
    create: ({ platform }) => ({
      name: "memory",
      collect() {
        // Deno's swap figures are not the page file's, so those two are left out.
        const info = platform.builtins.systemMemoryInfo();
        return Promise.resolve([
          { name: "memory.free", value: info.free },
          { name: "memory.total", value: info.total },
          { name: "memory.used", value: info.total - info.free },
        ]);
      },
    }),
  },
};

/**
 * `filesystem.<letter>.size/used` of each fixed drive, in bytes of whole KiB as upstream; a drive
 * (`C:`) matching `[filesystems] ignore` is skipped.
 */
export const WINDOWS_FILESYSTEM: CollectorDefinition = {
  name: "filesystem",
  os: WINDOWS,
  metrics: [
    {
      name: "filesystem.<drive>.size",
      unit: "bytes",
      description: "Size of a fixed drive (C), in whole KiB.",
    },
    {
      name: "filesystem.<drive>.used",
      unit: "bytes",
      description: "Space used on it: size less what this account may still use, in whole KiB.",
    },
  ],
  sources: () => [{ library: KERNEL32 }],
  create: ({ config, platform }) => ({
    name: "filesystem",
    collect() {
      const log = logger("windows");
      const ignore = config.filesystems.ignore;
      const values: MetricValue[] = [];
      for (const fs of listDriveFilesystems(kernel32(platform), (m) => log.warn(m))) {
        if (ignore && fs.name.search(ignore) !== -1) continue;
        const key = sanitizeMetricKey(fs.name.replace(/:.*$/, ""));
        const { kbSize, kbUsed } = driveKiB(fs);
        values.push(
          { name: `filesystem.${key}.size`, value: kbSize * 1024 },
          { name: `filesystem.${key}.used`, value: kbUsed * 1024 },
        );
      }
      return Promise.resolve(values);
    },
  }),
};

/** The instances of a wildcard pair of counters, by instance: `[first, second]` per second. */
function pairsByInstance(
  [first, second]: readonly PdhCounter[],
): Map<string, { first?: number; second?: number }> {
  const pairs = new Map<string, { first?: number; second?: number }>();
  for (const item of first.items()) pairs.set(item.name, { first: item.value });
  for (const item of second.items()) {
    pairs.set(item.name, { ...pairs.get(item.name), second: item.value });
  }
  return pairs;
}

/**
 * `interface.<adapter>.rxBytes/txBytes.delta`, bytes per second, of every network interface PDH
 * knows (loopback is not one): named by upstream's rule from the adapter's description; an
 * adapter whose description matches `[interfaces] ignore` is skipped. With
 * `[interfaces] use_adapter`, the `Network Adapter` counters instead of `Network Interface`.
 */
export const WINDOWS_INTERFACE: CollectorDefinition = {
  name: "interface",
  os: WINDOWS,
  metrics: [
    {
      name: "interface.<interface>.rxBytes.delta",
      unit: "bytes/sec",
      description: "Bytes received per second by an adapter, named by its description.",
    },
    {
      name: "interface.<interface>.txBytes.delta",
      unit: "bytes/sec",
      description: "Bytes sent per second by an adapter, named by its description.",
    },
  ],
  sources: () => [{ library: PDH }],
  create: ({ config, platform }) => {
    const object = config.interfaces.useAdapter ? "Network Adapter" : "Network Interface";
    const windows = createWindows<true>();
    return createPdhCollector(
      "interface",
      platform,
      [`\\${object}(*)\\Bytes Received/sec`, `\\${object}(*)\\Bytes Sent/sec`],
      (counters, timeMs) => {
        const window = windows.advance(timeMs, true);
        if (window === undefined) return [];
        const pairs = pairsByInstance(counters);
        const descriptions = new Map([...pairs.keys()].map((i) => [i, descriptionOfInstance(i)]));
        const keys = adapterKeys([...descriptions.values()]);
        const ignore = config.interfaces.ignore;
        const values: MetricValue[] = [];
        for (const [instance, { first, second }] of pairs) {
          const description = descriptions.get(instance)!;
          if (ignore && description.search(ignore) !== -1) continue;
          const key = keys.get(description)!;
          const time = window.time;
          if (first !== undefined) {
            values.push({ name: `interface.${key}.rxBytes.delta`, value: first, time });
          }
          if (second !== undefined) {
            values.push({ name: `interface.${key}.txBytes.delta`, value: second, time });
          }
        }
        return values;
      },
    );
  },
};

/**
 * `disk.<letter>.reads/writes.delta`, operations per second, of each drive letter (`C:`; not
 * `_Total` nor volumes without a letter); a drive matching `[disks] ignore` is skipped.
 */
export const WINDOWS_DISK: CollectorDefinition = {
  name: "disk",
  os: WINDOWS,
  metrics: [
    {
      name: "disk.<drive>.reads.delta",
      unit: "iops",
      description: "Reads per second of a drive letter (\\LogicalDisk\\Disk Reads/sec).",
    },
    {
      name: "disk.<drive>.writes.delta",
      unit: "iops",
      description: "Writes per second of a drive letter (\\LogicalDisk\\Disk Writes/sec).",
    },
  ],
  sources: () => [{ library: PDH }],
  create: ({ config, platform }) => {
    const windows = createWindows<true>();
    return createPdhCollector(
      "disk",
      platform,
      ["\\LogicalDisk(*)\\Disk Reads/sec", "\\LogicalDisk(*)\\Disk Writes/sec"],
      (counters, timeMs) => {
        const window = windows.advance(timeMs, true);
        if (window === undefined) return [];
        const ignore = config.disks.ignore;
        const values: MetricValue[] = [];
        for (const [drive, { first, second }] of pairsByInstance(counters)) {
          if (ignore && drive.search(ignore) !== -1) continue;
          if (!/^.:$/.test(drive)) continue;
          const letter = drive[0];
          const time = window.time;
          if (first !== undefined) {
            values.push({ name: `disk.${letter}.reads.delta`, value: first, time });
          }
          if (second !== undefined) {
            values.push({ name: `disk.${letter}.writes.delta`, value: second, time });
          }
        }
        return values;
      },
    );
  },
};

/** The registry's lines for Windows, in upstream's order. */
export const WINDOWS_COLLECTORS: readonly CollectorDefinition[] = [
  WINDOWS_PROCESSOR_QUEUE_LENGTH,
  WINDOWS_CPU,
  WINDOWS_MEMORY,
  WINDOWS_FILESYSTEM,
  WINDOWS_INTERFACE,
  WINDOWS_DISK,
];
