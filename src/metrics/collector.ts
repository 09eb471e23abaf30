/**
 * The contract every metric collector fulfils, and the declaration each collector file exports
 * for the registry (`registry.ts`).
 *
 * @module
 */
import type { CollectorsConfig, Config } from "../config/schema.ts";
import type { Source } from "../host/source.ts";
import type { GraphDef } from "../mackerel/api_types.ts";
import type { OperatingSystem, Platform, SourceRef, SysKind } from "../platform/platform.ts";
import type { RoundFilesystems } from "./filesystem_listing.ts";

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
  /** The commands, libraries and built-ins of the OS the agent runs on (a fixture's in tests). */
  readonly platform: Platform;
}

/**
 * The operating systems of the procfs collectors, which fall back on Deno's built-ins where there
 * is no procfs: every OS but those with a set of their own.
 */
export const PROCFS_OS: readonly OperatingSystem[] = [
  "linux",
  "android",
  "freebsd",
  "netbsd",
  "solaris",
  "illumos",
  "aix",
];

/** A collector file's declaration: one line of the registry's table. */
export interface CollectorDefinition {
  /** Short name used in logs and in the permission probe. */
  readonly name: string;
  /**
   * Absent: always on (upstream's set). Otherwise the switch that turns it on: a `[collectors]`
   * key, or `diagnostic`.
   */
  readonly optIn?: keyof CollectorsConfig | "diagnostic";
  /** Where it runs; {@linkcode PROCFS_OS} when absent. */
  readonly os?: readonly OperatingSystem[];
  /**
   * What the collector reads, probed once at start: absolute paths of files, commands it runs,
   * libraries it calls, built-ins it uses.
   */
  readonly sources: (source: Source) => readonly (string | SourceRef)[];
  /** Graph definitions of its `custom.*` metrics, posted at start like a plugin's. */
  readonly graphDefs?: readonly GraphDef[];
  /** Creates the collector. */
  readonly create: (setup: CollectorSetup) => Collector;
  /** Where Deno has a built-in for it: the `--allow-sys` kind it needs, and the fallback. */
  readonly fallback?: {
    readonly sysKind: SysKind;
    readonly create: (setup: CollectorSetup) => Collector;
  };
}
