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
import { type Collector, type CollectorDefinition, EVERY_OS } from "./collector.ts";
import { inGraph } from "./metric_declaration.ts";

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

/** The registry's line: on with `diagnostic = true` or `-diagnostic`; one graph, posted at start. */
export const DIAGNOSTIC_COLLECTOR: CollectorDefinition = {
  name: "diagnostic",
  os: EVERY_OS,
  optIn: "diagnostic",
  metrics: inGraph("Agent Memory", [
    {
      name: "custom.agent.memory.alloc",
      unit: "bytes",
      label: "Alloc",
      description: "The agent's live JavaScript heap plus external memory.",
    },
    {
      name: "custom.agent.memory.sys",
      unit: "bytes",
      label: "Sys",
      description: "The agent's resident set size.",
    },
    {
      name: "custom.agent.memory.heapAlloc",
      unit: "bytes",
      label: "Heap Alloc",
      description: "V8's heap in use by the agent.",
    },
    {
      name: "custom.agent.memory.heapSys",
      unit: "bytes",
      label: "Heap Sys",
      description: "V8's heap reserved by the agent.",
    },
  ]),
  sources: () => [],
  create: () => createDiagnosticCollector(),
};
