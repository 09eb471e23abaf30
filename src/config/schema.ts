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

/**
 * `[collectors]`, this agent's own table: opt-in system metrics beyond upstream's, all off by
 * default. The TOML keys are the snake_case names (`interface_errors`).
 */
export interface CollectorsConfig {
  /** Pressure stall information from `/proc/pressure/{cpu,io,memory}`. */
  readonly pressure: boolean;
  /** Inodes used, free and used % per filesystem. */
  readonly inodes: boolean;
  /** Interface errors and drops, rx and tx. */
  readonly interfaceErrors: boolean;
  /** TCP connections by state, opens and retransmitted segments. */
  readonly tcp: boolean;
  /** File descriptors in use and the system maximum. */
  readonly files: boolean;
  /** Processes running and blocked, forks, context switches and interrupts. */
  readonly processes: boolean;
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
  /** Upstream quirk: `autoshutdown = true` acts like `-private-autoshutdown` (§2.2). */
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
}

/** Upstream's default API endpoint. */
export const DEFAULT_APIBASE = "https://api.mackerelio.com";

/** The default config, state and pidfile paths of an operating system (reference §1.6). */
export interface PlatformPaths {
  readonly conffile: string;
  readonly root: string;
  readonly pidfile: string;
}

/** Upstream's default paths for `os`: /etc and /var on Unix, ~/Library on macOS, beside the exe on Windows. */
export function platformPaths(
  os: typeof Deno.build.os = Deno.build.os,
  home?: string,
  execPath?: string,
): PlatformPaths {
  // HOME and the executable are looked up only where they matter, so Linux needs no permission.
  if (os === "darwin") {
    const dir = `${home ?? Deno.env.get("HOME") ?? ""}/Library/mackerel-agent`;
    return { conffile: `${dir}/mackerel-agent.conf`, root: dir, pidfile: `${dir}/pid` };
  }
  if (os === "windows") {
    const dir = (execPath ?? Deno.execPath()).replace(/[\\/][^\\/]*$/, "");
    return {
      conffile: `${dir}\\mackerel-agent.conf`,
      root: dir,
      pidfile: `${dir}\\mackerel-agent.pid`,
    };
  }
  return {
    conffile: "/etc/mackerel-agent/mackerel-agent.conf",
    root: "/var/lib/mackerel-agent",
    pidfile: "/var/run/mackerel-agent.pid",
  };
}

const paths = platformPaths();
/** The default config path on this operating system (`/etc/mackerel-agent/mackerel-agent.conf` on Linux). */
export const DEFAULT_CONFFILE: string = paths.conffile;
/** The default state directory on this operating system (`/var/lib/mackerel-agent` on Linux). */
export const DEFAULT_ROOT: string = paths.root;
/** The default pidfile on this operating system (`/var/run/mackerel-agent.pid` on Linux). */
export const DEFAULT_PIDFILE: string = paths.pidfile;
/** Metadata plugins run at most this often, in minutes (upstream's floor and default). */
export const MIN_EXECUTION_INTERVAL_MINUTES = 10;

/** A metadata plugin's `execution_interval`: absent or below the floor → 10 minutes. */
export function clampExecutionInterval(minutes: number | undefined): number {
  if (minutes === undefined || !(minutes >= MIN_EXECUTION_INTERVAL_MINUTES)) {
    return MIN_EXECUTION_INTERVAL_MINUTES;
  }
  return minutes;
}

/** Plugin timeout when `timeout_seconds` is 0 or absent. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** `[spool] max_size_mb` default: 64 MiB, ample for six hours of a host with many plugins. */
export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** `[spool] max_age` default: six hours, what upstream's queue of 360 rounds holds. */
export const DEFAULT_SPOOL_MAX_AGE_MINUTES = 360;

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
    autoshutdown: false,
    hostStatus: { onStart: "", onStop: "" },
    filesystems: { useMountpoint: false },
    disks: {},
    interfaces: { useAdapter: false },
    metricPlugins: [],
    checkPlugins: [],
    metadataPlugins: [],
    collectors: {
      pressure: false,
      inodes: false,
      interfaceErrors: false,
      tcp: false,
      files: false,
      processes: false,
    },
    spool: { maxBytes: DEFAULT_SPOOL_MAX_BYTES, maxAgeMinutes: DEFAULT_SPOOL_MAX_AGE_MINUTES },
  };
}
