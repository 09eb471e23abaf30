/**
 * Diagnostic mode: the agent's own memory figures as `custom.agent.*` metrics (docs/upstream.md,
 * "Diagnostic mode").
 *
 * Upstream reports Go's MemStats; this port maps them to `Deno.memoryUsage()`: `alloc` is the live
 * JavaScript heap plus external memory, `sys` the resident set, `heapAlloc`/`heapSys` V8's heap
 * used/total. Deno has no goroutines, so `custom.agent.runtime.goroutine_num` is not sent.
 *
 * @module
 */
import type { GraphDef } from "../mackerel/api_types.ts";
import type { Collector, CollectorDefinition } from "./collector.ts";

/** The graph definition of the diagnostic metrics, posted at start like a plugin's. */
export const DIAGNOSTIC_GRAPH_DEFS: readonly GraphDef[] = [{
  name: "custom.agent.memory",
  displayName: "Agent Memory",
  unit: "bytes",
  metrics: [
    { name: "custom.agent.memory.alloc", displayName: "Alloc", isStacked: false },
    { name: "custom.agent.memory.sys", displayName: "Sys", isStacked: false },
    { name: "custom.agent.memory.heapAlloc", displayName: "Heap Alloc", isStacked: false },
    { name: "custom.agent.memory.heapSys", displayName: "Heap Sys", isStacked: false },
  ],
}];

/** Creates the collector of the agent's own memory figures. */
export function createDiagnosticCollector(
  memoryUsage: () => Deno.MemoryUsage = Deno.memoryUsage,
): Collector {
  return {
    name: "diagnostic",
    collect() {
      const usage = memoryUsage();
      return Promise.resolve([
        { name: "custom.agent.memory.alloc", value: usage.heapUsed + usage.external },
        { name: "custom.agent.memory.sys", value: usage.rss },
        { name: "custom.agent.memory.heapAlloc", value: usage.heapUsed },
        { name: "custom.agent.memory.heapSys", value: usage.heapTotal },
      ]);
    },
  };
}

/** The registry's line: on with `diagnostic = true` or `-diagnostic`. */
export const DIAGNOSTIC_COLLECTOR: CollectorDefinition = {
  name: "diagnostic",
  optIn: "diagnostic",
  sources: () => [],
  graphDefs: DIAGNOSTIC_GRAPH_DEFS,
  create: () => createDiagnosticCollector(),
};
