/**
 * Builds the set of system collectors for a configuration and probes what this process may read.
 *
 * Deno opens /proc and /sys only with `--allow-all`. Each collector names its sources; they are
 * probed once here. An unreadable collector is replaced by its `--allow-sys` fallback when one
 * exists, or disabled, with one WARNING line each that says which permission is missing.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { probeReadable, type Source } from "../host/source.ts";
import { logger } from "../log.ts";
import type { Collector } from "./collector.ts";
import { createCpuCollector } from "./cpu.ts";
import { createDiskCollector } from "./disk.ts";
import { createCpuFallback, createLoadavgFallback, createMemoryFallback } from "./fallback.ts";
import { createFilesystemCollector } from "./filesystem.ts";
import { createInterfaceCollector } from "./interface.ts";
import { createLoadavgCollector } from "./loadavg.ts";
import { createMemoryCollector } from "./memory.ts";

/** A primary collector and, where Deno has a built-in for it, the fallback. */
interface Candidate {
  readonly primary: Collector;
  /** The `--allow-sys` kind the fallback needs, and the fallback itself. */
  readonly fallback?: {
    readonly sysKind: Deno.SysPermissionDescriptor["kind"];
    readonly create: () => Collector;
  };
}

/** Options of {@linkcode createCollectors}. */
export interface CollectorsOptions {
  readonly source: Source;
  readonly config: Pick<Config, "disks" | "filesystems" | "interfaces">;
}

/** The collectors in use, and a one-line reason for each one disabled or degraded. */
export interface CollectorSet {
  readonly collectors: readonly Collector[];
  readonly warnings: readonly string[];
}

/** Builds every system collector, probes its sources, and falls back or disables as needed. */
export async function createCollectors(options: CollectorsOptions): Promise<CollectorSet> {
  const { source, config } = options;
  const candidates: Candidate[] = [
    {
      primary: createLoadavgCollector({ source }),
      // Windows has no load average: Deno.loadavg() answers zeros there.
      fallback: Deno.build.os === "windows"
        ? undefined
        : { sysKind: "loadavg", create: createLoadavgFallback },
    },
    {
      primary: createCpuCollector({ source }),
      fallback: { sysKind: "cpus", create: createCpuFallback },
    },
    {
      primary: createMemoryCollector({ source }),
      fallback: { sysKind: "systemMemoryInfo", create: createMemoryFallback },
    },
    {
      primary: createDiskCollector({
        source,
        ignore: config.disks.ignore,
        useMountpoint: config.filesystems.useMountpoint,
      }),
    },
    { primary: createInterfaceCollector({ source, ignore: config.interfaces.ignore }) },
    {
      primary: createFilesystemCollector({
        source,
        ignore: config.filesystems.ignore,
        useMountpoint: config.filesystems.useMountpoint,
      }),
    },
  ];
  const probed = await Promise.all(candidates.map(choose));
  const collectors = probed.flatMap((p) => p.collector ? [p.collector] : []);
  const warnings = probed.flatMap((p) => p.warning ? [p.warning] : []);
  const log = logger("metrics");
  for (const warning of warnings) log.warn(warning);
  return { collectors, warnings };
}

async function choose(candidate: Candidate): Promise<{ collector?: Collector; warning?: string }> {
  const { primary, fallback } = candidate;
  const problems = (await Promise.all(primary.sources.map(probeReadable))).filter(Boolean);
  if (problems.length === 0) return { collector: primary };
  const reason = problems[0];
  if (fallback && sysGranted(fallback.sysKind)) {
    return {
      collector: fallback.create(),
      warning:
        `collector ${primary.name}: ${reason}; using Deno's built-in instead (fewer metrics)`,
    };
  }
  const extra = fallback ? ` (its fallback needs --allow-sys=${fallback.sysKind})` : "";
  return { warning: `collector ${primary.name} disabled: ${reason}${extra}` };
}

function sysGranted(kind: Deno.SysPermissionDescriptor["kind"]): boolean {
  return Deno.permissions.querySync({ name: "sys", kind }).state === "granted";
}
