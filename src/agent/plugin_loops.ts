/**
 * The plugin loops of the daemon besides metric plugins: graph definitions, checks and metadata.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import type { Config } from "../config/schema.ts";
import { initialDelaySeconds, postDelaySeconds } from "../delivery/delay.ts";
import type { DataSink } from "../delivery/sink.ts";
import { graphDefsFor } from "../metrics/registry.ts";
import { runChecks } from "../plugins/check.ts";
import type { HostResolver } from "../plugins/custom_identifiers.ts";
import { collectGraphDefs } from "../plugins/graph_defs.ts";
import { runMetadata } from "../plugins/metadata.ts";

/** Options of {@linkcode runPluginLoops}. */
export interface PluginLoopsOptions {
  readonly config: Pick<
    Config,
    "diagnostic" | "collectors" | "metricPlugins" | "checkPlugins" | "metadataPlugins"
  >;
  readonly clock: Clock;
  /** Length of the agent's minute in milliseconds. */
  readonly minuteMs: number;
  /** Where graph definitions, check reports and metadata go: the outbox, or stdout. */
  readonly sink: DataSink;
  readonly resolver: HostResolver;
  /** Told how each check (`checks.<name>`) and metadata (`metadata.<name>`) run ended. */
  readonly onRun?: (name: string, error?: string) => void;
  /** Wait half the post delay first, as upstream does at start (not after a reload); true. */
  readonly initialDelay?: boolean;
  /** The stop request. */
  readonly signal: AbortSignal;
}

/**
 * After the initial delay, as upstream: graph definitions once, then the check and metadata loops
 * until the stop.
 */
export async function runPluginLoops(options: PluginLoopsOptions): Promise<void> {
  const { config, clock, minuteMs, sink, signal, resolver } = options;
  if (options.initialDelay ?? true) {
    const delay = agentSecondsToMs(
      initialDelaySeconds(await postDelaySeconds(resolver.hostId)),
      minuteMs,
    );
    await clock.sleep(delay, signal);
    if (signal.aborted) return;
  }
  const defs = [
    ...graphDefsFor(config),
    ...await collectGraphDefs(config.metricPlugins, { signal }),
  ];
  if (signal.aborted) return;
  // Also when there are none: the first metrics wait for them, as upstream's do.
  await sink.putGraphDefs(defs);
  await Promise.all([
    config.checkPlugins.length > 0
      ? runChecks({
        checks: config.checkPlugins,
        hostIdFor: resolver.hostIdFor,
        clock,
        minuteMs,
        sink,
        onRun: (name, error) => options.onRun?.(`checks.${name}`, error),
        signal,
      })
      : Promise.resolve(),
    config.metadataPlugins.length > 0
      ? runMetadata({
        plugins: config.metadataPlugins,
        sink,
        hostId: resolver.hostId,
        clock,
        minuteMs,
        onRun: (name, error) => options.onRun?.(`metadata.${name}`, error),
        signal,
      })
      : Promise.resolve(),
  ]);
}
