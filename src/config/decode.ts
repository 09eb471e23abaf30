/**
 * Parsed TOML → the parts of a {@linkcode Config} one file defines (reference §2.2–§2.4).
 *
 * Decoding follows BurntSushi/toml into mackerel-agent's Go structs: keys match a field exactly,
 * else case-insensitively; unknown keys are ignored (and remembered for configtest); a value of
 * the wrong type fails with BurntSushi's message. Plugin tables are then built by
 * {@linkcode buildPlugins} (./plugins.ts).
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { parseDurationMinutes } from "./duration.ts";
import {
  compileGoRegexp,
  ConfigError,
  fileError,
  fmtType,
  isTable,
  keyString,
  textOf,
  ValueError,
} from "./errors.ts";
import { buildPlugins, type PluginSections } from "./plugins.ts";
import type { CloudPlatform, Config } from "./schema.ts";

/** A config file as read and parsed. */
export interface Document {
  readonly file: string;
  readonly text: string;
  readonly table: Record<string, unknown>;
}

/** Reads and parses a TOML file; failures are `ConfigError`s naming the file (and line). */
export async function readDocument(file: string): Promise<Document> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(describeReadError(file, error), { file, cause: error });
  }
  try {
    // Integers as bigint so that `100` (int64) and `100.0` (float64) stay apart, as in Go.
    return { file, text, table: parse(text, { integersAsBigInt: true }) };
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
    throw fileError(file, `toml: line ${error.line}: ${reason}`, {
      line: error.line,
      cause: error,
    });
  }
}

/** Go's wording for a failed read, e.g. `open /etc/x.conf: no such file or directory`. */
function describeReadError(file: string, error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return `open ${file}: no such file or directory`;
  if (error instanceof Deno.errors.PermissionDenied) return `open ${file}: permission denied`;
  if (error instanceof Deno.errors.IsADirectory) return `read ${file}: is a directory`;
  return `read ${file}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The Go type a TOML key decodes into. */
type Kind =
  | { readonly k: "string" | "bool" | "int64" | "int32" | "any" | "strings" }
  | { readonly k: "text"; readonly parse: (value: unknown) => unknown }
  | { readonly k: "struct"; readonly go: string; readonly fields: readonly Field[] }
  | { readonly k: "map"; readonly elem: Kind };
type Field = readonly [name: string, kind: Kind];

const STRING: Kind = { k: "string" };
const BOOL: Kind = { k: "bool" };
const DURATION: Kind = { k: "text", parse: parseDurationMinutes };
const REGEXP: Kind = { k: "text", parse: (v) => compileGoRegexp(textOf(v)) };

const COMMAND_FIELDS: readonly Field[] = [
  ["command", { k: "any" }],
  ["user", STRING],
  ["env", { k: "map", elem: STRING }],
  ["timeout_seconds", { k: "int64" }],
];

const PLUGIN: Kind = {
  k: "struct",
  go: "config.PluginConfig",
  fields: [
    ...COMMAND_FIELDS,
    ["notification_interval", DURATION],
    ["check_interval", DURATION],
    ["execution_interval", DURATION],
    ["max_check_attempts", { k: "int32" }],
    ["custom_identifier", STRING],
    ["prevent_alert_auto_close", BOOL],
    ["include_pattern", STRING],
    ["exclude_pattern", STRING],
    ["action", { k: "struct", go: "config.CommandConfig", fields: COMMAND_FIELDS }],
    ["memo", STRING],
    ["use_plugin_timestamp", BOOL],
  ],
};

/** upstream's `config.Config`, in field order (the order matters for case-insensitive matches). */
const CONFIG: Kind = {
  k: "struct",
  go: "config.Config",
  fields: [
    ["apibase", STRING],
    ["apikey", STRING],
    ["root", STRING],
    ["pidfile", STRING],
    ["conffile", STRING],
    ["roles", { k: "strings" }],
    ["verbose", BOOL],
    ["silent", BOOL],
    ["diagnostic", BOOL],
    ["disable_http_keep_alive", BOOL],
    ["display_name", STRING],
    ["host_status", {
      k: "struct",
      go: "config.HostStatus",
      fields: [["on_start", STRING], ["on_stop", STRING]],
    }],
    ["disks", { k: "struct", go: "config.Disks", fields: [["ignore", REGEXP]] }],
    ["filesystems", {
      k: "struct",
      go: "config.Filesystems",
      fields: [["ignore", REGEXP], ["use_mountpoint", BOOL]],
    }],
    ["interfaces", {
      k: "struct",
      go: "config.Interfaces",
      fields: [["ignore", REGEXP], ["use_adapter", BOOL]],
    }],
    ["http_proxy", STRING],
    ["https_proxy", STRING],
    ["cloud_platform", { k: "text", parse: (v) => parseCloudPlatform(textOf(v)) }],
    ["plugin", { k: "map", elem: { k: "map", elem: PLUGIN } }],
    ["include", STRING],
    // Untagged upstream field: `autoshutdown = true` acts like -private-autoshutdown (§2.2 quirk).
    ["autoshutdown", BOOL],
  ],
};

/** A decoded Go struct: present fields by their TOML name. */
export type Struct = Readonly<Record<string, unknown>>;
/** A decoded Go map: entries in document order. */
export type GoMap = ReadonlyArray<readonly [string, unknown]>;

/** The result of decoding one document: the raw struct and the keys the decoder used. */
export interface Decoded {
  readonly root: Struct;
  /** Dotted keys (Go spelling) that matched a field or map entry. */
  readonly decoded: ReadonlySet<string>;
}

/** Decodes a parsed TOML table as BurntSushi/toml decodes it into upstream's `Config`. */
export function decodeDocument(table: Record<string, unknown>): Decoded {
  const decoded = new Set<string>();
  const root = unify(table, CONFIG, [], decoded) as Struct;
  return { root, decoded };
}

function unify(value: unknown, kind: Kind, path: readonly string[], decoded: Set<string>): unknown {
  const fail = (reason: string) => new ValueError({ key: keyString(path), reason, style: "toml" });
  const badType = (dst: string) =>
    fail(`incompatible types: TOML value has type ${fmtType(value)}; destination has type ${dst}`);
  switch (kind.k) {
    case "any":
      return value;
    case "string":
      if (typeof value !== "string") throw badType("string");
      return value;
    case "bool":
      if (typeof value !== "boolean") throw badType("boolean");
      return value;
    case "int64":
    case "int32": {
      if (typeof value !== "bigint") throw badType("integer");
      if (kind.k === "int32" && (value > 2147483647n || value < -2147483648n)) {
        throw fail(`${value} is out of range for int32`);
      }
      return Number(value);
    }
    case "strings":
      if (!Array.isArray(value)) throw badType("slice");
      return value.map((item) => unify(item, STRING, path, decoded));
    case "text":
      try {
        return kind.parse(value);
      } catch (error) {
        throw fail(error instanceof Error ? error.message : String(error));
      }
    case "map": {
      // BurntSushi quietly decodes a non-table into an empty map.
      if (!isTable(value)) return [];
      return Object.entries(value).map(([key, item]) => {
        decoded.add(keyString([...path, key]));
        return [key, unify(item, kind.elem, [...path, key], decoded)] as const;
      });
    }
    case "struct": {
      if (!isTable(value)) {
        throw fail(`type mismatch for ${kind.go}: expected table but found ${fmtType(value)}`);
      }
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const field = kind.fields.find(([name]) => name === key) ??
          kind.fields.find(([name]) => name.toLowerCase() === key.toLowerCase());
        if (!field) continue;
        decoded.add(keyString([...path, key]));
        const [name, fieldKind] = field;
        const result = unify(item, fieldKind, [...path, key], decoded);
        const prev = out[name];
        // Keys differing only in case decode into the same Go value: maps and structs merge.
        if (prev !== undefined && fieldKind.k === "map") {
          out[name] = [...new Map([...(prev as GoMap), ...(result as GoMap)])];
        } else if (prev !== undefined && fieldKind.k === "struct") {
          out[name] = { ...(prev as Struct), ...(result as Struct) };
        } else out[name] = result;
      }
      return out;
    }
  }
}

/** The parts of a {@linkcode Config} one file defines; absent keys are absent. */
export interface ConfigPatch extends PluginSections {
  readonly top: Partial<
    Pick<
      Config,
      | "apikey"
      | "apibase"
      | "root"
      | "pidfile"
      | "roles"
      | "displayName"
      | "verbose"
      | "silent"
      | "diagnostic"
      | "disableHttpKeepAlive"
      | "httpProxy"
      | "httpsProxy"
      | "cloudPlatform"
      | "autoshutdown"
    >
  >;
  readonly include?: string;
  readonly hostStatus: Partial<Config["hostStatus"]>;
  readonly filesystems: Partial<Config["filesystems"]>;
  readonly disks: Partial<Config["disks"]>;
  readonly interfaces: Partial<Config["interfaces"]>;
}

const TOP_KEYS: ReadonlyArray<readonly [string, keyof ConfigPatch["top"]]> = [
  ["apikey", "apikey"],
  ["apibase", "apibase"],
  ["root", "root"],
  ["pidfile", "pidfile"],
  ["roles", "roles"],
  ["display_name", "displayName"],
  ["verbose", "verbose"],
  ["silent", "silent"],
  ["diagnostic", "diagnostic"],
  ["disable_http_keep_alive", "disableHttpKeepAlive"],
  ["http_proxy", "httpProxy"],
  ["https_proxy", "httpsProxy"],
  ["cloud_platform", "cloudPlatform"],
  ["autoshutdown", "autoshutdown"],
];

/** Turns a decoded document into the patch it applies, building its plugins (§2.3). */
export function buildPatch(root: Struct): ConfigPatch {
  const top: Record<string, unknown> = {};
  for (const [toml, name] of TOP_KEYS) if (toml in root) top[name] = root[toml];
  const sub = (key: string, names: Readonly<Record<string, string>>) => {
    const table = (root[key] ?? {}) as Struct;
    return Object.fromEntries(
      Object.entries(names).filter(([toml]) => toml in table).map(([toml, n]) => [n, table[toml]]),
    );
  };
  return {
    top: top as ConfigPatch["top"],
    ...("include" in root ? { include: root.include as string } : {}),
    hostStatus: sub("host_status", { on_start: "onStart", on_stop: "onStop" }),
    filesystems: sub("filesystems", { ignore: "ignore", use_mountpoint: "useMountpoint" }),
    disks: sub("disks", { ignore: "ignore" }),
    interfaces: sub("interfaces", { ignore: "ignore", use_adapter: "useAdapter" }),
    ...buildPlugins(root.plugin as GoMap | undefined),
  };
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
