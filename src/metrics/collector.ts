/**
 * The contract every metric collector fulfils, and the declaration each collector file exports
 * for the registry (`registry.ts`).
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { Source } from "../host/source.ts";
import type { AgentHealth } from "./agent_figures.ts";
import type { OperatingSystem, Platform, SourceRef, SysKind } from "../platform/platform.ts";
import type { RoundFilesystems } from "./filesystem_listing.ts";
import type { MetricDeclaration } from "./metric_declaration.ts";

/** One metric value, named as Mackerel names it (`loadavg5`, `cpu.user.percentage` ...). */
export interface MetricValue {
  readonly name: string;
  readonly value: number;
  /**
   * Epoch seconds the value is stamped with; absent means the round's own time. A rate carries
   * the time of the earlier of its two samples' rounds: the start of the window it covers, as
   * upstream stamps it.
   */
  readonly time?: number;
}

/** What one call of {@linkcode Collector.collect} is told about its round. */
export interface CollectContext {
  /** The round's scheduled time in epoch milliseconds (not when the call happens to run). */
  readonly timeMs: number;
  /** Aborted when the round's deadline passes or the agent stops. */
  readonly signal: AbortSignal;
}

/** A source of metric values, created once and called every round. */
export interface Collector {
  /** Short name used in logs (`cpu`, `memory` ...). */
  readonly name: string;
  /**
   * Collects the values of the round scheduled at `context.timeMs`. Rate collectors keep the
   * previous round's sample and return no rates on the first call or after a counter reset; a rate
   * is the counter's change divided by the difference of the two rounds' scheduled times.
   */
  collect(context: CollectContext): Promise<MetricValue[]>;
}

/** The parts of the configuration collectors read. */
export type CollectorConfig = Pick<
  Config,
  "disks" | "filesystems" | "interfaces" | "collectors" | "diagnostic"
>;

/** What {@linkcode CollectorDefinition.create} gets. */
export interface CollectorSetup {
  readonly source: Source;
  readonly config: CollectorConfig;
  /** The round's filesystems, listed once for every collector that asks (disk, filesystem, inodes). */
  readonly filesystems: RoundFilesystems;
  /** The daemon's figures of its own health (the `agent` collector); absent outside the daemon. */
  readonly health?: () => AgentHealth;
  /** The commands, libraries and built-ins of the OS the agent runs on (a fixture's in tests). */
  readonly platform: Platform;
}

/** An operating system, as `Deno.build.os` names it (`linux`, `darwin`, `windows` ...). */
export type { OperatingSystem } from "../platform/platform.ts";

/** The systems the agent is built for: a collector that runs everywhere (diagnostic). */
export const EVERY_OS: readonly OperatingSystem[] = ["linux", "darwin", "windows"];

/** A collector file's declaration: one line of the registry's table. */
export interface CollectorDefinition {
  /** Short name used in logs, the status file and the permission probe; unique per system. */
  readonly name: string;
  /** The systems it reads its sources on; elsewhere only its {@linkcode fallback} may run. */
  readonly os: readonly OperatingSystem[];
  /**
   * Absent: always on (upstream's set). Otherwise the switch that turns it on: its `[collectors]`
   * key (`interface_errors`), or `diagnostic` for the top-level `diagnostic` key and `-diagnostic`.
   */
  readonly optIn?: string;
  /** Every metric it can emit; its graph definitions and the README's tables come from these. */
  readonly metrics: readonly MetricDeclaration[];
  /**
   * What the collector reads, probed once at start: absolute paths of files, commands it runs,
   * libraries it calls, built-ins it uses.
   */
  readonly sources: (source: Source) => readonly (string | SourceRef)[];
  /** Creates the collector. */
  readonly create: (setup: CollectorSetup) => Collector;
  /**
   * Deno's built-in for it, which needs `--allow-sys=<sysKind>`: used where its sources cannot be
   * read, and on the systems of its own `os` that the collector's `os` lacks, in its place. It
   * emits a subset of {@linkcode metrics}.
   */
  readonly fallback?: {
    readonly sysKind: SysKind;
    readonly os: readonly OperatingSystem[];
    readonly create: (setup: CollectorSetup) => Collector;
  };
}
