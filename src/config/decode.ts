/**
 * Parsed TOML -> the parts of a {@linkcode Config} one file defines (docs/upstream.md,
 * "Config keys", "Plugin tables", "Plugin command, env and timeout").
 *
 * Decoding follows BurntSushi/toml into mackerel-agent's Go structs, as declared in ./sections.ts:
 * keys match a field exactly, else case-insensitively; unknown keys are ignored (and remembered for
 * configtest); a value of the wrong type fails with BurntSushi's message, one out of range with
 * the field's own. Plugin tables are then built by {@linkcode buildPlugins} (./plugins.ts).
 *
 * @module
 */
import { errorMessage } from "../log.ts";
import { parse, TomlError } from "smol-toml";
import { ConfigError, fileError, fmtType, isTable, keyString, ValueError } from "./errors.ts";
import { buildPlugins, type PluginSections } from "./plugins.ts";
import { CONFIG_FIELDS, type Field, type Kind, structFields } from "./sections.ts";
import { decodeTomlBytes, TextError } from "./text.ts";

/** A config file as read and parsed. */
export interface Document {
  readonly file: string;
  readonly text: string;
  readonly table: Record<string, unknown>;
}

/** Reads and parses a TOML file; failures are `ConfigError`s naming the file (and line). */
export async function readDocument(file: string): Promise<Document> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (error) {
    throw new ConfigError(describeReadError(file, error), { file, cause: error });
  }
  let text: string;
  try {
    text = decodeTomlBytes(bytes);
  } catch (error) {
    if (!(error instanceof TextError)) throw error;
    throw fileError(file, `toml: line ${error.line}: ${error.message}`, {
      line: error.line,
      cause: error,
    });
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
  return `read ${file}: ${errorMessage(error)}`;
}

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

const CONFIG: Kind = { k: "struct", go: "config.Config", fields: CONFIG_FIELDS };

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
      return value.map((item) => unify(item, { k: "string" }, path, decoded));
    case "text":
      try {
        return kind.parse(value);
      } catch (error) {
        throw fail(errorMessage(error));
      }
    case "map":
    case "keyed": {
      if (!isTable(value)) {
        // BurntSushi quietly decodes a non-table into an empty map; our own table says so.
        if (kind.k === "map") return [];
        throw fail(
          `type mismatch for ${keyString(path)}: expected table but found ${fmtType(value)}`,
        );
      }
      return Object.entries(value).map(([key, item]) => {
        decoded.add(keyString([...path, key]));
        return [key, unify(item, kind.elem, [...path, key], decoded)] as const;
      });
    }
    case "struct": {
      if (!isTable(value)) {
        throw fail(`type mismatch for ${kind.go}: expected table but found ${fmtType(value)}`);
      }
      const fields = structFields(kind.fields);
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const field = fields.find(({ toml }) => toml === key) ??
          fields.find(({ toml }) => toml.toLowerCase() === key.toLowerCase());
        if (!field) continue;
        decoded.add(keyString([...path, key]));
        const result = checked(field, unify(item, field.kind, [...path, key], decoded), [
          ...path,
          key,
        ]);
        const prev = out[field.toml];
        // Keys differing only in case decode into the same Go value: maps and structs merge.
        if (prev !== undefined && (field.kind.k === "map" || field.kind.k === "keyed")) {
          out[field.toml] = [...new Map([...(prev as GoMap), ...(result as GoMap)])];
        } else if (prev !== undefined && field.kind.k === "struct") {
          out[field.toml] = { ...(prev as Struct), ...(result as Struct) };
        } else out[field.toml] = result;
      }
      return out;
    }
  }
}

/** Applies a field's own range check, reported like a decoding error of that key. */
function checked(field: Field, value: unknown, path: readonly string[]): unknown {
  if (!field.check) return value;
  try {
    return (field.check as (v: unknown) => unknown)(value);
  } catch (error) {
    throw new ValueError({ key: keyString(path), reason: (error as Error).message, style: "toml" });
  }
}

/** The parts of a {@linkcode Config} one file defines; absent keys are absent. */
export interface ConfigPatch extends PluginSections {
  /** Top-level values, by `Config` property. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Sub-table values, by `Config` property, then by the sub-table's property. */
  readonly tables: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly include?: string;
}

/**
 * Turns a decoded document into the patch it applies, building its plugins (docs/upstream.md,
 * "Plugin tables").
 */
export function buildPatch(root: Struct): ConfigPatch {
  const values: Record<string, unknown> = {};
  const tables: Record<string, Record<string, unknown>> = {};
  for (const field of CONFIG_FIELDS) {
    if (field.prop === undefined || !(field.toml in root)) continue;
    if (field.kind.k === "keyed") {
      const entries = root[field.toml] as GoMap;
      tables[field.prop] = Object.fromEntries(entries.map(([k, v]) => [k.toLowerCase(), v]));
      continue;
    }
    if (field.kind.k !== "struct") {
      values[field.prop] = root[field.toml];
      continue;
    }
    const raw = root[field.toml] as Struct;
    tables[field.prop] = {
      ...(field.presence === undefined ? {} : { [field.presence]: true }),
      ...Object.fromEntries(
        field.kind.fields
          .filter((sub) => sub.prop !== undefined && sub.toml in raw)
          .map((sub) => [sub.prop, raw[sub.toml]]),
      ),
    };
  }
  return {
    values,
    tables,
    ...("include" in root ? { include: root.include as string } : {}),
    ...buildPlugins(root.plugin as GoMap | undefined),
  };
}
