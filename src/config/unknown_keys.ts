/**
 * configtest's unknown-key check (docs/upstream.md, "Unknown keys (configtest)"; upstream
 * `config/validate.go`), and the location of a decoding error in its file.
 *
 * @module
 */
import { decodeDocument, type Document, type GoMap, readDocument } from "./decode.ts";
import { type ConfigError, fileError, isTable, keyString, ValueError } from "./errors.ts";
import { scanKeys } from "./scan_keys.ts";
import { CONFIG_FIELDS, type Field, structFields, structOf } from "./sections.ts";

export { type KeyLine, scanKeys } from "./scan_keys.ts";

/**
 * upstream's `makeCandidates`: every key of the tables in field order, a struct's fields right after
 * it (so `ignore` thrice, and the command keys twice) and an embedded struct's own name
 * (`commandConfig`) before its fields; `autoshutdown` left out (`conf:"ignore"`). This agent's
 * tables come last, so upstream's own suggestions are unchanged; the keys inside `[collectors]`
 * are not among them (they are suggested only for a key of that table: {@linkcode TableKeys}).
 */
function candidatesOf(fields: readonly Field[]): string[] {
  return fields.flatMap((field) => {
    if (field.hidden) return [];
    const struct = structOf(field.kind);
    return [field.toml, ...(struct ? candidatesOf(struct) : [])];
  });
}

/** The key names upstream's validator compares against, in its order (duplicates included). */
export const SUGGESTION_CANDIDATES: readonly string[] = candidatesOf(CONFIG_FIELDS);

const PLUGIN_KINDS = ["metrics", "checks", "metadata"] as const;

/** Levenshtein distance over code points, unit costs. */
export function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[y.length];
}

/**
 * The keys of the table a key sits in, given the key's parts before its last: a plugin table's keys
 * for `plugin.metrics.x.type`, the action's for `plugin.checks.x.action.use`. Undefined for a
 * top-level key, or when the parts name no table the schema knows.
 */
function keysOfTable(parents: readonly string[]): string[] | undefined {
  if (parents.length === 0) return undefined;
  let fields: readonly Field[] = CONFIG_FIELDS;
  for (let i = 0; i < parents.length; i++) {
    const here = structFields(fields);
    const name = parents[i];
    const field = here.find((f) => f.toml === name) ??
      here.find((f) => f.toml.toLowerCase() === name.toLowerCase());
    if (!field) return undefined;
    let kind = field.kind;
    // A map's keys are names (`plugin.<kind>.<name>`): each level takes one part.
    while (kind.k === "map") {
      i++;
      kind = kind.elem;
    }
    if (kind.k !== "struct" || i >= parents.length) return undefined;
    fields = kind.fields;
  }
  return structFields(fields).filter((f) => !f.hidden).map((f) => f.toml);
}

function suggest(given: string, candidates: readonly string[]): string {
  return candidates.find((c) => levenshtein(given, c) < 3) ?? "";
}

/**
 * The keys of this agent's own tables whose keys a higher layer lists (`"collectors"` -> the
 * registry's keys), by table. A table left out is not checked.
 */
export type TableKeys = Readonly<Record<string, readonly string[]>>;

/** Options of {@linkcode unexpectedKeys} and {@linkcode findUnexpectedKeys}. */
export interface UnexpectedKeysOptions {
  /** The known keys of `[collectors]` and any such table. */
  readonly tableKeys: TableKeys;
}

/** An unexpected key and upstream's suggestion for it (`""` when none). */
export interface UnexpectedKey {
  readonly name: string;
  readonly suggestion: string;
  /** A whole table the agent ignores: an unknown top-level table or plugin kind. */
  readonly ignoredTable: boolean;
  /** The line the key (or its table) starts on. */
  readonly line?: number;
}

/**
 * The keys of table `table` (`collectors`) that `known` lacks, compared case-insensitively as
 * struct fields are, each named `<table>.<key>` with the nearest known key as its suggestion.
 */
export function unexpectedTableKeys(
  table: string,
  given: readonly string[],
  known: readonly string[],
): UnexpectedKey[] {
  const lower = new Set(known.map((k) => k.toLowerCase()));
  return given.filter((key) => !lower.has(key.toLowerCase())).map((key) => {
    const suggestion = suggest(key.toLowerCase(), known);
    return {
      name: `${table}.${key}`,
      suggestion: suggestion === "" ? "" : `${table}.${suggestion}`,
      ignoredTable: false,
    };
  });
}

/** upstream's `ValidateConfigFile` on an already read document: the unexpected keys, sorted. */
export function unexpectedKeys(
  text: string,
  table: Record<string, unknown>,
  options: UnexpectedKeysOptions,
): UnexpectedKey[] {
  const { root, decoded } = decodeDocument(table);
  const lines = new Map<string, number>();
  for (const k of scanKeys(text)) {
    const key = keyString(k.path);
    if (!lines.has(key)) lines.set(key, k.line);
  }
  const lineOf = (key: string) =>
    lines.get(key) ?? [...lines].find(([k]) => k.startsWith(`${key}.`))?.[1];
  const undecoded = [...lines.keys()].filter((k) => !decoded.has(k)).sort(compare);
  const found: UnexpectedKey[] = [];
  const detected: string[] = [];
  for (const key of undecoded) {
    const parts = key.split(".");
    const top = parts[0];
    const parent = parts.slice(0, -1).join(".");
    if (detected.includes(parent) || detected.includes(top)) continue;
    let name = top;
    let suggestion = suggest(top, SUGGESTION_CANDIDATES);
    if (SUGGESTION_CANDIDATES.includes(top)) {
      name = key;
      // Upstream compares with its one flat list, so a key in one table can be offered a key of
      // another (`ignore` in a check plugin's table is offered `ignore`, `max_ag` there [spool]'s
      // `max_age`); here a key in a table is compared with that table's keys only.
      const candidates = keysOfTable(parts.slice(0, -1)) ?? SUGGESTION_CANDIDATES;
      const s = suggest(parts[parts.length - 1], candidates);
      suggestion = s === "" ? "" : `${parent}.${s}`;
    }
    const ignoredTable = name === top && isTable(table[top]);
    found.push({ name, suggestion, ignoredTable, line: lineOf(name) });
    detected.push(name);
  }
  for (const [name, known] of Object.entries(options.tableKeys)) {
    const entries = (root[name] ?? []) as GoMap;
    found.push(...unexpectedTableKeys(name, entries.map(([k]) => k), known));
  }
  for (const [kind, plugins] of (root.plugin ?? []) as GoMap) {
    if ((PLUGIN_KINDS as readonly string[]).includes(kind)) continue;
    const s = suggest(kind, PLUGIN_KINDS) || "metrics";
    for (const [name] of plugins as GoMap) {
      const key = keyString(["plugin", kind, name]);
      found.push({
        name: `plugin.${kind}.${name}`,
        suggestion: `plugin.${s}.${name}`,
        ignoredTable: true,
        line: lineOf(key),
      });
    }
  }
  return found.sort((a, b) => compare(a.name, b.name));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * configtest's line for an unexpected key, in upstream's words: `[WARNING] <key> is unexpected
 * key.` or `... is unexpected key. Did you mean <suggestion> ?`. With `file`, a table the agent
 * ignores as a whole (an unknown table or plugin kind) also gets ` (<file>:<line>)`.
 */
export function warningLine(key: UnexpectedKey, file?: string): string {
  const line = key.suggestion === ""
    ? `[WARNING] ${key.name} is unexpected key.`
    : `[WARNING] ${key.name} is unexpected key. Did you mean ${key.suggestion} ?`;
  if (file === undefined || !key.ignoredTable) return line;
  return `${line} (${file}${key.line === undefined ? "" : `:${key.line}`})`;
}

/**
 * Reads a config file and returns its unexpected keys, sorted (upstream checks only the file
 * itself, not its includes). Throws `ConfigError` if it cannot be read or decoded.
 */
export async function findUnexpectedKeys(
  path: string,
  options: UnexpectedKeysOptions,
): Promise<UnexpectedKey[]> {
  const doc = await readDocument(path);
  try {
    return unexpectedKeys(doc.text, doc.table, options);
  } catch (error) {
    throw error instanceof ValueError ? locate(doc, error) : error;
  }
}

/** Reads a config file and returns configtest's warning lines in upstream's exact words, sorted. */
export async function findUnknownKeys(
  path: string,
  options: UnexpectedKeysOptions = { tableKeys: {} },
): Promise<string[]> {
  return (await findUnexpectedKeys(path, options)).map((key) => warningLine(key));
}

/**
 * Turns a decoding problem into a `ConfigError` that names the file, the key and its line.
 * The message carries the line only when the key itself is written in the file, as upstream's.
 */
export function locate(doc: Document, error: ValueError): ConfigError {
  const lines = new Map<string, number>();
  for (const k of scanKeys(doc.text)) {
    const key = keyString(k.path);
    if (!lines.has(key)) lines.set(key, k.line);
  }
  const exact = lines.get(error.key);
  let line = exact;
  // For the `line` property, fall back to the nearest table that is written (e.g. the header of
  // a plugin that lacks `command`).
  for (let parts = error.key.split("."); line === undefined && parts.length > 1;) {
    parts = parts.slice(0, -1);
    line = lines.get(parts.join("."));
  }
  return fileError(doc.file, error.describe(error.style === "toml" ? exact : undefined), {
    line,
    key: error.key,
    cause: error,
  });
}
