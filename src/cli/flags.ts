/**
 * Go-style command-line flags, as mackerel-agent's `flag` package parses them.
 *
 * `-x` and `--x` are the same flag; values come as `-x=v` or `-x v`; booleans as `-x` or
 * `-x=false`; parsing stops at the first word that is not a flag, or after `--`.
 * `node:util` `parseArgs` cannot express the last two rules, hence this small parser.
 *
 * @module
 */

/** The kinds of value a flag takes. */
export type FlagKind = "string" | "bool" | "int" | "list";

/** Declares one flag. */
export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** Other names for the same flag (e.g. `v` for `verbose`). */
  readonly aliases?: readonly string[];
  /** Placeholder shown in the usage line, e.g. `FILE`. */
  readonly placeholder?: string;
  readonly help: string;
  /** The value used when the flag is not given, shown in the help as Go shows it. */
  readonly default?: string | number | boolean;
  /** Set by the agent itself (supervise's child, the self-update watch): accepted, not shown. */
  readonly internal?: boolean;
}

/** A parsed flag value. */
export type FlagValue = string | boolean | number | string[];

/** The result of {@linkcode parseFlags}: explicitly given flags by canonical name, and leftovers. */
export interface ParsedFlags {
  readonly values: ReadonlyMap<string, FlagValue>;
  readonly rest: readonly string[];
  /** `-h` or `-help` was given. */
  readonly help: boolean;
}

/** A usage mistake: unknown flag, missing or bad value. The CLI prints it and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Parses `args` against `specs` with Go's `flag` rules. Throws {@linkcode UsageError}. */
export function parseFlags(args: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const values = new Map<string, FlagValue>();
  let help = false;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (arg.length < 2 || arg[0] !== "-") break;
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    if (body === "" || body.startsWith("-") || body.startsWith("=")) {
      throw new UsageError(`bad flag syntax: ${arg}`);
    }
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    if (name === "h" || name === "help") {
      help = true;
      continue;
    }
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    if (spec.kind === "bool") {
      values.set(spec.name, parseBool(name, inline));
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= args.length) throw new UsageError(`flag needs an argument: -${name}`);
      raw = args[++i];
    }
    values.set(spec.name, convert(spec, name, raw, values.get(spec.name)));
  }
  return { values, rest: args.slice(i), help };
}

function parseBool(name: string, inline: string | undefined): boolean {
  if (inline === undefined || TRUE_WORDS.has(inline)) return true;
  if (FALSE_WORDS.has(inline)) return false;
  throw new UsageError(`invalid boolean value "${inline}" for -${name}`);
}

function convert(spec: FlagSpec, name: string, raw: string, previous?: FlagValue): FlagValue {
  switch (spec.kind) {
    case "int": {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`invalid value "${raw}" for flag -${name}`);
      return Number(raw);
    }
    case "list":
      return [...(Array.isArray(previous) ? previous : []), raw];
    default:
      return raw;
  }
}

/**
 * Renders the flags of a command as Go's `flag.PrintDefaults` does: sorted by name, an alias as an
 * entry of its own, the help on the next line after `"    \t"` (on the same line for a one-letter
 * flag without a value), then the default unless it is the zero value. Internal flags are left out.
 */
export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  const entries: [name: string, spec: FlagSpec, alias: boolean][] = [];
  for (const spec of specs) {
    if (spec.internal) continue;
    entries.push([spec.name, spec, false]);
    for (const alias of spec.aliases ?? []) entries.push([alias, spec, true]);
  }
  entries.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return entries.map(([name, spec, alias]) => {
    let head = `  -${name}`;
    if (spec.kind !== "bool") head += ` ${spec.placeholder ?? "value"}`;
    const help = alias ? `shorthand for -${spec.name}` : spec.help + defaultNote(spec);
    const sep = head.length <= 4 ? "\t" : "\n    \t";
    return `${head}${sep}${help.replaceAll("\n", "\n    \t")}\n`;
  }).join("");
}

/** Go's ` (default ...)`: quoted for strings, left out for zero values (false, 0, ""). */
function defaultNote(spec: FlagSpec): string {
  const value = spec.default;
  if (value === undefined || value === false || value === 0 || value === "") return "";
  return typeof value === "string" ? ` (default ${JSON.stringify(value)})` : ` (default ${value})`;
}
