/**
 * The collector registry: one table of every system collector, from which the agent builds the set
 * in use, probes what this process may read, and takes the graph definitions to post.
 *
 * Adding a collector is one file exporting a {@linkcode CollectorDefinition} and one line in
 * {@linkcode COLLECTORS}; each line says which operating systems it runs on, so every OS gets its
 * own set (Linux's procfs collectors, `platform/darwin/`, `platform/windows/`). Deno opens /proc
 * and /sys only with `--allow-all`: the sources of every enabled collector (files, commands,
 * FFI libraries, built-ins) are probed once here. A source this system does not have (no
 * /proc/pressure on an old kernel) skips its collector with one DEBUG line; one this process may
 * not use is replaced by its `--allow-sys` fallback when it has one, or disabled, with one WARNING
 * line each that says which permission is missing.
 *
 * @module
 */
import { describeReadError, type Source } from "../host/source.ts";
import { logger } from "../log.ts";
import type { GraphDef } from "../mackerel/api_types.ts";
import { DARWIN_COLLECTORS } from "../platform/darwin/collectors.ts";
import {
  currentPlatform,
  type OperatingSystem,
  type Platform,
  type Probe,
  type SourceRef,
} from "../platform/platform.ts";
import { WINDOWS_COLLECTORS } from "../platform/windows/collectors.ts";
import {
  type Collector,
  type CollectorConfig,
  type CollectorDefinition,
  type CollectorSetup,
  PROCFS_OS,
} from "./collector.ts";
import { CPU_COLLECTOR } from "./cpu.ts";
import { DIAGNOSTIC_COLLECTOR } from "./diagnostic.ts";
import { DISK_COLLECTOR } from "./disk.ts";
import { FILES_COLLECTOR } from "./files.ts";
import { FILESYSTEM_COLLECTOR } from "./filesystem.ts";
import { createRoundFilesystems } from "./filesystem_listing.ts";
import { INODES_COLLECTOR } from "./inodes.ts";
import { INTERFACE_ERRORS_COLLECTOR } from "./interface_errors.ts";
import { INTERFACE_COLLECTOR } from "./interface.ts";
import { LOADAVG_COLLECTOR } from "./loadavg.ts";
import { MEMORY_COLLECTOR } from "./memory.ts";
import { PRESSURE_COLLECTOR } from "./pressure.ts";
import { PROCESSES_COLLECTOR } from "./processes.ts";
import { TCP_COLLECTOR } from "./tcp.ts";

/**
 * Every system collector: the procfs ones (upstream's set first, then the opt-in ones, then
 * diagnostic), then macOS's and Windows's.
 */
export const COLLECTORS: readonly CollectorDefinition[] = [
  LOADAVG_COLLECTOR,
  CPU_COLLECTOR,
  MEMORY_COLLECTOR,
  DISK_COLLECTOR,
  INTERFACE_COLLECTOR,
  FILESYSTEM_COLLECTOR,
  PRESSURE_COLLECTOR,
  INODES_COLLECTOR,
  INTERFACE_ERRORS_COLLECTOR,
  TCP_COLLECTOR,
  FILES_COLLECTOR,
  PROCESSES_COLLECTOR,
  DIAGNOSTIC_COLLECTOR,
  ...DARWIN_COLLECTORS,
  ...WINDOWS_COLLECTORS,
];

/** The operating systems `definition` runs on. */
export function osOf(definition: CollectorDefinition): readonly OperatingSystem[] {
  return definition.os ?? PROCFS_OS;
}

/** The definitions that run on `os`, in table order. */
export function definitionsFor(
  os: OperatingSystem,
  definitions: readonly CollectorDefinition[] = COLLECTORS,
): CollectorDefinition[] {
  return definitions.filter((d) => osOf(d).includes(os));
}

/** Whether `definition` runs under `config`: upstream's set always, the others when switched on. */
export function isEnabled(
  definition: CollectorDefinition,
  config: Pick<CollectorConfig, "collectors" | "diagnostic">,
): boolean {
  const { optIn } = definition;
  if (optIn === undefined) return true;
  return optIn === "diagnostic" ? config.diagnostic : config.collectors[optIn];
}

/** The graph definitions of the collectors `config` enables, to post at start like a plugin's. */
export function graphDefsFor(
  config: Pick<CollectorConfig, "collectors" | "diagnostic">,
  definitions: readonly CollectorDefinition[] = COLLECTORS,
  os: OperatingSystem = currentPlatform.os,
): GraphDef[] {
  return definitionsFor(os, definitions).filter((d) => isEnabled(d, config))
    .flatMap((d) => d.graphDefs ?? []);
}

/** Options of {@linkcode createCollectors}. */
export interface CollectorsOptions {
  readonly source: Source;
  readonly config: CollectorConfig;
  /** The table to build from; {@linkcode COLLECTORS} by default. */
  readonly definitions?: readonly CollectorDefinition[];
  /** The OS's commands, libraries and built-ins; the one the agent runs on by default. */
  readonly platform?: Platform;
}

/** The collectors in use, and a one-line reason for each one disabled or degraded. */
export interface CollectorSet {
  readonly collectors: readonly Collector[];
  /** The WARNING lines logged: permission problems. */
  readonly warnings: readonly string[];
}

/** Builds every enabled collector, probes its sources, and falls back, skips or disables. */
export async function createCollectors(options: CollectorsOptions): Promise<CollectorSet> {
  const { source, config } = options;
  const platform = options.platform ?? currentPlatform;
  const enabled = definitionsFor(platform.os, options.definitions ?? COLLECTORS)
    .filter((d) => isEnabled(d, config));
  const setup: CollectorSetup = {
    source,
    config,
    filesystems: createRoundFilesystems({ source }),
    platform,
  };
  const chosen = await Promise.all(enabled.map((d) => choose(d, setup)));
  const log = logger("metrics");
  const collectors: Collector[] = [];
  const warnings: string[] = [];
  for (const { collector, warning, note } of chosen) {
    if (collector) collectors.push(collector);
    if (warning) {
      warnings.push(warning);
      log.warn(warning);
    }
    if (note) log.debug(note);
  }
  return { collectors, warnings };
}

interface Choice {
  readonly collector?: Collector;
  /** A permission problem, logged at WARNING. */
  readonly warning?: string;
  /** A source this system lacks, logged at DEBUG. */
  readonly note?: string;
}

async function choose(definition: CollectorDefinition, setup: CollectorSetup): Promise<Choice> {
  const { name, fallback } = definition;
  const { platform } = setup;
  const probes = await Promise.all(
    definition.sources(setup.source).map((ref) => probe(ref, platform)),
  );
  const denied = probes.find((p) => p.kind === "denied");
  const absent = probes.find((p) => p.kind === "absent");
  if (!denied && !absent) return { collector: definition.create(setup) };
  const usable = fallback !== undefined &&
    (await platform.probe({ sys: fallback.sysKind })).kind === "ok";
  if (denied) {
    if (usable) {
      return {
        collector: fallback.create(setup),
        warning:
          `collector ${name}: ${denied.reason}; using Deno's built-in instead (fewer metrics)`,
      };
    }
    const extra = fallback ? ` (its fallback needs --allow-sys=${fallback.sysKind})` : "";
    return { warning: `collector ${name} disabled: ${denied.reason}${extra}` };
  }
  // Not a problem to warn about: this kernel (or -procfs tree, or OS) has no such file.
  const { reason } = absent!;
  if (usable) {
    return {
      collector: fallback.create(setup),
      note: `collector ${name}: ${reason}; using Deno's built-in instead`,
    };
  }
  return { note: `collector ${name} skipped: ${reason}` };
}

/** Probes a file by opening it once, and any other source through the platform. */
function probe(ref: string | SourceRef, platform: Platform): Promise<Probe> {
  return typeof ref === "string" ? probeFile(ref) : platform.probe(ref);
}

/** Opens `path` once: readable, absent, or not readable (with the words an operator can act on). */
async function probeFile(path: string): Promise<Probe> {
  try {
    (await Deno.open(path, { read: true })).close();
    return { kind: "ok" };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { kind: "absent", reason: `${path} does not exist on this system` };
    }
    return { kind: "denied", reason: describeReadError(path, error) };
  }
}
