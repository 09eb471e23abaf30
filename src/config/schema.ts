/**
 * The agent's configuration: mackerel-agent's TOML schema as typed, validated data
 * (docs/upstream.md, "Configuration").
 *
 * The keys, their defaults and ranges are declared once, in `sections.ts`; `load.ts` turns a file
 * (plus its includes) into a {@linkcode Config}; the CLI then applies the environment and flags.
 *
 * @module
 */

/** A plugin command: a string runs through `/bin/sh -c`, an array runs without a shell. */
export type CommandSpec =
  | { readonly kind: "shell"; readonly line: string }
  | { readonly kind: "argv"; readonly argv: readonly string[] };

/** The parts every plugin section shares (docs/upstream.md, "Plugin tables"). */
export interface CommandConfig {
  readonly command: CommandSpec;
  /** Run as this user through `sudo -Eu <user>`. */
  readonly user?: string;
  /**
   * Extra environment, `KEY=value` strings with keys trimmed (docs/upstream.md,
   * "Plugin command, env and timeout").
   */
  readonly env: readonly string[];
  /** Timeout in seconds; `timeout_seconds` 0 or absent -> 30, at most 86,400, negative -> at once. */
  readonly timeoutSeconds: number;
}

/** `[plugin.metrics.NAME]`. */
export interface MetricPluginConfig extends CommandConfig {
  readonly name: string;
  readonly customIdentifier?: string;
  readonly includePattern?: RegExp;
  readonly excludePattern?: RegExp;
  readonly usePluginTimestamp: boolean;
}

/** The `action` of a check plugin. */
export type CheckActionConfig = CommandConfig;

/** `[plugin.checks.NAME]`. */
export interface CheckPluginConfig extends CommandConfig {
  readonly name: string;
  readonly customIdentifier?: string;
  /** Minutes, clamped to 1-60; default 1. */
  readonly checkIntervalMinutes: number;
  /** Minutes, as written (the reporter applies the API's rules). */
  readonly notificationIntervalMinutes?: number;
  readonly maxCheckAttempts?: number;
  readonly preventAlertAutoClose: boolean;
  /** At most 250 code points. */
  readonly memo?: string;
  readonly action?: CheckActionConfig;
}

/** `[plugin.metadata.NAME]`. */
export interface MetadataPluginConfig extends CommandConfig {
  readonly name: string;
  /** Minutes, 10 to 10,080 (below 10 -> 10); default 10. */
  readonly executionIntervalMinutes: number;
}

/** `cloud_platform`. */
export type CloudPlatform = "auto" | "none" | "ec2" | "gce" | "azurevm";

/**
 * `[collectors]`, this agent's own table: opt-in system metrics beyond upstream's, all off by
 * default. Keyed by the TOML key as written, in lower case (`interface_errors`); a key absent is
 * off. Which keys exist is the collector registry's to say (`metrics/registry.ts`, a layer above
 * this one): configtest and the daemon check the keys against it.
 */
export type CollectorsConfig = Readonly<Record<string, boolean>>;

/**
 * `[otlp]`, this agent's own table: the host's metrics also sent as OpenTelemetry metrics, to
 * Mackerel's OTLP endpoint or to any collector. Present means on.
 */
export interface OtlpConfig {
  /** True when the table is present, unless it says `enabled = false`. */
  readonly enabled: boolean;
  /** Empty: Mackerel's endpoint (gRPC, with the API key). */
  readonly endpoint: string;
  readonly protocol: "grpc" | "http/protobuf";
  /** Extra request headers (gRPC metadata), in document order. */
  readonly headers: readonly (readonly [string, string])[];
  /** Deadline of one export, in ms (`timeout`, a Go duration; default 10 s). */
  readonly timeoutMs: number;
  readonly compression: "gzip" | "none";
}

/**
 * `[spool]`, this agent's own table: the on-disk outbox under `root` that keeps collected data
 * through outages, crashes and restarts. The oldest data goes first when either bound is reached.
 */
export interface SpoolConfig {
  /** `max_size_mb`: bytes the spool may hold on disk (default 64 MiB). */
  readonly maxBytes: number;
  /** `max_age`: minutes a record is kept at most (default 6 h, upstream's 360 rounds). */
  readonly maxAgeMinutes: number;
}

/** The whole configuration after defaults, includes and flags. */
export interface Config {
  /** The config file this was read from (`-conf`), or `undefined` when none was read. */
  readonly conffile?: string;
  readonly apikey: string;
  readonly apibase: string;
  readonly root: string;
  /** `""` disables the pidfile. */
  readonly pidfile: string;
  readonly roles: readonly string[];
  readonly displayName: string;
  readonly verbose: boolean;
  readonly silent: boolean;
  readonly diagnostic: boolean;
  readonly disableHttpKeepAlive: boolean;
  readonly httpProxy: string;
  readonly httpsProxy: string;
  readonly cloudPlatform: CloudPlatform;
  /**
   * Upstream quirk: `autoshutdown = true` acts like `-private-autoshutdown` (docs/upstream.md,
   * "Config keys").
   */
  readonly autoshutdown: boolean;
  readonly hostStatus: { readonly onStart: string; readonly onStop: string };
  readonly filesystems: { readonly ignore?: RegExp; readonly useMountpoint: boolean };
  readonly disks: { readonly ignore?: RegExp };
  readonly interfaces: { readonly ignore?: RegExp; readonly useAdapter: boolean };
  readonly metricPlugins: readonly MetricPluginConfig[];
  readonly checkPlugins: readonly CheckPluginConfig[];
  readonly metadataPlugins: readonly MetadataPluginConfig[];
  readonly collectors: CollectorsConfig;
  readonly spool: SpoolConfig;
  readonly otlp: OtlpConfig;
}

export {
  DEFAULT_CONFFILE,
  DEFAULT_PIDFILE,
  DEFAULT_ROOT,
  type PlatformPaths,
  platformPaths,
} from "./paths.ts";
export {
  DEFAULT_APIBASE,
  DEFAULT_SPOOL_MAX_AGE_MINUTES,
  DEFAULT_SPOOL_MAX_BYTES,
  DEFAULT_TIMEOUT_SECONDS,
  defaultConfig,
  MAX_EXECUTION_INTERVAL_MINUTES,
  MAX_TIMEOUT_SECONDS,
} from "./sections.ts";

/** Metadata plugins run at most this often, in minutes (upstream's floor and default). */
export const MIN_EXECUTION_INTERVAL_MINUTES = 10;

/** A metadata plugin's `execution_interval`: absent or below the floor -> 10 minutes. */
export function clampExecutionInterval(minutes: number | undefined): number {
  if (minutes === undefined || !(minutes >= MIN_EXECUTION_INTERVAL_MINUTES)) {
    return MIN_EXECUTION_INTERVAL_MINUTES;
  }
  return minutes;
}
