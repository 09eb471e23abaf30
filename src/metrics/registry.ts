/**
 * The collector registry: one table of every system collector, from which the agent builds the set
 * in use on this system, probes what this process may read, takes the graph definitions to post,
 * and knows the keys of `[collectors]`.
 *
 * Adding a collector is one file exporting a {@linkcode CollectorDefinition} and one line in
 * {@linkcode COLLECTORS}; an opt-in one's `optIn` is its `[collectors]` key, nothing else to edit.
 * Each definition says which systems it runs on (`os`), so the procfs collectors for Linux and the
 * per-OS ones of `platform/darwin/` and `platform/windows/` share the table. Deno opens /proc and
 * /sys only with `--allow-all`: the sources of every enabled collector (files, commands, FFI
 * libraries, built-ins) are probed once here. A source this system does not have (no
 * /proc/pressure on an old kernel) skips its collector with one DEBUG line; one this process may
 * not use is replaced by its `--allow-sys` fallback when it has one, or disabled, with one WARNING
 * line each that says which permission is missing.
 *
 * @module
 */
import { unexpectedTableKeys } from "../config/unknown_keys.ts";
import { describeReadError, type Source } from "../host/source.ts";
import { logger } from "../log.ts";
import type { GraphDef } from "../mackerel/api_types.ts";
import { DARWIN_COLLECTORS } from "./darwin.ts";
import {
  currentPlatform,
  type Platform,
  type Probe,
  type SourceRef,
} from "../platform/platform.ts";
import { WINDOWS_COLLECTORS } from "./windows.ts";
import type {
  Collector,
  CollectorConfig,
  CollectorDefinition,
  CollectorSetup,
  OperatingSystem,
} from "./collector.ts";
import { AGENT_HEALTH_COLLECTOR } from "./agent_health.ts";
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
import { graphDefsOf } from "./metric_declaration.ts";
import { PRESSURE_COLLECTOR } from "./pressure.ts";
import { PROCESSES_COLLECTOR } from "./processes.ts";
import { TCP_COLLECTOR } from "./tcp.ts";

/**
 * Every system collector: Linux's procfs ones (upstream's set first, then the opt-in ones), then
 * macOS's and Windows's (upstream's sets), then diagnostic, which runs everywhere.
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
  ...DARWIN_COLLECTORS,
  ...WINDOWS_COLLECTORS,
  AGENT_HEALTH_COLLECTOR,
  DIAGNOSTIC_COLLECTOR,
];

/** The switch of the diagnostic collector: the top-level `diagnostic` key, not a `[collectors]` one. */
const DIAGNOSTIC = "diagnostic";

/** The keys of `[collectors]`: every opt-in collector's, whatever system it runs on. */
export const COLLECTOR_KEYS: readonly string[] = keysOf(COLLECTORS);

/** Whether `definition` runs under `config`: upstream's set always, the others when switched on. */
export function isEnabled(
  definition: CollectorDefinition,
  config: Pick<CollectorConfig, "collectors" | "diagnostic">,
): boolean {
  const { optIn } = definition;
  if (optIn === undefined) return true;
  return optIn === DIAGNOSTIC ? config.diagnostic : config.collectors[optIn] === true;
}

/** Whether `definition` has anything to run on `os`: its own sources, or its fallback. */
export function runsOn(definition: CollectorDefinition, os: OperatingSystem): boolean {
  return definition.os.includes(os) || (definition.fallback?.os.includes(os) ?? false);
}

/** Which table to pick from, and for which system. */
export interface RegistryOptions {
  /** The table; {@linkcode COLLECTORS} by default. */
  readonly definitions?: readonly CollectorDefinition[];
  /** The system to pick for; `Deno.build.os` by default. */
  readonly os?: OperatingSystem;
}

/** The definitions that run on the system under `config`. */
export function enabledDefinitions(
  config: Pick<CollectorConfig, "collectors" | "diagnostic">,
  options: RegistryOptions = {},
): CollectorDefinition[] {
  const os = options.os ?? Deno.build.os;
  return (options.definitions ?? COLLECTORS).filter((d) => runsOn(d, os) && isEnabled(d, config));
}

/** The graph definitions of the collectors `config` enables, to post at start like a plugin's. */
export function graphDefsFor(
  config: Pick<CollectorConfig, "collectors" | "diagnostic">,
  options: RegistryOptions = {},
): GraphDef[] {
  return enabledDefinitions(config, options).flatMap((d) => graphDefsOf(d.metrics));
}

/**
 * One line for each `[collectors]` key that switches nothing on here: a key no collector has
 * (with the nearest known key, as configtest suggests it), or one whose collector does not run on
 * this system. The agent logs them at WARNING; the keys are otherwise ignored.
 */
export function collectorKeyWarnings(
  collectors: CollectorConfig["collectors"],
  options: RegistryOptions = {},
): string[] {
  const os = options.os ?? Deno.build.os;
  const definitions = options.definitions ?? COLLECTORS;
  const known = keysOf(definitions);
  const lines = unexpectedTableKeys("collectors", Object.keys(collectors), known).map((key) =>
    key.suggestion === ""
      ? `${key.name} is unexpected key and is ignored.`
      : `${key.name} is unexpected key and is ignored. Did you mean ${key.suggestion} ?`
  );
  for (const [key, on] of Object.entries(collectors)) {
    const own = definitions.filter((d) => d.optIn === key);
    if (!on || own.length === 0 || own.some((d) => runsOn(d, os))) continue;
    const systems = [...new Set(own.flatMap((d) => d.os))].join(", ");
    lines.push(`collectors.${key} is ignored: its collector runs on ${systems}, not ${os}.`);
  }
  return lines;
}

function keysOf(definitions: readonly CollectorDefinition[]): string[] {
  return [
    ...new Set(
      definitions.flatMap((d) => d.optIn === undefined || d.optIn === DIAGNOSTIC ? [] : [d.optIn]),
    ),
  ];
}

/** Options of {@linkcode createCollectors}. */
export interface CollectorsOptions extends RegistryOptions {
  readonly source: Source;
  readonly config: CollectorConfig;
  /** The round's filesystem listing, when another reader shares it; one of their own by default. */
  readonly filesystems?: CollectorSetup["filesystems"];
  /** The daemon's figures of its own health, for the `agent` collector. */
  readonly health?: CollectorSetup["health"];
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
  const os = options.os ?? platform.os;
  const setup: CollectorSetup = {
    source,
    config,
    filesystems: options.filesystems ?? createRoundFilesystems({ source }),
    health: options.health,
    platform,
  };
  const chosen = await Promise.all(
    enabledDefinitions(config, { ...options, os }).map((d) =>
      d.os.includes(os) ? choose(d, setup, os) : standIn(d, setup, os)
    ),
  );
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

/** On a system the collector's own sources are not for: Deno's built-in in its place. */
async function standIn(
  definition: CollectorDefinition,
  setup: CollectorSetup,
  os: OperatingSystem,
): Promise<Choice> {
  const { name, fallback } = definition;
  if (fallback && (await setup.platform.probe({ sys: fallback.sysKind })).kind === "ok") {
    return {
      collector: fallback.create(setup),
      note: `collector ${name}: Deno's built-in on ${os}`,
    };
  }
  return { note: `collector ${name} skipped: it needs --allow-sys=${fallback?.sysKind} on ${os}` };
}

async function choose(
  definition: CollectorDefinition,
  setup: CollectorSetup,
  os: OperatingSystem,
): Promise<Choice> {
  const { name, fallback } = definition;
  const { platform } = setup;
  const probes = await Promise.all(
    definition.sources(setup.source).map((ref) => probe(ref, platform)),
  );
  const denied = probes.find((p) => p.kind === "denied");
  const absent = probes.find((p) => p.kind === "absent");
  if (!denied && !absent) return { collector: definition.create(setup) };
  const usable = fallback !== undefined && fallback.os.includes(os) &&
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
