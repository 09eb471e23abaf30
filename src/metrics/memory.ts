/**
 * The `memory.*` metrics, from one read of `<procfs>/meminfo` (docs/upstream.md, "Memory").
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import { type Collector, type CollectorDefinition, type MetricValue } from "./collector.ts";
import { createMemoryFallback } from "./fallback.ts";
import type { MetricDeclaration } from "./metric_declaration.ts";

/** Options of {@linkcode createMemoryCollector}. */
export interface MemoryCollectorOptions {
  /** Where `meminfo` is read from (its procfs root). */
  readonly source: Source;
}

const ENTRY = /^(\d+)(?:\s+(kB))?$/;

/**
 * Parses the text of `/proc/meminfo` into bytes by key (`MemTotal` -> 16694710272 ...).
 *
 * `n kB` becomes n × 1024; a bare number (`HugePages_Total: 0`) is kept as is. Lines that are not
 * `Key: <integer>[ kB]` (such as the table heading of 2.4 kernels) are skipped, never thrown on.
 */
export function parseMeminfo(text: string): Map<string, number> {
  const info = new Map<string, number>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const match = ENTRY.exec(line.slice(colon + 1).trim());
    if (!match) continue;
    const value = Number(match[1]) * (match[2] ? 1024 : 1);
    // Beyond 2^53 bytes (8 PiB) a value would not be exact; no real host gets there.
    if (!Number.isSafeInteger(value)) continue;
    info.set(line.slice(0, colon).trim(), value);
  }
  return info;
}

/**
 * Computes upstream's memory metrics (docs/upstream.md, "Memory") from parsed meminfo; missing
 * keys count as 0.
 *
 * With `MemAvailable` (Linux >= 3.14) `memory.used` is MemTotal - MemAvailable and
 * `memory.mem_available` is sent; without it, used is MemTotal - MemFree - Buffers - Cached and
 * `memory.buffers`, `memory.cached`, `memory.free` are sent instead.
 */
export function memoryValues(info: ReadonlyMap<string, number>): MetricValue[] {
  const get = (key: string) => info.get(key) ?? 0;
  const total = get("MemTotal");
  const hasAvailable = info.has("MemAvailable");
  const values: MetricValue[] = [{ name: "memory.total", value: total }];
  if (hasAvailable) {
    values.push(
      { name: "memory.used", value: total - get("MemAvailable") },
      { name: "memory.mem_available", value: get("MemAvailable") },
    );
  } else {
    values.push(
      { name: "memory.used", value: total - get("MemFree") - get("Buffers") - get("Cached") },
      { name: "memory.buffers", value: get("Buffers") },
      { name: "memory.cached", value: get("Cached") },
      { name: "memory.free", value: get("MemFree") },
    );
  }
  values.push(
    { name: "memory.swap_total", value: get("SwapTotal") },
    { name: "memory.swap_cached", value: get("SwapCached") },
    { name: "memory.swap_free", value: get("SwapFree") },
  );
  return values;
}

/** Creates the collector of `memory.*` from `<procfs>/meminfo`. */
export function createMemoryCollector({ source }: MemoryCollectorOptions): Collector {
  return {
    name: "memory",
    async collect() {
      return memoryValues(parseMeminfo(await source.readProc("meminfo")));
    },
  };
}

const bytes = (name: string, description: string): MetricDeclaration => ({
  name: `memory.${name}`,
  unit: "bytes",
  description,
});

const MEMORY_METRICS: readonly MetricDeclaration[] = [
  bytes("total", "Physical memory (MemTotal)."),
  bytes(
    "used",
    "Memory in use: MemTotal less MemAvailable (before Linux 3.14, less free, buffers and cache).",
  ),
  bytes("mem_available", "Memory available without swapping (MemAvailable, Linux 3.14 and later)."),
  bytes("buffers", "Block device buffers (Buffers; sent only before Linux 3.14)."),
  bytes("cached", "Page cache (Cached; sent only before Linux 3.14)."),
  bytes("free", "Memory not used at all (MemFree; sent only before Linux 3.14)."),
  bytes("swap_total", "Swap space (SwapTotal)."),
  bytes("swap_cached", "Swap also held in memory (SwapCached)."),
  bytes("swap_free", "Swap space unused (SwapFree)."),
];

/**
 * The registry's line: upstream's memory metrics, always on; `Deno.systemMemoryInfo()` without -A
 * where this process may not read /proc (macOS and Windows have collectors of their own).
 */
export const MEMORY_COLLECTOR: CollectorDefinition = {
  name: "memory",
  os: ["linux"],
  metrics: MEMORY_METRICS,
  sources: (source) => [source.procPath("meminfo")],
  create: ({ source }) => createMemoryCollector({ source }),
  fallback: { sysKind: "systemMemoryInfo", os: ["linux"], create: () => createMemoryFallback() },
};
