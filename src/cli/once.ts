/**
 * `once`: describes the host and collects one round of metrics, printed as one JSON document.
 *
 * Deliberately flatter than upstream's Go-shaped `Created`/`Values` output:
 * `{"host": <create-host payload>, "metrics": [{"name", "value", "time"}, ...], "checks": [...]}`.
 * Like upstream it needs no config file and no API key, and rates cover a 1 s window; unlike
 * upstream it also runs every check plugin once (`-skip-checks` leaves them, and the key, out).
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { describeHost } from "../host/describe.ts";
import { createSource, type Source } from "../host/source.ts";
import type { HostPayload } from "../mackerel/types.ts";
import type { ParsedFlags } from "./flags.ts";
import { errorMessage, logger } from "../log.ts";
import type { MetricValue } from "../metrics/collector.ts";
import { createCollectors } from "../metrics/registry.ts";
import { abortableSleep } from "../async/clock.ts";
import { collectRound } from "../metrics/round.ts";
import { runCheckOnce } from "../plugins/check.ts";
import { collectGraphDefs } from "../plugins/graph_defs.ts";
import { createMetricPlugins } from "../plugins/metric.ts";
import { commonOptions, rootProblem } from "./options.ts";
import { resolveConfigOrDefaults } from "./resolve.ts";

/** One metric of the `once` document. */
export interface OnceMetric extends MetricValue {
  /** Unix seconds: the round's, or the plugin's own with `use_plugin_timestamp`. */
  readonly time: number;
  /** The plugin's `custom_identifier`: the value belongs to that host. */
  readonly customIdentifier?: string;
}

/** One check result of the `once` document. */
export interface OnceCheck {
  readonly name: string;
  readonly status: string;
  readonly message: string;
  readonly occurredAt: number;
}

/**
 * The host part of the document: the create-host payload, but `roleFullnames` is `null` where
 * upstream's `once` has Go's nil slice: when it read no config file and no role was given.
 */
export type OnceHost = Omit<HostPayload, "roleFullnames"> & {
  readonly roleFullnames: readonly string[] | null;
};

/** The document `once` prints. */
export interface OnceDocument {
  readonly host: OnceHost;
  readonly metrics: readonly OnceMetric[];
  /** Every check plugin run once (upstream's `once` runs none); absent with `-skip-checks`. */
  readonly checks?: readonly OnceCheck[];
}

/** Options of {@linkcode collectOnce}. */
export interface CollectOnceOptions {
  readonly config: Config;
  readonly source: Source;
  /** The window of rate metrics; 1 s as upstream's `once`. */
  readonly windowMs?: number;
  /** Run every check plugin once and report the results under `checks`; true by default. */
  readonly runChecks?: boolean;
}

/** Collects the host spec and one round of metrics (two samples `windowMs` apart). */
export async function collectOnce(options: CollectOnceOptions): Promise<OnceDocument> {
  const { config, source } = options;
  const { collectors } = await createCollectors({ source, config });
  const hostPromise = describeHost({ config, source });
  const metricPlugins = createMetricPlugins({ plugins: config.metricPlugins });
  try {
    // Upstream runs metric plugins in meta mode first; the definitions are not printed.
    const meta = collectGraphDefs(config.metricPlugins);
    const checks = options.runChecks ?? true
      ? Promise.all(config.checkPlugins.map(async (check) => {
        const { status, message, occurredAt } = await runCheckOnce(check);
        return { name: check.name, status, message, occurredAt };
      }))
      : undefined;
    // Rate collectors need a baseline: take it at t0, then the round at exactly t0 + window, so
    // rates are divided by the nominal window (upstream's whole numbers) and stamped with t0.
    const windowMs = options.windowMs ?? 1000;
    const t0 = Date.now();
    await collectRound(collectors, { timeMs: t0 });
    await abortableSleep(t0 + windowMs - Date.now());
    const timeMs = t0 + windowMs;
    const time = Math.floor(timeMs / 1000);
    const [values, pluginValues, host] = await Promise.all([
      collectRound(collectors, { timeMs }),
      metricPlugins.collect(),
      hostPromise,
    ]);
    const metrics: OnceMetric[] = values.map((v) => ({
      name: v.name,
      value: v.value,
      time: v.time ?? time,
    }));
    for (const group of pluginValues) {
      const about = group.customIdentifier ? { customIdentifier: group.customIdentifier } : {};
      for (const v of group.values) {
        metrics.push({ name: v.name, value: v.value, time: v.time ?? time, ...about });
      }
    }
    await meta;
    return checks ? { host, metrics, checks: await checks } : { host, metrics };
  } finally {
    await metricPlugins.stop();
  }
}

/** Runs `once` and returns the exit code. */
export async function runOnce(parsed: ParsedFlags): Promise<number> {
  const options = commonOptions(parsed);
  // As upstream: any config problem, a missing default file included, is a warning, not an error.
  const { config, problem } = await resolveConfigOrDefaults(options);
  if (problem !== undefined) {
    logger("main").warn(
      `failed to load config (but \`once\` must not required conf): ${errorMessage(problem)}`,
    );
  }
  const badRoot = await rootProblem(options);
  if (badRoot) {
    console.error(badRoot);
    return 1;
  }
  const document = await collectOnce({
    config,
    source: createSource(options),
    runChecks: parsed.values.get("skip-checks") !== true,
  });
  // Upstream's roles are a Go slice made only while a config file is read; without one it is nil.
  const nilRoles = problem !== undefined && config.roles.length === 0;
  console.log(
    JSON.stringify(
      nilRoles ? { ...document, host: { ...document.host, roleFullnames: null } } : document,
    ),
  );
  return 0;
}
