/**
 * The config schema, written once: one table per section, in upstream's Go field order.
 *
 * Each {@linkcode Field} says how its TOML key decodes (the Go type BurntSushi/toml decodes it
 * into), which {@linkcode Config} property it fills, its default, its allowed range and what a
 * SIGHUP reload does when it changes. From these tables come the decoder (./decode.ts),
 * {@linkcode defaultConfig}, the include merge (./load.ts), configtest's "Did you mean" candidates
 * (./unknown_keys.ts) and the reload's handling of each key (./reload_effects.ts). A new key is one
 * line here, plus whatever uses it.
 *
 * @module
 */
import { parseDurationMinutes, parseGoDuration } from "./duration.ts";
import { textOf } from "./errors.ts";
import { compileGoRegexp } from "./go_regexp.ts";
import { checkApikey } from "./header_value.ts";
import { DEFAULT_PIDFILE, DEFAULT_ROOT } from "./paths.ts";
import type { CloudPlatform, Config } from "./schema.ts";

/** The Go type a TOML key decodes into. */
export type Kind =
  | { readonly k: "string" | "bool" | "int64" | "int32" | "any" | "strings" }
  | { readonly k: "text"; readonly parse: (value: unknown) => unknown }
  | { readonly k: "struct"; readonly go: string; readonly fields: readonly Field[] }
  | { readonly k: "map"; readonly elem: Kind }
  /**
   * This agent's own table of keys a higher layer lists (`[collectors]`: the registry's), each
   * value of `elem`. Unlike a Go map, a value that is not a table is an error; an included file
   * merges into it key by key, and keys are folded to lower case as struct fields match.
   */
  | { readonly k: "keyed"; readonly elem: Kind };

/** What a SIGHUP reload does when a key's value changed. */
export type ReloadEffect =
  /** Read only at start: the reload's INFO line names it as taking effect at the next start. */
  | "next start"
  /** The log level is set again. */
  | "log level"
  /** The set of collectors is built again; those that were running keep their previous sample. */
  | "collectors"
  /** Held by every built collector (filters, names): all are built anew, rates start over. */
  | "collector settings"
  /** The metric plugins are replaced. */
  | "metric plugins"
  /** The check, metadata and graph definition loops start again. */
  | "plugin loops"
  /** The hosts of custom identifiers are looked up again, and the plugin loops start again. */
  | "custom identifiers"
  /** Sent with the host spec update that every SIGHUP triggers. */
  | "host spec"
  /** Read from the configuration in force when it is used (`on_stop` at the stop). */
  | "when used"
  /** How the files are read (`include`, `conffile`): nothing of its own to apply. */
  | "loading";

/** One effect of a changed key on a running agent. */
export interface ReloadRule {
  readonly effect: ReloadEffect;
  /** The part of the configuration to compare; the key's property by default. */
  readonly of?: (config: Config) => unknown;
}

/** One key of a section. */
export interface Field {
  /** The TOML key, as upstream's Go field is named (decoding matches it exactly, then case-insensitively). */
  readonly toml: string;
  readonly kind: Kind;
  /** The property it fills; absent for keys upstream decodes but the loader reads itself or ignores. */
  readonly prop?: string;
  /** The property's default; absent means the property is absent by default. */
  readonly default?: unknown;
  /** Validates (and converts) a decoded value; throws an `Error` whose message is the reason. */
  readonly check?: (value: never) => unknown;
  /** Upstream's `conf:"ignore"`: decoded, but never offered as a "Did you mean" candidate. */
  readonly hidden?: true;
  /** An anonymous Go struct: its fields decode at this level; its own name is still a candidate. */
  readonly embedded?: true;
  /**
   * An empty string in the files means the default (docs/upstream.md, "Config resolution",
   * step 5).
   */
  readonly emptyIsDefault?: true;
  /** A table that switches something on by being there: this property of it becomes true. */
  readonly presence?: string;
  /**
   * What a SIGHUP reload does when the key changes. Every top-level key declares it, or each key
   * of its table does (`host_status`); a test fails on a key that does neither.
   */
  readonly reload?: readonly ReloadRule[];
}

const STRING: Kind = { k: "string" };
const BOOL: Kind = { k: "bool" };
const INT64: Kind = { k: "int64" };
const DURATION: Kind = { k: "text", parse: parseDurationMinutes };
const REGEXP: Kind = { k: "text", parse: (v) => compileGoRegexp(textOf(v)) };
const CLOUD_PLATFORM: Kind = { k: "text", parse: (v) => parseCloudPlatform(textOf(v)) };

const struct = (go: string, fields: readonly Field[]): Kind => ({ k: "struct", go, fields });
const choice = <T extends string>(name: string, values: readonly T[]): Kind => ({
  k: "text",
  parse: (v) => {
    const text = textOf(v);
    if (values.includes(text as T)) return text;
    throw new Error(`${name} must be ${values.map((x) => `"${x}"`).join(" or ")}, got "${text}"`);
  },
});
const key = (toml: string, kind: Kind, prop?: string, more: Partial<Field> = {}): Field => ({
  toml,
  kind,
  ...(prop === undefined ? {} : { prop }),
  ...more,
});
const flag = (toml: string, prop: string, more: Partial<Field> = {}): Field =>
  key(toml, BOOL, prop, { default: false, ...more });
/** A sub-table: its fields merge one by one over an included file (docs/upstream.md, "include"). */
const table = (
  toml: string,
  go: string,
  prop: string,
  fields: readonly Field[],
  more: Partial<Field> = {},
): Field => key(toml, struct(go, fields), prop, more);
/** Reload rules comparing the key's own property. */
const on = (...effects: readonly ReloadEffect[]): readonly ReloadRule[] =>
  effects.map((effect) => ({ effect }));
/** The reload rules of a key that only matters at start. */
const NEXT_START = on("next start");

/** Plugin timeouts above this are capped: 86,400 s (a day) keeps every timer far below 2^31 ms. */
export const MAX_TIMEOUT_SECONDS = 86_400;
/** A metadata plugin's `execution_interval` at most: a week; longer is capped (upstream: no bound). */
export const MAX_EXECUTION_INTERVAL_MINUTES = 10_080;
/** `[spool] max_size_mb` bounds: 1 MiB to 64 GiB. */
export const SPOOL_SIZE_MB = { min: 1, max: 65_536 } as const;
/** `[otlp] timeout` bounds in ms: a second to ten minutes. */
export const OTLP_TIMEOUT_MS = { min: 1000, max: 600_000 } as const;
/** `[otlp] timeout` default: 10 s, what Mackerel's own OTLP exporter allows a request. */
export const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
/** `[spool] max_age` bounds in minutes: a minute to a week. */
export const SPOOL_AGE_MINUTES = { min: 1, max: 10_080 } as const;

/** Upstream's default API endpoint. */
export const DEFAULT_APIBASE = "https://api.mackerelio.com";
/** Plugin timeout when `timeout_seconds` is 0 or absent. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
/** `[spool] max_size_mb` default: 64 MiB, ample for six hours of a host with many plugins. */
export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** `[spool] max_age` default: six hours, what upstream's queue of 360 rounds holds. */
export const DEFAULT_SPOOL_MAX_AGE_MINUTES = 360;

/** A check that refuses numbers outside `min`-`max`, naming the key and the bounds. */
function within(name: string, bounds: { min?: number; max: number; unit: string; note: string }) {
  return (n: number): number => {
    const { min, max, unit, note } = bounds;
    if (n > max || (min !== undefined && n < min)) {
      const range = min === undefined ? `at most ${max}` : `${min} to ${max}`;
      throw new Error(`${n} is out of range for ${name}: ${range} ${unit} (${note})`);
    }
    return n;
  };
}

/**
 * upstream's `config.CommandConfig`; a negative timeout times out at once, as upstream's does, and
 * one above {@linkcode MAX_TIMEOUT_SECONDS} is capped by ./plugins.ts.
 */
const COMMAND_FIELDS: readonly Field[] = [
  key("command", { k: "any" }),
  key("user", STRING),
  key("env", { k: "map", elem: STRING }),
  key("timeout_seconds", INT64),
];

/** upstream's `config.PluginConfig`, built into plugin configs by ./plugins.ts. */
const PLUGIN: Kind = struct("config.PluginConfig", [
  key("commandConfig", struct("config.CommandConfig", COMMAND_FIELDS), undefined, {
    embedded: true,
  }),
  key("notification_interval", DURATION),
  key("check_interval", DURATION),
  key("execution_interval", DURATION),
  key("max_check_attempts", { k: "int32" }),
  key("custom_identifier", STRING),
  key("prevent_alert_auto_close", BOOL),
  key("include_pattern", STRING),
  key("exclude_pattern", STRING),
  key("action", struct("config.CommandConfig", COMMAND_FIELDS)),
  key("memo", STRING),
  key("use_plugin_timestamp", BOOL),
]);

/** upstream's `config.Config` in field order, then this agent's own tables. */
export const CONFIG_FIELDS: readonly Field[] = [
  key("apibase", STRING, "apibase", {
    default: DEFAULT_APIBASE,
    emptyIsDefault: true,
    reload: NEXT_START,
  }),
  key("apikey", STRING, "apikey", { default: "", reload: NEXT_START, check: checkApikey }),
  key("root", STRING, "root", { default: DEFAULT_ROOT, emptyIsDefault: true, reload: NEXT_START }),
  key("pidfile", STRING, "pidfile", {
    default: DEFAULT_PIDFILE,
    emptyIsDefault: true,
    reload: NEXT_START,
  }),
  // Decoded, then replaced by -conf (docs/upstream.md, "Config resolution", step 7).
  key("conffile", STRING, undefined, { reload: on("loading") }),
  key("roles", { k: "strings" }, "roles", { default: [], reload: on("host spec") }),
  flag("verbose", "verbose", { reload: on("log level") }),
  flag("silent", "silent", { reload: on("log level") }),
  // The diagnostic collector, and its graph definition posted by the plugin loops.
  flag("diagnostic", "diagnostic", { reload: on("collectors", "plugin loops") }),
  flag("disable_http_keep_alive", "disableHttpKeepAlive", { reload: NEXT_START }),
  key("display_name", STRING, "displayName", { default: "", reload: on("host spec") }),
  table("host_status", "config.HostStatus", "hostStatus", [
    key("on_start", STRING, "onStart", { default: "", reload: NEXT_START }),
    key("on_stop", STRING, "onStop", { default: "", reload: on("when used") }),
  ]),
  table("disks", "config.Disks", "disks", [key("ignore", REGEXP, "ignore")], {
    reload: on("collector settings"),
  }),
  table("filesystems", "config.Filesystems", "filesystems", [
    key("ignore", REGEXP, "ignore"),
    flag("use_mountpoint", "useMountpoint"),
  ], { reload: on("collector settings") }),
  table("interfaces", "config.Interfaces", "interfaces", [
    key("ignore", REGEXP, "ignore"),
    flag("use_adapter", "useAdapter"),
  ], { reload: on("collector settings") }),
  key("http_proxy", STRING, "httpProxy", { default: "", reload: NEXT_START }),
  key("https_proxy", STRING, "httpsProxy", { default: "", reload: NEXT_START }),
  key("cloud_platform", CLOUD_PLATFORM, "cloudPlatform", {
    default: "auto",
    reload: on("host spec"),
  }),
  // Built into metricPlugins, checkPlugins and metadataPlugins by ./plugins.ts.
  key("plugin", { k: "map", elem: { k: "map", elem: PLUGIN } }, undefined, {
    reload: [
      { effect: "metric plugins", of: (c) => c.metricPlugins },
      // Graph definitions come from metric plugins too.
      { effect: "plugin loops", of: (c) => [c.checkPlugins, c.metadataPlugins, c.metricPlugins] },
      { effect: "custom identifiers", of: customIdentifiers },
      // The host spec lists the checks as monitors.
      { effect: "host spec", of: (c) => c.checkPlugins },
    ],
  }),
  // Read by the loader (docs/upstream.md, "include").
  key("include", STRING, undefined, { reload: on("loading") }),
  // Untagged upstream field: `autoshutdown = true` acts like -private-autoshutdown (the quirk in
  // docs/upstream.md, "Config keys").
  key("autoshutdown", BOOL, "autoshutdown", { default: false, hidden: true, reload: NEXT_START }),
  // This agent's own tables; upstream's configtest would warn about them. The keys of
  // [collectors] are the collector registry's (metrics/registry.ts).
  key("collectors", { k: "keyed", elem: BOOL }, "collectors", {
    default: {},
    // What is switched on: `tcp = false` written or left out is the same set.
    reload: [{ effect: "collectors", of: (c) => switchedOn(c.collectors) }],
  }),
  // Present means on: the host's metrics also go out as OpenTelemetry metrics (src/otlp/).
  key(
    "otlp",
    struct("otlp", [
      flag("enabled", "enabled"),
      key("endpoint", STRING, "endpoint", { default: "" }),
      key("protocol", choice("protocol", ["grpc", "http/protobuf"]), "protocol", {
        default: "grpc",
      }),
      key("headers", { k: "map", elem: STRING }, "headers", { default: [] }),
      key("timeout", { k: "text", parse: (v) => parseTimeoutMs(textOf(v)) }, "timeoutMs", {
        default: DEFAULT_OTLP_TIMEOUT_MS,
      }),
      key("compression", choice("compression", ["gzip", "none"]), "compression", {
        default: "gzip",
      }),
    ]),
    "otlp",
    // The exporter and its sender are set up at start.
    { presence: "enabled", reload: NEXT_START },
  ),
  table("spool", "spool", "spool", [
    key("max_size_mb", INT64, "maxBytes", {
      default: DEFAULT_SPOOL_MAX_BYTES,
      check: (mb: number) =>
        within("max_size_mb", { ...SPOOL_SIZE_MB, unit: "MiB", note: "1 MiB to 64 GiB" })(mb) *
        1024 * 1024,
    }),
    key("max_age", DURATION, "maxAgeMinutes", {
      default: DEFAULT_SPOOL_MAX_AGE_MINUTES,
      check: within("max_age", { ...SPOOL_AGE_MINUTES, unit: "minutes", note: "up to a week" }),
    }),
  ], { reload: NEXT_START }),
];

/** The hosts the plugins' custom identifiers stand for, each once, sorted. */
function customIdentifiers(config: Config): string[] {
  const plugins = [...config.metricPlugins, ...config.checkPlugins];
  return [...new Set(plugins.flatMap((p) => p.customIdentifier ?? []))].sort();
}

/** The keys of a table of switches that are on, sorted. */
function switchedOn(switches: Readonly<Record<string, boolean>>): string[] {
  return Object.keys(switches).filter((key) => switches[key]).sort();
}

/** The fields a struct decodes, with those of embedded structs promoted to its level. */
export function structFields(fields: readonly Field[]): readonly Field[] {
  return fields.flatMap((f) =>
    f.embedded && f.kind.k === "struct" ? structFields(f.kind.fields) : [f]
  );
}

/** The struct a kind holds, through maps (`plugin` -> `config.PluginConfig`), if any. */
export function structOf(kind: Kind): readonly Field[] | undefined {
  if (kind.k === "map") return structOf(kind.elem);
  return kind.k === "struct" ? kind.fields : undefined;
}

/** The configuration used when no file is read (e.g. by `once`), from the tables' defaults. */
export function defaultConfig(): Config {
  return {
    ...defaults(CONFIG_FIELDS),
    metricPlugins: [],
    checkPlugins: [],
    metadataPlugins: [],
  } as unknown as Config;
}

function defaults(fields: readonly Field[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.prop === undefined) continue;
    if (field.kind.k === "struct") out[field.prop] = defaults(field.kind.fields);
    else if ("default" in field) out[field.prop] = copy(field.default);
  }
  return out;
}

/** A Go duration (`"10s"`) in whole ms, within {@linkcode OTLP_TIMEOUT_MS}. */
function parseTimeoutMs(text: string): number {
  const ms = Number(parseGoDuration(text) / 1_000_000n);
  if (ms < OTLP_TIMEOUT_MS.min || ms > OTLP_TIMEOUT_MS.max) {
    throw new Error(`timeout ${text} is out of range: 1s to 10m`);
  }
  return ms;
}

/** A fresh copy of a default array or plain object, so no caller shares another's. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (value !== null && typeof value === "object" && !(value instanceof RegExp)) {
    return { ...value };
  }
  return value;
}

function parseCloudPlatform(text: string): CloudPlatform {
  switch (text) {
    case "":
    case "auto":
      return "auto";
    case "none":
    case "ec2":
    case "gce":
    case "azurevm":
      return text;
  }
  throw new Error("failed to parse");
}
