/**
 * Runs the metric plugins of a collection round (docs/upstream.md, "Metric plugins").
 *
 * Every plugin runs concurrently, at most `maxConcurrent` at a time, and a round never waits for a
 * plugin longer than its own timeout (plus a second to reap it), counted from the round's start: a
 * plugin still running then (it ignores SIGTERM, or it waited too long for a free slot) contributes
 * nothing to this round, and is not started again until its previous run has ended, so a hanging
 * plugin never piles up copies of itself.
 *
 * @module
 */
import type { MetricPluginConfig } from "../config/schema.ts";
import { deadline, raceAbort, withDeadline } from "../async/abort.ts";
import { logger } from "../log.ts";
import { isValidMetricName, metricNameProblem } from "../mackerel/metric_name.ts";
import {
  type CommandResult,
  commandString,
  MAX_OUTPUT_BYTES,
  runPluginCommand,
} from "./command.ts";
import { goQuote, parseMetricOutput } from "./metric_output.ts";
import { createPluginWarnings } from "./plugin_warnings.ts";

/** One value of a plugin, ready for the post queue. */
export interface PluginMetricValue {
  /** `custom.<key>`. */
  readonly name: string;
  /** Always finite. */
  readonly value: number;
  /** Unix seconds from the plugin (`use_plugin_timestamp`); otherwise the round's time applies. */
  readonly time?: number;
}

/** The values of a round for one host: the agent's own, or a custom identifier's. */
export interface PluginValues {
  readonly customIdentifier?: string;
  readonly values: readonly PluginMetricValue[];
}

/** Options of {@linkcode createMetricPlugins}. */
export interface MetricPluginsOptions {
  readonly plugins: readonly MetricPluginConfig[];
  /** How many plugins run at once; default 16. */
  readonly maxConcurrent?: number;
  /** The current Unix time in seconds, for `use_plugin_timestamp`; default the system clock. */
  readonly nowSeconds?: () => number;
  /** Aborting (agent stop) terminates running plugins. */
  readonly signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL for a plugin past its timeout; default upstream's 10 s. */
  readonly killGraceMs?: number;
  /** Told how each run ended: no error, or why it gave no values (the status file). */
  readonly onRun?: (plugin: string, error?: string) => void;
}

/** The metric plugins of the agent. */
export interface MetricPlugins {
  /** Runs every plugin once; values grouped by custom identifier, plugins without values omitted. */
  collect(): Promise<PluginValues[]>;
  /** Kills plugins still running (the agent exits) and waits a moment for them to be reaped. */
  stop(): Promise<void>;
}

/**
 * Plugins running at once. Upstream runs them all; a bound keeps a host with dozens of plugins
 * from forking them in one burst, while still giving each a turn well inside the minute.
 */
const DEFAULT_MAX_CONCURRENT = 16;
/** Time granted after a plugin's timeout for it to exit and be reaped before the round moves on. */
const REAP_MARGIN_MS = 1_000;
/** How long the agent's exit waits for killed plugins to be reaped. */
const REAP_AT_EXIT_MS = 2_000;
const log = logger("metrics.plugin");

/** Prepares the metric plugins; each {@linkcode MetricPlugins.collect} is one round. */
export function createMetricPlugins(options: MetricPluginsOptions): MetricPlugins {
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const slots = createSemaphore(Math.max(1, options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT));
  const running = new Set<MetricPluginConfig>();
  const inFlight = new Set<Promise<unknown>>();
  const stopping = new AbortController();
  const killing = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stopping.signal])
    : stopping.signal;
  const warned = createPluginWarnings(log);

  async function runPlugin(
    plugin: MetricPluginConfig,
    giveUp: AbortSignal,
  ): Promise<PluginMetricValue[]> {
    const cmd = commandString(plugin.command);
    if (running.has(plugin)) {
      log.warn`command ${cmd} is still running from an earlier round; skipped this round`;
      return [];
    }
    running.add(plugin);
    try {
      if (!await slots.acquire(giveUp)) {
        log.warn`command ${cmd} did not get a turn before its deadline; skipped this round`;
        return [];
      }
      let result: CommandResult;
      try {
        result = await runPluginCommand(plugin, {
          extraEnv: { MACKEREL_AGENT_PLUGIN_META: "" },
          killGraceMs: options.killGraceMs,
          signal,
          kill: killing.signal,
        });
      } finally {
        slots.release();
      }
      // Cancelled by the agent's stop: nothing to report, nothing went wrong.
      if (signal.aborted && !result.timedOut) return [];
      return valuesOf(plugin, cmd, result);
    } finally {
      running.delete(plugin);
    }
  }

  function valuesOf(
    plugin: MetricPluginConfig,
    cmd: string,
    result: CommandResult,
  ): PluginMetricValue[] {
    if (result.stderr !== "") {
      log.info`command ${cmd} outputted to STDERR: ${goQuote(result.stderr)}`;
    }
    options.onRun?.(plugin.name, result.error);
    if (result.error !== undefined) {
      log.error`Failed to execute command ${cmd} (skip these metrics): ${result.error}`;
      return [];
    }
    const warnings = warned.run(plugin, cmd);
    if (result.truncated) {
      warnings.warn(
        `plugin.metrics.${plugin.name}: command ${cmd} printed more than ${
          MAX_OUTPUT_BYTES / (1 << 20)
        } MiB in one run; it was stopped and the complete lines before that are used`,
      );
    }
    const parsed = parseMetricOutput(result.stdout, {
      includePattern: plugin.includePattern,
      excludePattern: plugin.excludePattern,
      usePluginTimestamp: plugin.usePluginTimestamp,
      nowSeconds: nowSeconds(),
    });
    for (const warning of parsed.warnings) warnings.warn(warning);
    const values: PluginMetricValue[] = [];
    for (const v of parsed.values) {
      // One refused name would fail the whole post (400) with every other metric in it.
      if (!isValidMetricName(v.name)) {
        warnings.warn(
          `plugin.metrics.${plugin.name}: metric name ${goQuote(v.name)} ${
            metricNameProblem(v.name)
          }, ` +
            "which Mackerel refuses (allowed: [a-zA-Z0-9._-]); its values are not sent",
        );
        continue;
      }
      if (!v.finite) {
        warnings.warn(`Invalid value: name = ${v.name}, value = ${v.value} is not sent.`);
        continue;
      }
      values.push(
        v.time === undefined ? { name: v.name, value: v.value } : {
          name: v.name,
          value: v.value,
          time: v.time,
        },
      );
    }
    warnings.finish();
    return values;
  }

  return {
    async collect() {
      // Filled as plugins finish; a slot still empty at the plugin's deadline stays empty.
      const got: (readonly PluginMetricValue[] | undefined)[] = [];
      let returned = false;
      await Promise.all(options.plugins.map(async (plugin, i) => {
        // The round waits for a plugin until its own timeout (plus the reaping), or the stop.
        const limit = deadline(Math.max(0, plugin.timeoutSeconds * 1000) + REAP_MARGIN_MS, signal);
        const run = runPlugin(plugin, limit.signal).then(
          (values) => {
            if (!returned) got[i] = values;
            else if (values.length > 0) {
              // It waited for a slot, then finished after its round was handed over.
              log.warn`command ${
                commandString(plugin.command)
              } finished after its round: ${values.length} values dropped`;
            }
          },
          (e) => log.error`command ${commandString(plugin.command)} failed: ${e}`,
        );
        inFlight.add(run);
        run.finally(() => inFlight.delete(run));
        try {
          await raceAbort(run, limit.signal);
        } catch {
          // Given up: a plugin still waiting for a slot gives up its turn with the signal.
        } finally {
          limit.dispose();
        }
      }));
      returned = true;
      return groupByCustomIdentifier(
        options.plugins.map((plugin, i) => ({ plugin, values: got[i] ?? [] })),
      );
    },
    async stop() {
      // The agent is exiting: what still runs is killed, not asked, and reaped for a moment.
      stopping.abort();
      killing.abort();
      await withDeadline(() => Promise.all(inFlight), { ms: REAP_AT_EXIT_MS }).catch(() => {});
    },
  };
}

/** Merges values of plugins sharing a custom identifier (or none), in first-seen order. */
function groupByCustomIdentifier(
  results: readonly { plugin: MetricPluginConfig; values: readonly PluginMetricValue[] }[],
): PluginValues[] {
  const groups = new Map<string | undefined, PluginMetricValue[]>();
  for (const { plugin, values } of results) {
    if (values.length === 0) continue;
    const group = groups.get(plugin.customIdentifier);
    if (group) group.push(...values);
    else groups.set(plugin.customIdentifier, [...values]);
  }
  return [...groups].map(([customIdentifier, values]) =>
    customIdentifier === undefined ? { values } : { customIdentifier, values }
  );
}

interface Semaphore {
  /** Waits for a free slot; false when `signal` aborted first (no slot taken). */
  acquire(signal: AbortSignal): Promise<boolean>;
  release(): void;
}

/** A counting semaphore whose waiters can give up. */
function createSemaphore(size: number): Semaphore {
  let free = size;
  const waiters: (() => void)[] = [];
  return {
    acquire(signal) {
      if (signal.aborted) return Promise.resolve(false);
      if (free > 0) {
        free--;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        const grant = () => {
          signal.removeEventListener("abort", giveUp);
          resolve(true);
        };
        const giveUp = () => {
          waiters.splice(waiters.indexOf(grant), 1);
          resolve(false);
        };
        waiters.push(grant);
        signal.addEventListener("abort", giveUp, { once: true });
      });
    },
    release() {
      const next = waiters.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else free++;
    },
  };
}
