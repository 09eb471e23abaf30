/**
 * The work a configuration asks for: the system collectors, the metric plugins, the check,
 * metadata and graph-definition loops, and the hosts custom identifiers stand for. A reload swaps
 * it part by part while the scheduler, the outbox and the spool run on: a round in progress
 * finishes with what it started with, the next one uses the new set, and a collector whose
 * settings did not change keeps its previous sample, so no rate is lost.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import { changed } from "../config/reload_effects.ts";
import type { Config } from "../config/schema.ts";
import type { DataSink } from "../delivery/sink.ts";
import type { Source } from "../host/source.ts";
import { errorMessage, logger } from "../log.ts";
import type { MetricPoint } from "../mackerel/types.ts";
import type { AgentHealth } from "../metrics/agent_figures.ts";
import type { RoundFilesystems } from "../metrics/filesystem_listing.ts";
import type { CollectedRound } from "../otlp/pipeline.ts";
import type { Collector } from "../metrics/collector.ts";
import { createCollectors } from "../metrics/registry.ts";
import { collectRound } from "../metrics/round.ts";
import type { HostResolver } from "../plugins/custom_identifiers.ts";
import { createMetricPlugins, type MetricPlugins } from "../plugins/metric.ts";
import { runPluginLoops } from "./plugin_loops.ts";

/** Options of {@linkcode createWorkload}. */
export interface WorkloadOptions {
  readonly config: Config;
  readonly source: Source;
  readonly clock: Clock;
  /** Length of the agent's minute in milliseconds. */
  readonly minuteMs: number;
  /** Where plugin results go. */
  readonly sink: DataSink;
  /** The hosts of a config's custom identifiers (API lookups, or none in stdout mode). */
  readonly resolve: (config: Config) => Promise<HostResolver>;
  /** Told how each collector (`collectors`) and plugin (`plugins`) run ended: the status file. */
  readonly onRun?: (group: "collectors" | "plugins", name: string, error?: unknown) => void;
  /** The agent's stop: ends the plugin loops and running plugins. */
  readonly signal: AbortSignal;
  /** The daemon's figures of its own health, for the `agent` collector. */
  readonly health?: () => AgentHealth;
  /** Another reader of each round (`[otlp]`), sharing the collectors' filesystem listing. */
  readonly observer?: RoundObserver;
}

/** A reader of each round beside the collectors (`[otlp]`). */
export interface RoundObserver {
  /** The round's filesystem listing, shared with the collectors. */
  readonly filesystems: RoundFilesystems;
  /** Told what each round collected, before it is handed over. */
  observe(round: CollectedRound): Promise<void>;
}

/** The configured work of the agent. */
export interface Workload {
  /** The configuration in force. */
  readonly config: Config;
  /** One round scheduled at `timeMs`, as points for the API. */
  collect(timeMs: number): Promise<MetricPoint[]>;
  /** Runs the plugin loops until the stop (after the initial delay, as upstream). */
  run(): Promise<void>;
  /** Puts `next` in force; resolves to the parts that changed (for the log). */
  apply(next: Config): Promise<string[]>;
  /** The names of the collectors in use. */
  collectorNames(): string[];
  /** Waits for every metric plugin still running, of this and of replaced sets. */
  stop(): Promise<void>;
}

/** Builds the work of `options.config`; {@linkcode Workload.run} starts its plugin loops. */
export async function createWorkload(options: WorkloadOptions): Promise<Workload> {
  const { source, clock, minuteMs, sink, signal } = options;
  const log = logger("agent");
  let config = options.config;
  const { health } = options;
  const filesystems = options.observer?.filesystems;
  let collectors = (await createCollectors({ source, config, filesystems, health })).collectors;
  let resolver = await options.resolve(config);
  const newPlugins = (c: Config) =>
    createMetricPlugins({
      plugins: c.metricPlugins,
      signal,
      onRun: (name, error) => options.onRun?.("plugins", `metrics.${name}`, error),
    });
  let plugins = newPlugins(config);
  const allPlugins: MetricPlugins[] = [plugins];
  let loops: { stop: AbortController; done: Promise<void> } | undefined;
  let running = false;

  const startLoops = (initialDelay: boolean) => {
    const stop = new AbortController();
    const done = runPluginLoops({
      config,
      clock,
      minuteMs,
      sink,
      resolver,
      initialDelay,
      onRun: (name, error) => options.onRun?.("plugins", name, error),
      signal: AbortSignal.any([signal, stop.signal]),
    }).catch((error) => log.error(`plugin loops failed: ${errorMessage(error)}`));
    loops = { stop, done };
  };

  return {
    get config() {
      return config;
    },
    async collect(timeMs) {
      // The set in force when the round starts serves the whole round.
      const [system, metric, hosts] = [collectors, plugins, resolver];
      const time = Math.floor(timeMs / 1000);
      const [values, groups] = await Promise.all([
        collectRound(system, {
          timeMs,
          deadlineMs: Math.min(30_000, minuteMs / 2),
          onResult: (name, error) => options.onRun?.("collectors", name, error),
        }),
        metric.collect(),
      ]);
      const points: MetricPoint[] = values.map((v) => ({
        hostId: hosts.hostId,
        name: v.name,
        time: v.time ?? time,
        value: v.value,
      }));
      for (const group of groups) {
        const hostId = hosts.hostIdOrDrop(
          group.customIdentifier,
          group.values.length,
          "metric values",
        );
        if (hostId === undefined) continue;
        for (const v of group.values) {
          points.push({ hostId, name: v.name, time: v.time ?? time, value: v.value });
        }
      }
      if (options.observer) {
        const fromPlugins = points.slice(values.length);
        await options.observer.observe({ timeMs, system: values, plugins: fromPlugins });
      }
      return points;
    },
    async run() {
      running = true;
      startLoops(true);
      // A reload may replace the loops: wait for whichever runs at the stop.
      while (loops) {
        const current = loops;
        await current.done;
        if (loops === current) break;
      }
    },
    async apply(next) {
      // What each changed key asks for is declared with the key (config/sections.ts).
      const parts: string[] = [];
      const settings = changed("collector settings", config, next);
      if (settings || changed("collectors", config, next)) {
        const fresh =
          (await createCollectors({ source, config: next, filesystems, health })).collectors;
        // Unchanged settings: keep the built collectors (and their previous samples) by name.
        const kept = settings
          ? new Map<string, Collector>()
          : new Map(collectors.map((c) => [c.name, c]));
        collectors = fresh.map((c) => kept.get(c.name) ?? c);
        parts.push("collectors");
      }
      if (changed("custom identifiers", config, next)) {
        resolver = await options.resolve(next);
        parts.push("custom identifiers");
      }
      if (changed("metric plugins", config, next)) {
        plugins = newPlugins(next);
        allPlugins.push(plugins);
        parts.push("metric plugins");
      }
      const restartLoops = changed("plugin loops", config, next) ||
        parts.includes("custom identifiers");
      config = next;
      if (restartLoops && running && loops) {
        const old = loops;
        startLoops(false);
        old.stop.abort();
        await old.done;
        parts.push("check, metadata and graph definition loops");
      }
      return parts;
    },
    collectorNames: () => collectors.map((c) => c.name),
    async stop() {
      await Promise.all(allPlugins.map((p) => p.stop()));
    },
  };
}
