/**
 * Configuration errors, and the Go vocabulary upstream's config is written in.
 *
 * mackerel-agent decodes its TOML with BurntSushi/toml into Go types, so its error messages name Go
 * types (`int64`, `[]interface {}` ...) and quote keys the Go way. Operators search for those
 * messages, so the helpers here reproduce them (Go regexps: ./go_regexp.ts).
 *
 * @module
 */

/** Where a {@linkcode ConfigError} points and what it wraps. */
export interface ConfigErrorOptions {
  /** The config file (main or included) the problem is in. */
  readonly file?: string;
  /** 1-based line of the offending key or syntax error, when known. */
  readonly line?: number;
  /** Dotted key of the offending value, e.g. `plugin.metrics.mysql.command`. */
  readonly key?: string;
  /** The message without the file prefix, for callers that re-wrap it (includes). */
  readonly detail?: string;
  readonly cause?: unknown;
}

/** A user mistake in a config file: one line that names the file and, when known, the line and key. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly file?: string;
  readonly line?: number;
  readonly key?: string;
  /** The message without the file prefix. */
  readonly detail: string;

  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.file = options.file;
    this.line = options.line;
    this.key = options.key;
    this.detail = options.detail ?? message;
  }
}

/** Builds the usual `<file>: <detail>` error. */
export function fileError(
  file: string,
  detail: string,
  where: { readonly line?: number; readonly key?: string; readonly cause?: unknown } = {},
): ConfigError {
  return new ConfigError(`${file}: ${detail}`, { file, detail, ...where });
}

/** A value of a config file that could not be decoded; located by the loader once it knows the file. */
export class ValueError extends Error {
  override readonly name = "ValueError";
  /** Dotted key (Go `toml.Key` spelling) of the value. */
  readonly key: string;
  /** Upstream's wording without the location, e.g. `duration out of range: -10`. */
  readonly reason: string;
  /** Whether upstream reports it as `toml: ... (last key "k")` (decoder) or as `k: reason` (plugin build). */
  readonly style: "toml" | "plugin";
  /** Prefix for the `plugin` style: `plugin.<kind>.<name>`. */
  readonly prefix: string;

  constructor(init: {
    readonly key: string;
    readonly reason: string;
    readonly style: "toml" | "plugin";
    readonly prefix?: string;
  }) {
    super(init.reason);
    this.key = init.key;
    this.reason = init.reason;
    this.style = init.style;
    this.prefix = init.prefix ?? "";
  }

  /** Upstream's message for this value, with the line of the key when known. */
  describe(line?: number): string {
    if (this.style === "plugin") return `${this.prefix}: ${this.reason}`;
    const at = line === undefined ? "" : `line ${line} `;
    return `toml: ${at}(last key ${JSON.stringify(this.key)}): ${this.reason}`;
  }
}

/** Go's `%T` of a decoded TOML value (`int64`, `float64`, `bool`, `<nil>`, `[]interface {}` ...). */
export function goTypeName(value: unknown): string {
  if (value === undefined || value === null) return "<nil>";
  switch (typeof value) {
    case "string":
      return "string";
    case "bigint":
      return "int64";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
  }
  if (Array.isArray(value)) return "[]interface {}";
  if (isTable(value)) return "map[string]interface {}";
  return "time.Time";
}

/** BurntSushi's spelling of a type in decode errors: `%T` with `interface {}` shortened to `any`. */
export function fmtType(value: unknown): string {
  return goTypeName(value).replaceAll("interface {}", "any");
}

/** Whether a decoded TOML value is a table (smol-toml gives plain objects; dates are class instances). */
export function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** Go `toml.Key.String()`: parts joined by `.`, a part quoted unless it is a bare key. */
export function keyString(parts: readonly string[]): string {
  return parts.map((p) => BARE_KEY.test(p) ? p : JSON.stringify(p)).join(".");
}

/**
 * Go `%q` as needed for a TOML basic string: `"`, `\` and control characters escaped.
 * (`\uXXXX` rather than Go's `\x..` so that the result is valid TOML.)
 */
export function quoteString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

/**
 * The text a Go `encoding.TextUnmarshaler` field receives for a TOML value (durations, regexes,
 * `cloud_platform`). Tables and arrays are type errors, as in BurntSushi/toml.
 */
export function textOf(value: unknown): string {
  if (value === undefined || value === null || Array.isArray(value) || isTable(value)) {
    throw new Error(
      `incompatible types: TOML value has type ${fmtType(value)}; ` +
        "destination has type primitive (string-like)",
    );
  }
  // Numbers, booleans and dates as their text; the reference reads a float by its shortest
  // text (`30.0` -> "30").
  return String(value);
}
