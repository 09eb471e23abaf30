/**
 * The daemon: wires collectors, the scheduler, the post queue, the host spec and the signals.
 *
 * With an API key it registers the host and posts to Mackerel; without one it prints the host
 * spec and every batch as JSON lines on stdout (a deliberate difference: upstream refuses to start).
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { describeHost } from "../host/describe.ts";
import type { Source } from "../host/source.ts";
import { logger } from "../log.ts";
import type { MackerelClient } from "../mackerel/client.ts";
import type { HostStatus } from "../mackerel/api_types.ts";
import { isNetworkError } from "../mackerel/errors.ts";
import type { MetricPoint } from "../mackerel/types.ts";
import type { Collector } from "../metrics/collector.ts";
import { createCollectors } from "../metrics/collectors.ts";
import { createDiagnosticCollector, DIAGNOSTIC_GRAPH_DEFS } from "../metrics/diagnostic.ts";
import { collectRound } from "../metrics/round.ts";
import { REVISION, VERSION } from "../version.ts";
import { clientFor } from "./api.ts";
import { type Clock, realClock } from "./clock.ts";
import { postDelaySeconds, postTimings } from "./delay.ts";
import { createPidfile, removePidfile } from "./pidfile.ts";
import { createPostQueue } from "./queue.ts";
import { createPoster } from "./poster.ts";
import { prepareHost, RegistrationError } from "./registration.ts";
import { runScheduler } from "./scheduler.ts";
import { handleSignals, type Shutdown } from "./shutdown.ts";
import { runSpecUpdater } from "./spec_updater.ts";

/** Options of {@linkcode runDaemon}. */
export interface DaemonOptions {
  readonly config: Config;
  readonly source: Source;
  /** Length of the agent's minute (`-interval`), in milliseconds. */
  readonly minuteMs: number;
  readonly clock?: Clock;
  /** Registration retry delay (upstream: 3 s); tests shrink it. */
  readonly retryDelayMs?: number;
}

/** Runs the daemon until a stop signal; returns the process exit code. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const { config } = options;
  const log = logger("main");
  log.info(
    `Starting mackerel-agent version:${VERSION}, rev:${REVISION}, apibase:${config.apibase}`,
  );
  try {
    await createPidfile({ path: config.pidfile });
  } catch (error) {
    log.error(`pidfile.Create("${config.pidfile}") failed: ${messageOf(error)}`);
    return 1;
  }
  try {
    return await (config.apikey === "" ? runToStdout(options) : runPosting(options));
  } finally {
    await removePidfile({ path: config.pidfile });
  }
}

async function systemCollectors(options: DaemonOptions): Promise<Collector[]> {
  const { collectors } = await createCollectors({ source: options.source, config: options.config });
  return options.config.diagnostic ? [...collectors, createDiagnosticCollector()] : [...collectors];
}

/** No API key: print the spec once and every batch as one JSON line. */
async function runToStdout(options: DaemonOptions): Promise<number> {
  const clock = options.clock ?? realClock;
  logger("main").warn(
    "apikey is not configured: printing the host spec and each batch to stdout instead of posting",
  );
  const collectors = await systemCollectors(options);
  const host = await describeHost({ config: options.config, source: options.source });
  printLine({ host });
  const shutdown = handleSignals({ graceMs: postTimings(options.minuteMs).maxTerminatingMs });
  try {
    await runScheduler({
      clock,
      minuteMs: options.minuteMs,
      signal: shutdown.stop,
      round: async (timeMs) => {
        const time = Math.floor(timeMs / 1000);
        const values = await collectRound(collectors, {
          deadlineMs: collectorDeadline(options.minuteMs),
        });
        if (values.length > 0) printLine({ metrics: values.map((v) => ({ ...v, time })) });
      },
    });
    return 0;
  } finally {
    shutdown.dispose();
  }
}

const encoder = new TextEncoder();

function printLine(value: unknown): void {
  const bytes = encoder.encode(JSON.stringify(value) + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** With an API key: register, then collect and post until stopped. */
async function runPosting(options: DaemonOptions): Promise<number> {
  const { config, source } = options;
  const clock = options.clock ?? realClock;
  const log = logger("command");
  const client = clientFor(config);
  try {
    const collectors = await systemCollectors(options);
    const payload = await describeHost({ config, source });
    let hostId: string;
    try {
      // Signals are installed only after registration, as upstream: a TERM while registration
      // retries ends the process at once.
      const host = await prepareHost({
        api: client,
        root: config.root,
        payload,
        onStart: config.hostStatus.onStart,
        clock,
        retryDelayMs: options.retryDelayMs,
      });
      hostId = host.id;
      log.info(
        `Start: apibase = ${config.apibase}, hostName = ${payload.name}, hostID = ${hostId}`,
      );
    } catch (error) {
      if (!(error instanceof RegistrationError)) throw error;
      logger("main").error(error.message);
      return 1;
    }
    return await postUntilStopped({ ...options, clock, client, collectors, hostId });
  } finally {
    client.close();
  }
}

interface LoopOptions extends DaemonOptions {
  readonly clock: Clock;
  readonly client: MackerelClient;
  readonly collectors: readonly Collector[];
  readonly hostId: string;
}

async function postUntilStopped(options: LoopOptions): Promise<number> {
  const { config, source, minuteMs, clock, client, collectors, hostId } = options;
  const log = logger("agent");
  const timings = postTimings(minuteMs);
  const refresh = new EventTarget();
  const shutdown: Shutdown = handleSignals({
    graceMs: timings.maxTerminatingMs,
    onHangup: () => refresh.dispatchEvent(new Event("refresh")),
  });
  // The poster stops only after the scheduler has handed over the rounds still in progress.
  const collectionDone = new AbortController();
  const queue = createPostQueue({ postDelaySeconds: await postDelaySeconds(hostId), minuteMs });
  const poster = createPoster({
    queue,
    post: (points, signal) => client.postMetrics(points, signal),
    isNetworkError,
    signal: collectionDone.signal,
    force: shutdown.force,
    clock,
  });
  try {
    if (config.diagnostic) {
      client.createGraphDefs(DIAGNOSTIC_GRAPH_DEFS).catch((error) => {
        logger("command").error(`Failed to create graph definitions: ${messageOf(error)}`);
      });
    }
    const scheduler = runScheduler({
      clock,
      minuteMs,
      signal: shutdown.stop,
      force: shutdown.force,
      round: async (timeMs) => {
        const time = Math.floor(timeMs / 1000);
        const values = await collectRound(collectors, {
          deadlineMs: collectorDeadline(options.minuteMs),
        });
        const points: MetricPoint[] = values.map((v) => ({
          hostId,
          name: v.name,
          time,
          value: v.value,
        }));
        if (points.length === 0) return;
        log.debug(`Enqueued ${points.length} points of ${time}`);
        poster.enqueue(points);
      },
    }).finally(() => collectionDone.abort());
    const specUpdates = runSpecUpdater({
      clock,
      periodMs: 60 * minuteMs,
      refresh,
      signal: shutdown.stop,
      update: async () => {
        await client.updateHost(hostId, await describeHost({ config, source }));
      },
    });
    const [result] = await Promise.all([poster.run(), scheduler, specUpdates]);
    if (result === "forced") {
      logger("main").error("received terminate instruction again. force return");
      return 1;
    }
    if (config.hostStatus.onStop !== "") {
      try {
        // Not validated locally, as upstream: the API answers a wrong status with an error.
        const status = config.hostStatus.onStop as HostStatus;
        await client.updateHostStatus(hostId, status, shutdown.force);
      } catch (error) {
        logger("main").error(`Failed update host status on stop: ${messageOf(error)}`);
      }
    }
    return 0;
  } finally {
    shutdown.dispose();
  }
}

/** A collector may take half the minute, at most 30 s, so rounds cannot pile up. */
function collectorDeadline(minuteMs: number): number {
  return Math.min(30_000, minuteMs / 2);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
