/**
 * Graph definitions of metric plugins: asked from each plugin once and posted once
 * (docs/upstream.md, "Graph definitions").
 *
 * @module
 */
import type { MetricPluginConfig } from "../config/schema.ts";
import type { GraphDef } from "../mackerel/api_types.ts";
import { logger } from "../log.ts";
import { commandString, runPluginCommand } from "./command.ts";
import { parseGraphMeta } from "./meta.ts";
import { goQuote } from "./metric_output.ts";

/** Options of {@linkcode collectGraphDefs}. */
export interface CollectGraphDefsOptions {
  /** How many plugins run at once; default 4. */
  readonly maxConcurrent?: number;
  /** Aborting (agent stop) terminates running plugins. */
  readonly signal?: AbortSignal;
}

const DEFAULT_MAX_CONCURRENT = 4;

const log = logger("metrics.plugin");

/**
 * Runs every metric plugin with `MACKEREL_AGENT_PLUGIN_META=1` and gathers their graph definitions,
 * in configuration order. A plugin without meta (or with broken meta) contributes none and is
 * still run for values.
 */
export async function collectGraphDefs(
  plugins: readonly MetricPluginConfig[],
  options: CollectGraphDefsOptions = {},
): Promise<GraphDef[]> {
  const perPlugin: GraphDef[][] = [];
  let next = 0;
  // A fixed pool of workers pulling plugins in order bounds the concurrency.
  const worker = async () => {
    while (next < plugins.length) {
      const i = next++;
      perPlugin[i] = await graphDefsOf(plugins[i], options.signal);
    }
  };
  const workers = Math.max(
    1,
    Math.min(options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT, plugins.length),
  );
  await Promise.all(Array.from({ length: workers }, worker));
  return perPlugin.flat();
}

async function graphDefsOf(plugin: MetricPluginConfig, signal?: AbortSignal): Promise<GraphDef[]> {
  const cmd = commandString(plugin.command);
  const result = await runPluginCommand(plugin, {
    extraEnv: { MACKEREL_AGENT_PLUGIN_META: "1" },
    signal,
  });
  const fail = (err: string) => {
    log
      .error`Failed to fetch meta information from plugin ${plugin.name}; seems that the plugin has a bug: ${err}`;
    return [];
  };
  if (signal?.aborted && !result.timedOut) return []; // the agent is stopping
  if (result.error !== undefined) {
    return fail(
      `running ${cmd} failed: ${result.error}, exit=${result.exitCode} stderr=${
        goQuote(result.stderr)
      }`,
    );
  }
  const meta = parseGraphMeta(result.stdout);
  if ("error" in meta) return fail(meta.error);
  if ("none" in meta) {
    log.debug`plugin ${plugin.name} has no graph definitions: ${meta.none}`;
    return [];
  }
  return [...meta.defs];
}
