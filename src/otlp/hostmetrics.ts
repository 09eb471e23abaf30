/**
 * The host's metrics as the OpenTelemetry Collector's hostmetrics receiver names and labels them
 * (its scrapers' `metadata.yaml`, with the attribute names of the semantic conventions): the
 * kernel's raw counters as cumulative sums starting at boot, instant values as gauges or
 * up-down sums, units in UCUM. They come from the same pure parsers (and, with `[otlp]` on, the
 * same reads of the round) as the Mackerel metrics: `parseStat`, `parseProcStat`,
 * `parseMeminfo`, `parseLoadavg`, `parseDiskstats`, `parseNetDev` and the round's filesystem
 * listing.
 *
 * | metric                                          | from                         | attributes                                  |
 * | ----------------------------------------------- | ---------------------------- | ------------------------------------------- |
 * | `system.cpu.time` (s), `system.cpu.utilization` | `stat` (aggregate cpu line)  | `cpu.mode`                                  |
 * | `system.cpu.load_average.{1m,5m,15m}`           | `loadavg`                    |                                             |
 * | `system.memory.usage` (By)                      | `meminfo`                    | `system.memory.state`                       |
 * | `system.paging.usage` (By)                      | `meminfo` (Swap*)            | `system.paging.state`                       |
 * | `system.disk.io` (By), `system.disk.operations` | `diskstats`                  | `system.device`, `disk.io.direction`        |
 * | `system.network.{io,packets,errors,dropped}`    | `net/dev`                    | `network.interface.name`, `network.io.direction` |
 * | `system.filesystem.usage`, `.inodes.usage`      | the filesystem listing       | `system.device`, `system.filesystem.{mountpoint,type,state}` |
 * | `system.processes.count`, `.created`            | `stat` (procs_*, processes)  | `status`                                    |
 *
 * The `[disks]`, `[interfaces]` and `[filesystems] ignore` filters apply as to the Mackerel
 * metrics; devices and interfaces keep their kernel names.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { FilesystemUsage } from "../host/filesystems.ts";
import type { Source } from "../host/source.ts";
import { errorMessage, logger } from "../log.ts";
import { type CpuStat, parseStat } from "../metrics/cpu.ts";
import { type DiskStat, parseDiskstats } from "../metrics/disk.ts";
import type { RoundFilesystems } from "../metrics/filesystem_listing.ts";
import { interfaceKey, type NetDevStat, parseNetDev } from "../metrics/interface.ts";
import { type Loadavg, parseLoadavg } from "../metrics/loadavg.ts";
import { parseMeminfo } from "../metrics/memory.ts";
import { parseProcStat, type ProcStat } from "../metrics/processes.ts";
import { sanitizeMetricKey } from "../metrics/sanitize.ts";
import { type DataPoint, msToNs, type OtlpMetric } from "./encode.ts";

/** What every point of a metric shares: its name, unit, description and kind. */
type Descriptor = Omit<OtlpMetric, "points">;

const counter = (name: string, unit: string, description: string, integer = true): Descriptor => ({
  name,
  unit,
  description,
  type: "sum",
  monotonic: true,
  integer,
});
const upDown = (name: string, unit: string, description: string): Descriptor => ({
  name,
  unit,
  description,
  type: "sum",
  monotonic: false,
  integer: true,
});
const gauge = (name: string, unit: string, description: string): Descriptor => ({
  name,
  unit,
  description,
  type: "gauge",
});

/** The metrics this module sends, declared once. */
export const HOST_METRICS = {
  cpuTime: counter("system.cpu.time", "s", "Seconds the CPUs spent in each mode.", false),
  cpuUtilization: gauge(
    "system.cpu.utilization",
    "1",
    "Share of the CPUs' time in each mode since the previous round (0 to 1).",
  ),
  load1: gauge("system.cpu.load_average.1m", "{thread}", "Average CPU load over 1 minute."),
  load5: gauge("system.cpu.load_average.5m", "{thread}", "Average CPU load over 5 minutes."),
  load15: gauge("system.cpu.load_average.15m", "{thread}", "Average CPU load over 15 minutes."),
  memoryUsage: upDown("system.memory.usage", "By", "Bytes of memory in each state."),
  pagingUsage: upDown("system.paging.usage", "By", "Swap space in each state."),
  diskIo: counter("system.disk.io", "By", "Disk bytes transferred."),
  diskOperations: counter("system.disk.operations", "{operations}", "Disk operations count."),
  networkIo: counter("system.network.io", "By", "Bytes received and transmitted."),
  networkPackets: counter("system.network.packets", "{packets}", "Packets transferred."),
  networkErrors: counter("system.network.errors", "{errors}", "Errors encountered."),
  networkDropped: counter("system.network.dropped", "{packets}", "Packets dropped."),
  filesystemUsage: upDown("system.filesystem.usage", "By", "Filesystem bytes in each state."),
  filesystemInodes: upDown(
    "system.filesystem.inodes.usage",
    "{inodes}",
    "Filesystem inodes in each state.",
  ),
  processesCount: upDown("system.processes.count", "{processes}", "Processes in each state."),
  processesCreated: counter("system.processes.created", "{processes}", "Processes created."),
} as const satisfies Record<string, Descriptor>;

/** The kernel's clock ticks per second in `/proc/stat` (USER_HZ, 100 on every Linux ABI). */
export const USER_HZ = 100;

/** The modes of `system.cpu.time`, as hostmetrics names them, from the `cpu` line's columns. */
const CPU_MODES = [
  ["user", "user"],
  ["nice", "nice"],
  ["system", "system"],
  ["idle", "idle"],
  ["wait", "iowait"],
  ["interrupt", "irq"],
  ["softirq", "softirq"],
  ["steal", "steal"],
] as const;

/** When a round's values were read and when the kernel's counters began. */
export interface Stamp {
  readonly timeNs: bigint;
  /** Boot time; 0 (unknown) when `btime` could not be read. */
  readonly startNs: bigint;
}

const withPoints = (d: Descriptor, points: DataPoint[]): OtlpMetric => ({ ...d, points });

/** `system.cpu.time` by mode, and `system.cpu.utilization` since `previous` when given. */
export function cpuMetrics(stat: CpuStat, previous: CpuStat | undefined, at: Stamp): OtlpMetric[] {
  const point = (mode: string, value: number): DataPoint => ({
    attributes: { "cpu.mode": mode },
    value,
    timeNs: at.timeNs,
    startNs: at.startNs,
  });
  // The kernel counts guest time in user and nice too: take it out, as the Mackerel metrics do.
  const ticks = (column: typeof CPU_MODES[number][1], s: CpuStat) =>
    column === "user" ? s.user - s.guest : column === "nice" ? s.nice - s.guestNice : s[column];
  const out = [
    withPoints(
      HOST_METRICS.cpuTime,
      CPU_MODES.map(([mode, column]) => point(mode, ticks(column, stat) / USER_HZ)),
    ),
  ];
  if (previous) {
    const deltas = CPU_MODES.map(([mode, column]) =>
      [mode, ticks(column, stat) - ticks(column, previous)] as const
    );
    const total = deltas.reduce((n, [, d]) => n + d, 0);
    if (total > 0 && deltas.every(([, d]) => d >= 0)) {
      out.push(withPoints(
        HOST_METRICS.cpuUtilization,
        deltas.map(([mode, d]) => ({ ...point(mode, d / total), startNs: undefined })),
      ));
    }
  }
  return out;
}

/** The three load averages. */
export function loadMetrics(load: Loadavg, at: Stamp): OtlpMetric[] {
  const one = (d: Descriptor, value: number) => withPoints(d, [{ value, timeNs: at.timeNs }]);
  return [
    one(HOST_METRICS.load1, load.loadavg1),
    one(HOST_METRICS.load5, load.loadavg5),
    one(HOST_METRICS.load15, load.loadavg15),
  ];
}

/**
 * `system.memory.usage` by state as hostmetrics computes it on Linux (cached includes the
 * reclaimable slab; used is what the other states leave of the total), and swap as
 * `system.paging.usage` (used, cached in memory, free).
 */
export function memoryMetrics(info: ReadonlyMap<string, number>, at: Stamp): OtlpMetric[] {
  const get = (key: string) => info.get(key) ?? 0;
  const cached = get("Cached") + get("SReclaimable");
  const used = get("MemTotal") - get("MemFree") - get("Buffers") - cached;
  const states = (attribute: string, entries: [string, number][]) =>
    entries.map(([state, value]): DataPoint => ({
      attributes: { [attribute]: state },
      value,
      timeNs: at.timeNs,
      startNs: at.startNs,
    }));
  const out = [withPoints(
    HOST_METRICS.memoryUsage,
    states("system.memory.state", [
      ["used", Math.max(0, used)],
      ["free", get("MemFree")],
      ["buffered", get("Buffers")],
      ["cached", cached],
      ["slab_reclaimable", get("SReclaimable")],
      ["slab_unreclaimable", get("SUnreclaim")],
    ]),
  )];
  if (info.has("SwapTotal")) {
    const swapUsed = get("SwapTotal") - get("SwapFree") - get("SwapCached");
    out.push(withPoints(
      HOST_METRICS.pagingUsage,
      states("system.paging.state", [
        ["used", Math.max(0, swapUsed)],
        ["cached", get("SwapCached")],
        ["free", get("SwapFree")],
      ]),
    ));
  }
  return out;
}

/** Bytes (512-byte sectors) and operations per device and direction. */
export function diskMetrics(stats: readonly DiskStat[], at: Stamp): OtlpMetric[] {
  const both = (device: string, read: number, write: number): DataPoint[] =>
    ([["read", read], ["write", write]] as const).map(([direction, value]) => ({
      attributes: { "system.device": device, "disk.io.direction": direction },
      value,
      timeNs: at.timeNs,
      startNs: at.startNs,
    }));
  return [
    withPoints(
      HOST_METRICS.diskIo,
      stats.flatMap((s) => both(s.device, s.sectorsRead * 512, s.sectorsWritten * 512)),
    ),
    withPoints(
      HOST_METRICS.diskOperations,
      stats.flatMap((s) => both(s.device, s.reads, s.writes)),
    ),
  ];
}

/** Bytes, packets, errors and drops per interface and direction. */
export function networkMetrics(stats: readonly NetDevStat[], at: Stamp): OtlpMetric[] {
  const pair = (d: Descriptor, rx: (s: NetDevStat) => number, tx: (s: NetDevStat) => number) =>
    withPoints(
      d,
      stats.flatMap((s) =>
        ([["receive", rx(s)], ["transmit", tx(s)]] as const).map(([direction, value]) => ({
          attributes: { "network.interface.name": s.name, "network.io.direction": direction },
          value,
          timeNs: at.timeNs,
          startNs: at.startNs,
        }))
      ),
    );
  return [
    pair(HOST_METRICS.networkIo, (s) => s.rxBytes, (s) => s.txBytes),
    pair(HOST_METRICS.networkPackets, (s) => s.rxPackets, (s) => s.txPackets),
    pair(HOST_METRICS.networkErrors, (s) => s.rxErrors, (s) => s.txErrors),
    pair(HOST_METRICS.networkDropped, (s) => s.rxDrops, (s) => s.txDrops),
  ];
}

/** Bytes (used, free to users, reserved for root) and inodes (used, free) per filesystem. */
export function filesystemMetrics(list: readonly FilesystemUsage[], at: Stamp): OtlpMetric[] {
  const points = (fs: FilesystemUsage, states: [string, number][]): DataPoint[] =>
    states.map(([state, value]) => ({
      attributes: {
        "system.device": fs.name,
        "system.filesystem.mountpoint": fs.mount,
        "system.filesystem.type": fs.type,
        "system.filesystem.state": state,
      },
      value,
      timeNs: at.timeNs,
      startNs: at.startNs,
    }));
  return [
    withPoints(
      HOST_METRICS.filesystemUsage,
      list.flatMap((fs) =>
        points(fs, [
          ["used", fs.kbUsed * 1024],
          ["free", fs.kbAvailable * 1024],
          ["reserved", Math.max(0, fs.kbSize - fs.kbUsed - fs.kbAvailable) * 1024],
        ])
      ),
    ),
    withPoints(
      HOST_METRICS.filesystemInodes,
      list.flatMap((fs) =>
        fs.inodes && fs.inodes.total > 0
          ? points(fs, [
            ["used", Math.max(0, fs.inodes.total - fs.inodes.free)],
            ["free", fs.inodes.free],
          ])
          : []
      ),
    ),
  ];
}

/** Processes running and blocked, and created since boot. */
export function processMetrics(stat: ProcStat, at: Stamp): OtlpMetric[] {
  const counts: DataPoint[] = [];
  for (const status of ["running", "blocked"] as const) {
    const value = stat[status];
    if (value !== undefined) {
      counts.push({ attributes: { status }, value, timeNs: at.timeNs, startNs: at.startNs });
    }
  }
  const created: DataPoint[] = stat.forks === undefined
    ? []
    : [{ value: stat.forks, timeNs: at.timeNs, startNs: at.startNs }];
  return [
    withPoints(HOST_METRICS.processesCount, counts),
    withPoints(HOST_METRICS.processesCreated, created),
  ];
}

/** Options of {@linkcode createHostMetrics}. */
export interface HostMetricsOptions {
  /** Where the round's files are read (shared with the Mackerel collectors when both run). */
  readonly source: Source;
  /** The round's filesystem listing (shared likewise). */
  readonly filesystems: RoundFilesystems;
  readonly config: Pick<Config, "disks" | "filesystems" | "interfaces">;
}

/** Reads one round of host metrics. */
export interface HostMetrics {
  /** The metrics of the round scheduled at `timeMs`; a part whose source fails is left out. */
  collect(timeMs: number): Promise<OtlpMetric[]>;
}

const log = logger("otlp");

/** Creates the reader; it keeps the previous cpu sample for `system.cpu.utilization`. */
export function createHostMetrics(options: HostMetricsOptions): HostMetrics {
  const { source, config } = options;
  let previousCpu: CpuStat | undefined;
  const failed = new Set<string>();
  /** A part's metrics, or none with one DEBUG line the first time it fails. */
  const part = async (name: string, read: () => Promise<OtlpMetric[]>) => {
    try {
      const metrics = await read();
      failed.delete(name);
      return metrics;
    } catch (error) {
      if (!failed.has(name)) log.debug(`OTLP ${name} metrics left out: ${errorMessage(error)}`);
      failed.add(name);
      return [];
    }
  };
  return {
    async collect(timeMs) {
      const statText = await source.readProc("stat").catch(() => "");
      const procStat = parseProcStat(statText);
      const at: Stamp = {
        timeNs: msToNs(timeMs),
        startNs: procStat.bootTime === undefined ? 0n : BigInt(procStat.bootTime) * 1_000_000_000n,
      };
      const parts = await Promise.all([
        part("cpu", () => {
          const stat = parseStat(statText);
          if (!stat) throw new Error(`no "cpu" line in ${source.procPath("stat")}`);
          const metrics = cpuMetrics(stat, previousCpu, at);
          previousCpu = stat;
          return Promise.resolve(metrics);
        }),
        part("processes", () => Promise.resolve(processMetrics(procStat, at))),
        part("load", async () => loadMetrics(parseLoadavg(await source.readProc("loadavg")), at)),
        part(
          "memory",
          async () => memoryMetrics(parseMeminfo(await source.readProc("meminfo")), at),
        ),
        part("disk", async () => {
          const stats = parseDiskstats(await source.readProc("diskstats"));
          const ignore = config.disks.ignore;
          return diskMetrics(
            stats.filter((s) => !ignore || sanitizeMetricKey(s.device).search(ignore) === -1),
            at,
          );
        }),
        part("network", async () => {
          const stats = parseNetDev(await source.readProc("net/dev"));
          const ignore = config.interfaces.ignore;
          return networkMetrics(
            stats.filter((s) => interfaceKey(s.name, ignore) !== undefined),
            at,
          );
        }),
        part("filesystem", async () => {
          const ignore = config.filesystems.ignore;
          const list = await options.filesystems(timeMs);
          return filesystemMetrics(
            list.filter((fs) => !ignore || fs.name.search(ignore) === -1),
            at,
          );
        }),
      ]);
      return parts.flat().filter((m) => m.points.length > 0);
    },
  };
}
