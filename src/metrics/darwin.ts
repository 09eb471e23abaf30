/**
 * The macOS collectors: upstream's set for darwin (`command/command_darwin.go`), with its names,
 * units and formulas, each from the cheapest source that gives upstream's numbers:
 *
 * | metrics          | source                                                  | upstream's        |
 * | ---------------- | ------------------------------------------------------- | ----------------- |
 * | `loadavg*`       | `Deno.loadavg()` (getloadavg)                           | getloadavg        |
 * | `cpu.*`          | `node:os` `cpus()` (host_processor_info), iostat's sums | `iostat -n0 -c2`  |
 * | `memory.*`       | FFI host_statistics64, sysctlbyname vm.swapusage        | `vm_stat`, sysctl |
 * | `filesystem.*`   | `df -Pkl`                                               | `df -Pkl`         |
 * | `interface.*`    | `netstat -bni`                                          | `netstat -bni`    |
 *
 * Rates (cpu, interface) cover the window between two rounds, as on Linux (`metrics/window.ts`).
 *
 * @module
 */
import type { CollectorDefinition, MetricValue } from "./collector.ts";
import type { MetricDeclaration } from "./metric_declaration.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { createFilesystemCollector } from "./filesystem.ts";
import { interfaceKey } from "./interface.ts";
import { logger } from "../log.ts";
import { createCpuSharesCollector } from "./cpu_shares.ts";
import type { Platform } from "../platform/platform.ts";
import { DF, NETSTAT } from "../platform/darwin/commands.ts";
import { listDarwinFilesystems } from "../host/darwin_df.ts";
import type { FilesystemUsage } from "../host/filesystems.ts";
import type { RoundFilesystems } from "./filesystem_listing.ts";
import {
  hostVmStatistics,
  kernelPageSize,
  LIBSYSTEM,
  libSystem,
  swapUsage,
} from "../platform/darwin/libsystem.ts";
import { parseNetstat } from "../platform/darwin/netstat.ts";
import { darwinMemoryValues } from "../platform/darwin/vm_statistics.ts";

const DARWIN = ["darwin"] as const;

/** The three shares of `cpu_shares.ts`, as macOS and Windows report them. */
export const CPU_SHARE_METRICS: readonly MetricDeclaration[] = [
  ["user", "in user mode"],
  ["system", "in the kernel"],
  ["idle", "idle"],
].map(([state, what]) => ({
  name: `cpu.${state}.percentage`,
  unit: "percentage",
  description: `CPU time ${what}, in percent of all CPUs together (100 in all).`,
}));

const bytes = (name: string, description: string): MetricDeclaration => ({
  name: `memory.${name}`,
  unit: "bytes",
  description,
});

/** `loadavg1/5/15` from getloadavg(3), the call upstream makes. */
export const DARWIN_LOADAVG: CollectorDefinition = {
  name: "loadavg",
  os: DARWIN,
  metrics: ([1, 5, 15] as const).map((minutes) => ({
    name: `loadavg${minutes}`,
    unit: "float",
    description: `Load average over the last ${minutes === 1 ? "minute" : `${minutes} minutes`}.`,
  })),
  sources: () => [{ sys: "loadavg" }],
  create: ({ platform }) => ({
    name: "loadavg",
    collect() {
      const [loadavg1, loadavg5, loadavg15] = platform.builtins.loadavg();
      return Promise.resolve([
        { name: "loadavg1", value: loadavg1 },
        { name: "loadavg5", value: loadavg5 },
        { name: "loadavg15", value: loadavg15 },
      ]);
    },
  }),
};

/**
 * `cpu.user/system/idle.percentage` with `iostat`'s arithmetic (`cpu_shares.ts`) over each window
 * between rounds; upstream's `iostat -n0 -c2` samples one second per minute and rounds to integers.
 */
export const DARWIN_CPU: CollectorDefinition = {
  name: "cpu",
  os: DARWIN,
  metrics: CPU_SHARE_METRICS,
  sources: () => [{ sys: "cpus" }],
  create: ({ platform }) => createCpuSharesCollector(platform.builtins.cpuTimes),
};

/** Creates the memory collector over libSystem; the host port is asked for once. */
export function createDarwinMemoryCollector(platform: Pick<Platform, "open">) {
  let host: number | undefined;
  return {
    name: "memory",
    collect(): Promise<MetricValue[]> {
      const lib = libSystem(platform);
      host ??= lib.mach_host_self();
      const values = darwinMemoryValues(
        hostVmStatistics(lib, host),
        kernelPageSize(lib),
        swapUsage(lib),
      );
      return Promise.resolve(values);
    },
  };
}

/**
 * `memory.*` as go-osstat computes them from `vm_stat` and `vm.swapusage`; without `--allow-ffi`,
 * Deno's `systemMemoryInfo()` gives the three of them it computes the same way.
 */
export const DARWIN_MEMORY: CollectorDefinition = {
  name: "memory",
  os: DARWIN,
  metrics: [
    bytes(
      "total",
      "Memory the VM accounts for: used, cached and free (a little below hw.memsize).",
    ),
    bytes("used", "Wired, compressed, active, inactive and speculative pages, less the cached."),
    bytes("cached", "Purgeable and file-backed pages."),
    bytes("free", "Free pages, the speculative ones left out (vm_stat's Pages free)."),
    bytes("swap_total", "Swap space (sysctl vm.swapusage)."),
    bytes("swap_free", "Swap space available (sysctl vm.swapusage)."),
  ],
  sources: () => [{ library: LIBSYSTEM }],
  create: ({ platform }) => createDarwinMemoryCollector(platform),
  fallback: {
    sysKind: "systemMemoryInfo",
    os: DARWIN,
    create: ({ platform }) => ({
      name: "memory",
      collect() {
        // free is (free_count - speculative) pages, as vm_stat's "Pages free"; total is hw.memsize,
        // not upstream's sum of pages, so it and used and cached are left out.
        const info = platform.builtins.systemMemoryInfo();
        return Promise.resolve([
          { name: "memory.free", value: info.free },
          { name: "memory.swap_total", value: info.swapTotal },
          { name: "memory.swap_free", value: info.swapFree },
        ]);
      },
    }),
  },
};

/** `filesystem.<device>.size/used` from `df -Pkl`, with `[filesystems]` as on Linux. */
export const DARWIN_FILESYSTEM: CollectorDefinition = {
  name: "filesystem",
  os: DARWIN,
  metrics: [
    {
      name: "filesystem.<device>.size",
      unit: "bytes",
      description: "Size of a /dev/ filesystem df -l lists: used plus available (not /Volumes/).",
    },
    {
      name: "filesystem.<device>.used",
      unit: "bytes",
      description: "Space used on it (the root also counts the VM volume of macOS 10.13-10.14).",
    },
  ],
  sources: () => [{ command: DF }],
  create: ({ source, config, platform }) =>
    createFilesystemCollector({
      source,
      ignore: config.filesystems.ignore,
      useMountpoint: config.filesystems.useMountpoint,
      list: createRoundDf(platform, (message) => logger("util.filesystem").warn(message)),
    }),
};

/**
 * `interface.<name>.rxBytes/txBytes.delta` from `netstat -bni`'s link counters: loopback links
 * are not listed, `veth*` and `[interfaces] ignore` skipped, per second over the round's window.
 */
export const DARWIN_INTERFACE: CollectorDefinition = {
  name: "interface",
  os: DARWIN,
  metrics: [
    {
      name: "interface.<interface>.rxBytes.delta",
      unit: "bytes/sec",
      description: "Bytes received per second (netstat -bni; lo*, veth* and ignore left out).",
    },
    {
      name: "interface.<interface>.txBytes.delta",
      unit: "bytes/sec",
      description: "Bytes sent per second (netstat -bni; lo*, veth* and ignore left out).",
    },
  ],
  sources: () => [{ command: NETSTAT }],
  create: ({ config, platform }) =>
    createCounterRateCollector({
      name: "interface",
      metricName: (name, field) => `interface.${name}.${field}.delta`,
      read: async (signal) => {
        const counters = new Map<string, Record<string, number>>();
        for (const link of parseNetstat(await platform.run(NETSTAT, ["-bni"], { signal }))) {
          const key = interfaceKey(link.name, config.interfaces.ignore);
          if (key !== undefined) {
            counters.set(key, { rxBytes: link.rxBytes, txBytes: link.txBytes });
          }
        }
        return { counters };
      },
    }),
};

/** The registry's lines for macOS. */
export const DARWIN_COLLECTORS: readonly CollectorDefinition[] = [
  DARWIN_LOADAVG,
  DARWIN_CPU,
  DARWIN_MEMORY,
  DARWIN_FILESYSTEM,
  DARWIN_INTERFACE,
];

/** One `df` run per round, shared by whoever asks for the round scheduled at `timeMs`. */
export function createRoundDf(
  platform: Pick<Platform, "run">,
  warn?: (message: string) => void,
): RoundFilesystems {
  let latest: { readonly timeMs: number; readonly listing: Promise<FilesystemUsage[]> } | undefined;
  return (timeMs) => {
    if (latest?.timeMs !== timeMs) {
      latest = { timeMs, listing: listDarwinFilesystems(platform, undefined, warn) };
    }
    return latest.listing;
  };
}
