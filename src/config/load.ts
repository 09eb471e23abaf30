/**
 * Loads a config file and its `include`s into a {@linkcode Config} (docs/upstream.md,
 * "Config resolution", steps 2-5, and "include").
 *
 * @module
 */
import { posixJoin as join } from "../file_path.ts";
import { buildPatch, type ConfigPatch, decodeDocument, readDocument } from "./decode.ts";
import { ConfigError, fileError, ValueError } from "./errors.ts";
import type { Config } from "./schema.ts";
import { CONFIG_FIELDS, defaultConfig } from "./sections.ts";
import { locate } from "./unknown_keys.ts";

/**
 * Reads `path`, then the files its `include` glob matches (relative to the working directory, in
 * lexical order, not recursively), each decoded over the result so far. Empty `apibase`, `root`
 * and `pidfile` then get their defaults. Every failure is a `ConfigError`; nothing exits, so a
 * running agent can call this to validate a file before it reloads.
 */
export async function loadConfigFile(path: string): Promise<Config> {
  const main = await loadPatch(path);
  let config = applyPatch({ ...defaultConfig(), conffile: path }, main);
  if (main.include) {
    let files: string[];
    try {
      files = await glob(main.include);
    } catch (error) {
      throw fileError(
        path,
        `include ${JSON.stringify(main.include)}: ${(error as Error).message}`,
        {
          key: "include",
          cause: error,
        },
      );
    }
    for (const file of files) {
      let patch: ConfigPatch;
      try {
        patch = await loadPatch(file);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new ConfigError(`while loading included config file ${file}: ${error.detail}`, {
          file,
          line: error.line,
          key: error.key,
          cause: error,
        });
      }
      config = applyPatch(config, patch);
    }
  }
  return withDefaultsForEmpty(config);
}

async function loadPatch(file: string): Promise<ConfigPatch> {
  const doc = await readDocument(file);
  try {
    return buildPatch(decodeDocument(doc.table).root);
  } catch (error) {
    throw error instanceof ValueError ? locate(doc, error) : error;
  }
}

/**
 * Applies one file over a config: present scalars override, sub-tables merge per field, `roles`
 * is replaced only when defined, plugins of the same kind and name are replaced wholesale.
 */
export function applyPatch(config: Config, patch: ConfigPatch): Config {
  const merged: Record<string, unknown> = { ...config, ...patch.values };
  const current = config as unknown as Record<string, Record<string, unknown>>;
  for (const [prop, values] of Object.entries(patch.tables)) {
    merged[prop] = { ...current[prop], ...values };
  }
  return {
    ...merged as unknown as Config,
    metricPlugins: mergePlugins(config.metricPlugins, patch.metricPlugins),
    checkPlugins: mergePlugins(config.checkPlugins, patch.checkPlugins),
    metadataPlugins: mergePlugins(config.metadataPlugins, patch.metadataPlugins),
  };
}

/** Upstream's step 5: an empty `apibase`, `root` or `pidfile` after all files means the default. */
function withDefaultsForEmpty(config: Config): Config {
  const out: Record<string, unknown> = { ...config };
  for (const field of CONFIG_FIELDS) {
    if (field.emptyIsDefault && field.prop !== undefined && out[field.prop] === "") {
      out[field.prop] = field.default;
    }
  }
  return out as unknown as Config;
}

function mergePlugins<T extends { readonly name: string }>(
  old: readonly T[],
  added: readonly T[],
): readonly T[] {
  const byName = new Map(added.map((p) => [p.name, p]));
  const kept = old.map((p) => byName.get(p.name) ?? p);
  const oldNames = new Set(old.map((p) => p.name));
  return [...kept, ...added.filter((p) => !oldNames.has(p.name))];
}

/**
 * Go's `filepath.Glob`: `*`, `?`, `[...]` (`^` negates) and `\` escapes within a path segment;
 * no match is not an error, a malformed pattern is (`syntax error in pattern`).
 */
export async function glob(pattern: string): Promise<string[]> {
  parsePattern(pattern); // validates the whole pattern, as Go does first
  if (!hasMeta(pattern)) {
    try {
      await Deno.lstat(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const cut = pattern.lastIndexOf("/") + 1;
  const rawDir = pattern.slice(0, cut);
  const base = pattern.slice(cut);
  const dir = rawDir === "" ? "." : rawDir === "/" ? "/" : rawDir.slice(0, -1);
  const dirs = hasMeta(dir) ? await glob(dir) : [dir];
  const matches: string[] = [];
  const tokens = parsePattern(base);
  for (const d of dirs) {
    let names: string[];
    try {
      if (!(await Deno.stat(d)).isDirectory) continue;
      names = [];
      for await (const entry of Deno.readDir(d)) names.push(entry.name);
    } catch {
      continue;
    }
    names.sort();
    for (const name of names) if (matchTokens(tokens, [...name])) matches.push(join(d, name));
  }
  return matches;
}

function hasMeta(path: string): boolean {
  return /[*?[\\]/.test(path);
}

type Token =
  | { readonly t: "star" }
  | { readonly t: "any" }
  | { readonly t: "char"; readonly c: string }
  | {
    readonly t: "class";
    readonly negated: boolean;
    readonly ranges: readonly (readonly [string, string])[];
  };

/** Parses a Go `path/filepath.Match` pattern; throws `syntax error in pattern` when malformed. */
function parsePattern(pattern: string): Token[] {
  const bad = () => new Error("syntax error in pattern");
  const cs = [...pattern];
  const tokens: Token[] = [];
  let i = 0;
  const escaped = (): string => {
    let c = cs[i];
    if (c === undefined || c === "-" || c === "]") throw bad();
    if (c === "\\") {
      c = cs[++i];
      if (c === undefined) throw bad();
    }
    i++;
    if (i >= cs.length) throw bad();
    return c;
  };
  while (i < cs.length) {
    const c = cs[i];
    if (c === "*") {
      tokens.push({ t: "star" });
      i++;
    } else if (c === "?") {
      tokens.push({ t: "any" });
      i++;
    } else if (c === "\\") {
      if (i + 1 >= cs.length) throw bad();
      tokens.push({ t: "char", c: cs[i + 1] });
      i += 2;
    } else if (c === "[") {
      i++;
      const negated = cs[i] === "^";
      if (negated) i++;
      const ranges: [string, string][] = [];
      while (!(cs[i] === "]" && ranges.length > 0)) {
        const lo = escaped();
        const hi = cs[i] === "-" ? (i++, escaped()) : lo;
        ranges.push([lo, hi]);
      }
      i++;
      tokens.push({ t: "class", negated, ranges });
    } else {
      tokens.push({ t: "char", c });
      i++;
    }
  }
  return tokens;
}

/** Whether a file name (as code points) matches a parsed pattern. */
function matchTokens(tokens: readonly Token[], name: readonly string[]): boolean {
  // ok[j]: the tokens so far can match the first j code points of the name.
  let ok = name.map(() => false).concat(false);
  ok[0] = true;
  for (const token of tokens) {
    const next = ok.map(() => false);
    for (let j = 0; j <= name.length; j++) {
      if (token.t === "star") next[j] = ok[j] || (j > 0 && next[j - 1] && name[j - 1] !== "/");
      else if (j > 0 && ok[j - 1]) next[j] = matchOne(token, name[j - 1]);
    }
    ok = next;
  }
  return ok[name.length];
}

function matchOne(token: Exclude<Token, { t: "star" }>, c: string): boolean {
  if (token.t === "any") return c !== "/";
  if (token.t === "char") return token.c === c;
  const cp = c.codePointAt(0)!;
  const inRange = token.ranges.some(([lo, hi]) =>
    lo.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!
  );
  return inRange !== token.negated;
}
