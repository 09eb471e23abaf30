/**
 * configtest's unknown-key check (reference §2.8, upstream `config/validate.go`), and the key
 * scanner it and the loader's error messages rely on.
 *
 * @module
 */
import { decodeDocument, type Document, type GoMap, readDocument } from "./decode.ts";
import { type ConfigError, fileError, isTable, keyString, ValueError } from "./errors.ts";
import { CONFIG_FIELDS, type Field, structOf } from "./sections.ts";

/** A key defined by a TOML document, with the line it is defined on. */
export interface KeyLine {
  readonly path: readonly string[];
  readonly line: number;
}

/**
 * Lists the keys a (valid) TOML document defines, in BurntSushi/toml's order: table headers,
 * key/value pairs (full dotted path) and keys inside inline tables. Tables created implicitly by
 * a dotted key or header are not listed, as upstream does not list them either.
 */
export function scanKeys(text: string): KeyLine[] {
  const out: KeyLine[] = [];
  const lineStarts = [0];
  for (let p = text.indexOf("\n"); p !== -1; p = text.indexOf("\n", p + 1)) lineStarts.push(p + 1);
  const lineAt = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  let i = 0;
  const skip = (newlines: boolean) => {
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "\t" || (newlines && (c === "\n" || c === "\r"))) i++;
      else if (c === "#") { while (i < text.length && text[i] !== "\n") i++; }
      else break;
    }
  };
  const readQuoted = (quote: string): string => {
    let value = "";
    i++;
    while (i < text.length && text[i] !== quote) {
      if (quote === '"' && text[i] === "\\") {
        const [ch, len] = unescape(text, i);
        value += ch;
        i += len;
      } else value += text[i++];
    }
    i++;
    return value;
  };
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skip(false);
      const c = text[i];
      if (c === '"' || c === "'") parts.push(readQuoted(c));
      else {
        const bare = /[A-Za-z0-9_-]*/y;
        bare.lastIndex = i;
        const word = bare.exec(text)![0];
        parts.push(word);
        i += word.length;
      }
      skip(false);
      if (text[i] !== ".") return parts;
      i++;
    }
  };
  const skipMultiline = (delim: string) => {
    i += 3;
    while (i < text.length && !text.startsWith(delim, i)) {
      i += delim === '"""' && text[i] === "\\" ? 2 : 1;
    }
    i += 3;
    // Up to two quotes right before the closing delimiter belong to the string.
    for (let n = 0; n < 2 && text[i] === delim[0]; n++) i++;
  };
  const skipValue = (path: readonly string[]) => {
    const c = text[i];
    if (text.startsWith('"""', i) || text.startsWith("'''", i)) skipMultiline(text.slice(i, i + 3));
    else if (c === '"' || c === "'") readQuoted(c);
    else if (c === "[" || c === "{") {
      const close = c === "[" ? "]" : "}";
      i++;
      while (i < text.length) {
        skip(true);
        if (text[i] === close) break;
        const before = i;
        if (c === "[") skipValue(path);
        else keyValue(path);
        skip(true);
        if (text[i] === ",") i++;
        else if (i === before) i++;
      }
      i++;
    } else {
      const scalar = /[^,\]}\r\n#]*/y;
      scalar.lastIndex = i;
      i += scalar.exec(text)![0].length;
    }
  };
  const keyValue = (context: readonly string[]) => {
    skip(false);
    const at = i;
    const path = [...context, ...readKey()];
    skip(false);
    i++; // "="
    skip(false);
    skipValue(path);
    out.push({ path, line: lineAt(at) });
  };
  let context: readonly string[] = [];
  while (i < text.length) {
    skip(true);
    if (i >= text.length) break;
    const at = i;
    if (text[i] === "[") {
      const array = text[i + 1] === "[";
      i += array ? 2 : 1;
      context = readKey();
      i += array ? 2 : 1;
      out.push({ path: context, line: lineAt(at) });
    } else {
      keyValue(context);
    }
    if (i === at) i++;
  }
  return out;
}

/** One escape sequence of a basic string at `pos` (a backslash): the character and its length. */
function unescape(text: string, pos: number): [string, number] {
  const c = text[pos + 1];
  const simple: Record<string, string> = {
    b: "\b",
    t: "\t",
    n: "\n",
    f: "\f",
    r: "\r",
    e: "\x1b",
    '"': '"',
    "\\": "\\",
  };
  if (c in simple) return [simple[c], 2];
  const width = c === "u" ? 4 : c === "U" ? 8 : c === "x" ? 2 : 0;
  if (width === 0) return [c ?? "", 2];
  const code = parseInt(text.slice(pos + 2, pos + 2 + width), 16);
  return [String.fromCodePoint(code), 2 + width];
}

/**
 * upstream's `makeCandidates`: every key of the tables in field order, a struct's fields right after
 * it (so `ignore` thrice, and the command keys twice) and an embedded struct's own name
 * (`commandConfig`) before its fields; `autoshutdown` left out (`conf:"ignore"`). This agent's
 * tables come last, so upstream's own suggestions are unchanged.
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

function suggest(given: string, candidates: readonly string[]): string {
  return candidates.find((c) => levenshtein(given, c) < 3) ?? "";
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

/** upstream's `ValidateConfigFile` on an already read document: the unexpected keys, sorted. */
export function unexpectedKeys(text: string, table: Record<string, unknown>): UnexpectedKey[] {
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
      const s = suggest(parts[parts.length - 1], SUGGESTION_CANDIDATES);
      suggestion = s === "" ? "" : `${parent}.${s}`;
    }
    const ignoredTable = name === top && isTable(table[top]);
    found.push({ name, suggestion, ignoredTable, line: lineOf(name) });
    detected.push(name);
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
 * key.` or `… is unexpected key. Did you mean <suggestion> ?`. With `file`, a table the agent
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
export async function findUnexpectedKeys(path: string): Promise<UnexpectedKey[]> {
  const doc = await readDocument(path);
  try {
    return unexpectedKeys(doc.text, doc.table);
  } catch (error) {
    throw error instanceof ValueError ? locate(doc, error) : error;
  }
}

/** Reads a config file and returns configtest's warning lines in upstream's exact words, sorted. */
export async function findUnknownKeys(path: string): Promise<string[]> {
  return (await findUnexpectedKeys(path)).map((key) => warningLine(key));
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
