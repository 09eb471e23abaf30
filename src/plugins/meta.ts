/**
 * Parses the graph-definition meta protocol of metric plugins (docs/upstream.md,
 * "Graph definitions").
 *
 * With `MACKEREL_AGENT_PLUGIN_META=1` a plugin prints a header line `# mackerel-agent-plugin ...` and
 * one JSON value describing its graphs; this module turns that text into graph definitions.
 *
 * @module
 */
import type { GraphDef, GraphDefMetric } from "../mackerel/api_types.ts";
import { goFields, goQuote, PLUGIN_PREFIX } from "./metric_output.ts";

export type { GraphDef, GraphDefMetric };

/**
 * The outcome: definitions; `none` when the plugin simply has no meta (missing or bad header,
 * unsupported version: upstream logs it at DEBUG); `error` for bad JSON (upstream logs ERROR).
 */
export type GraphMetaResult =
  | { readonly defs: readonly GraphDef[] }
  | { readonly none: string }
  | { readonly error: string };

/** Go RE2 `^#\s*mackerel-agent-plugin\b(.*)`; RE2's `\s` and `.` are narrower than JavaScript's. */
const HEADER = /^#[\t\n\f\r ]*mackerel-agent-plugin\b([^\n]*)/;

/** Parses a plugin's meta output into graph definitions. */
export function parseGraphMeta(stdout: string): GraphMetaResult {
  const newline = stdout.indexOf("\n");
  if (newline < 0) return { none: "while reading the first line: EOF" };
  const headerLine = stdout.slice(0, newline + 1);
  const m = HEADER.exec(headerLine);
  if (!m) return { none: `bad format of first line: ${goQuote(headerLine)}` };
  const header = new Map<string, string>();
  for (const field of goFields(m[1])) {
    // Go's strings.Split: "a=b=c" gives value "b".
    const parts = field.split("=");
    header.set(parts[0], parts[1] ?? "");
  }
  const version = header.get("version") ?? "1";
  if (version !== "1") return { none: `unsupported plugin meta version: ${goQuote(version)}` };
  try {
    return { defs: graphDefs(firstJsonValue(stdout.slice(newline + 1))) };
  } catch (e) {
    return { error: `while reading plugin configuration: ${(e as Error).message}` };
  }
}

/** Like Go's `json.Decoder.Decode`: one value, anything after it ignored. */
function firstJsonValue(text: string): unknown {
  const start = text.search(/[^ \t\n\r]/);
  if (start < 0) throw new Error("EOF");
  if (text.startsWith("null", start)) return null;
  if (text[start] !== "{") {
    const kind = text[start] === "["
      ? "array"
      : text[start] === '"'
      ? "string"
      : text[start] === "t" || text[start] === "f"
      ? "bool"
      : "number";
    throw new Error(`json: cannot unmarshal ${kind} into Go value of type metrics.pluginMeta`);
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (--depth === 0) return JSON.parse(text.slice(start, i + 1));
    }
  }
  throw new Error("unexpected EOF");
}

type JsonObject = Record<string, unknown>;

/** Go decodes object keys into struct fields case-insensitively; the last match wins. */
function field(obj: JsonObject, name: string): unknown {
  let found: unknown = undefined;
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === name) found = v;
  return found;
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function expect<T>(v: unknown, want: string, check: (v: unknown) => boolean, at: string): T | null {
  if (v === undefined || v === null) return null;
  if (!check(v)) {
    throw new Error(
      `json: cannot unmarshal ${typeName(v)} into Go struct field ${at} of type ${want}`,
    );
  }
  return v as T;
}

const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown) => typeof v === "string";

function graphDefs(meta: unknown): GraphDef[] {
  if (meta === null) return [];
  const graphs = expect<JsonObject>(
    field(meta as JsonObject, "graphs"),
    "map[string]metrics.customGraphDef",
    isObject,
    "pluginMeta.graphs",
  );
  if (graphs === null) return [];
  return Object.entries(graphs).map(([key, raw]) => {
    const graph =
      expect<JsonObject>(raw, "metrics.customGraphDef", isObject, "pluginMeta.graphs") ??
        {};
    const at = "customGraphDef.graphs";
    const label = expect<string>(field(graph, "label"), "string", isString, `${at}.label`) ?? "";
    const unit = expect<string>(field(graph, "unit"), "string", isString, `${at}.unit`) ?? "";
    const metrics = expect<unknown[]>(
      field(graph, "metrics"),
      "[]metrics.customGraphMetricDef",
      Array.isArray,
      `${at}.metrics`,
    ) ?? [];
    return {
      name: PLUGIN_PREFIX + key,
      ...(label === "" ? {} : { displayName: label }),
      unit: unit === "" ? "float" : unit,
      metrics: metrics.map((rawMetric) => graphMetric(PLUGIN_PREFIX + key, rawMetric)),
    };
  });
}

function graphMetric(graphName: string, raw: unknown): GraphDefMetric {
  const at = "customGraphMetricDef.graphs.metrics";
  const metric = expect<JsonObject>(raw, "metrics.customGraphMetricDef", isObject, at) ?? {};
  const name = expect<string>(field(metric, "name"), "string", isString, `${at}.name`) ?? "";
  const label = expect<string>(field(metric, "label"), "string", isString, `${at}.label`) ?? "";
  const stacked = expect<boolean>(
    field(metric, "stacked"),
    "bool",
    (v) => typeof v === "boolean",
    `${at}.stacked`,
  ) ?? false;
  return {
    name: `${graphName}.${name}`,
    ...(label === "" ? {} : { displayName: label }),
    isStacked: stacked,
  };
}
