/**
 * The agent's configuration: mackerel-agent's TOML schema as typed, validated data (reference §2).
 *
 * `load.ts` turns a file (plus its includes) into a {@linkcode Config}; the CLI then applies flags.
 *
 * @module
 */

/** A plugin command: a string runs through `/bin/sh -c`, an array runs without a shell. */
export type CommandSpec =
  | { readonly kind: "shell"; readonly line: string }
  | { readonly kind: "argv"; readonly argv: readonly string[] };

/** The parts every plugin section shares (§2.3, §2.4). */
export interface CommandConfig {
  readonly command: CommandSpec;
  /** Run as this user through `sudo -Eu <user>`. */
  readonly user?: string;
  /** Extra environment, `KEY=value` strings with keys trimmed (§2.4). */
  readonly env: readonly string[];
  /** Timeout in seconds; `timeout_seconds` 0 or absent → 30. */
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
  /** Minutes, clamped to 1–60; default 1. */
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
  /** Minutes, at least 10; default 10. */
  readonly executionIntervalMinutes: number;
}

/** `cloud_platform`. */
export type CloudPlatform = "auto" | "none" | "ec2" | "gce" | "azurevm";

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
  readonly hostStatus: { readonly onStart: string; readonly onStop: string };
  readonly filesystems: { readonly ignore?: RegExp; readonly useMountpoint: boolean };
  readonly disks: { readonly ignore?: RegExp };
  readonly interfaces: { readonly ignore?: RegExp; readonly useAdapter: boolean };
  readonly metricPlugins: readonly MetricPluginConfig[];
  readonly checkPlugins: readonly CheckPluginConfig[];
  readonly metadataPlugins: readonly MetadataPluginConfig[];
}

/** Upstream's default API endpoint. */
export const DEFAULT_APIBASE = "https://api.mackerelio.com";
/** Upstream's default config path on Linux. */
export const DEFAULT_CONFFILE = "/etc/mackerel-agent/mackerel-agent.conf";
/** Upstream's default state directory on Linux. */
export const DEFAULT_ROOT = "/var/lib/mackerel-agent";
/** Upstream's default pidfile on Linux. */
export const DEFAULT_PIDFILE = "/var/run/mackerel-agent.pid";
/** Plugin timeout when `timeout_seconds` is 0 or absent. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** The configuration used when no file is read (e.g. by `once`). */
export function defaultConfig(): Config {
  return {
    apikey: "",
    apibase: DEFAULT_APIBASE,
    root: DEFAULT_ROOT,
    pidfile: DEFAULT_PIDFILE,
    roles: [],
    displayName: "",
    verbose: false,
    silent: false,
    diagnostic: false,
    disableHttpKeepAlive: false,
    httpProxy: "",
    httpsProxy: "",
    cloudPlatform: "auto",
    hostStatus: { onStart: "", onStop: "" },
    filesystems: { useMountpoint: false },
    disks: {},
    interfaces: { useAdapter: false },
    metricPlugins: [],
    checkPlugins: [],
    metadataPlugins: [],
  };
}
