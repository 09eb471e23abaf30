/**
 * The daemon: wires collectors, plugins, the scheduler, the post queue, the host spec, checks,
 * metadata and the signals.
 *
 * With an API key it registers the host and posts to Mackerel through the outbox; without one
 * (only with `-stdout`: otherwise the command refuses to start, as upstream) it prints the host
 * spec and every batch as JSON lines on stdout.
 *
 * @module
 */
import { join } from "../file_path.ts";
import type { Config } from "../config/schema.ts";
import { describeHost } from "../host/describe.ts";
import type { Source } from "../host/source.ts";
import { errorMessage, logger } from "../log.ts";
import type { HostStatus } from "../mackerel/api_types.ts";
import { EXIT_CONFIG } from "../exit_codes.ts";
import type { HostPayload } from "../mackerel/types.ts";
import {
  createHostResolver,
  type HostResolver,
  listCustomIdentifiers,
  resolveCustomIdentifiers,
} from "../plugins/custom_identifiers.ts";
import { REVISION, VERSION } from "../version.ts";
import { clientFor } from "./api.ts";
import { type Clock, realClock } from "../async/clock.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import { postDelaySeconds, postTimings } from "../delivery/delay.ts";
import { createOutbox } from "../delivery/outbox.ts";
import type { PosterResult } from "../delivery/poster.ts";
import type { DataSink } from "../delivery/sink.ts";
import { refusedForGood } from "../delivery/policy.ts";
import { openSpool } from "../delivery/spool.ts";
import {
  lockSpool,
  type SpoolLock,
  SpoolLockedError,
  type Unlockable,
} from "../delivery/spool_lock.ts";
import { aborted, afterAbort, raceAbort } from "../async/abort.ts";
import { clearMetadataCache } from "../plugins/metadata.ts";
import { claimPidfile, removePidfile } from "./pidfile.ts";
import { prepareHost, RegistrationError } from "./registration.ts";
import { runScheduler } from "./scheduler.ts";
import { handleSignals, type Shutdown } from "./shutdown.ts";
import { watchExecutable } from "./self_update.ts";
import { runSpecUpdater } from "./spec_updater.ts";
import { createReloader } from "./reload.ts";
import { createStatus, type Status } from "./status.ts";
import { createWorkload, type RoundObserver, type Workload } from "./workload.ts";
import { startOtlpIfOn } from "./otlp.ts";
import { createHealthTracker, type HealthTracker } from "./health.ts";
import { stdoutSink } from "../delivery/stdout_sink.ts";

/** Options of {@linkcode runDaemon}. */
export interface DaemonOptions {
  readonly config: Config;
  readonly source: Source;
  /** Length of the agent's minute (`-interval`), in milliseconds. */
  readonly minuteMs: number;
  readonly clock?: Clock;
  /** Registration retry delay (upstream: 3 s); tests shrink it. */
  readonly retryDelayMs?: number;
  /** `-private-autoshutdown`: stop gracefully once the executable is replaced. */
  readonly autoshutdown?: boolean;
  /** Reads and checks the configuration again, for SIGHUP; without it HUP only refreshes the spec. */
  readonly reloadConfig?: () => Promise<Config>;
}

/** Runs the daemon until a stop signal; returns the process exit code. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const { config } = options;
  const log = logger("main");
  // Signals first: from here on a stop is a clean stop, in every phase of the start.
  let onHangup = () => {};
  const shutdown = handleSignals({
    graceMs: postTimings(options.minuteMs).maxTerminatingMs,
    onHangup: () => onHangup(),
  });
  try {
    log.info(
      `Starting mackerel-agent version:${VERSION}, rev:${REVISION}, apibase:${config.apibase}`,
    );
    if (!await claimPidfile(config.pidfile)) return 1;
    try {
      if (config.apikey === "") {
        log.warn(
          "apikey is not configured: printing the host spec and each batch to stdout instead of " +
            "posting",
        );
      }
      const payload = await untilStopped(
        describeHost({ config, source: options.source }),
        shutdown,
      );
      if (payload === STOPPED) return stoppedEarly("before the host was described");
      const context: Context = {
        ...options,
        clock: options.clock ?? realClock,
        payload,
        shutdown,
        onHangup: (fn) => onHangup = fn,
      };
      return config.apikey === "" ? await runToStdout(context) : await runPosting(context);
    } finally {
      await removePidfile({ path: config.pidfile });
    }
  } finally {
    shutdown.dispose();
  }
}

const STOPPED = Symbol("stopped");

/** `promise`, or {@linkcode STOPPED} as soon as a stop is asked for. */
async function untilStopped<T>(
  promise: Promise<T>,
  shutdown: Shutdown,
): Promise<T | typeof STOPPED> {
  try {
    return await raceAbort(promise, shutdown.stop);
  } catch (error) {
    if (shutdown.stop.aborted) return STOPPED;
    throw error;
  }
}

/** A stop during the start: nothing was collected yet, so nothing is lost; exit 0. */
function stoppedEarly(when: string): number {
  logger("main").info(`Stopped ${when}; nothing was collected`);
  return 0;
}

interface Context extends DaemonOptions {
  readonly clock: Clock;
  readonly payload: HostPayload;
  readonly shutdown: Shutdown;
  /** Sets what a SIGHUP does, once the work it reloads exists. */
  readonly onHangup: (fn: () => void) => void;
}

/** No API key: print the spec once, then every batch, check report and metadata as JSON lines. */
async function runToStdout(context: Context): Promise<number> {
  if (context.config.otlp.enabled) {
    logger("otlp").warn("[otlp] is off without an API key: it sends beside the Mackerel API");
  }
  const sink = stdoutSink();
  sink.printHost(context.payload);
  const noHosts = createHostResolver("", new Map());
  const status = createStatus({
    root: context.config.root,
    clock: context.clock,
    minuteMs: context.minuteMs,
    mode: "stdout",
  });
  const health = createHealthTracker({ clock: context.clock, status: status.document });
  const { code } = await runLoops({
    ...context,
    sink,
    status,
    health,
    resolve: () => Promise.resolve(noHosts),
  });
  return code;
}

/** With an API key: take the spool, register, then collect and post until stopped. */
async function runPosting(context: Context): Promise<number> {
  const { config } = context;
  const spoolDir = join(config.root, "spool");
  const lock = await takeSpool(spoolDir, context);
  if (lock === STOPPED) return stoppedEarly("while waiting for the spool");
  if (lock instanceof SpoolLockedError) {
    console.error(
      `${lock.message}: two agents on one root would lose or repeat each other's data; ` +
        "stop the other one, or give each its own -root",
    );
    return 1;
  }
  const client = clientFor(config);
  try {
    const registered = await register(context, client);
    if (typeof registered === "number") return registered;
    return await postUntilStopped(context, client, registered.id, { dir: spoolDir, owner: lock });
  } finally {
    client.close();
    if ("release" in lock) lock.release();
  }
}

/** Takes the spool's lock, waiting for an agent that is still stopping; what came of it. */
async function takeSpool(
  dir: string,
  context: Context,
): Promise<SpoolLock | Unlockable | SpoolLockedError | typeof STOPPED> {
  const waitMs = postTimings(context.minuteMs).maxTerminatingMs +
    agentSecondsToMs(5, context.minuteMs);
  try {
    return await lockSpool(dir, {
      waitMs,
      signal: context.shutdown.stop,
      onWait: (holder) =>
        logger("main").warn(
          `the spool in ${dir} is held by another mackerel-agent` +
            `${holder === undefined ? "" : ` (pid ${holder})`}; waiting up to ` +
            `${Math.ceil(waitMs / 1000)} seconds for it to stop`,
        ),
    });
  } catch (error) {
    if (context.shutdown.stop.aborted) return STOPPED;
    if (error instanceof SpoolLockedError) return error;
    throw error;
  }
}

/** Registers the host; its id, or the exit code when that failed or a stop came first. */
async function register(
  context: Context,
  client: ReturnType<typeof clientFor>,
): Promise<{ id: string } | number> {
  const { config, shutdown } = context;
  try {
    // A stop ends the retries; the request under way finishes (a host created but not saved
    // would be created again at the next start), unless the stop is forced.
    const host = await raceAbort(
      prepareHost({
        api: client,
        root: config.root,
        payload: context.payload,
        onStart: config.hostStatus.onStart,
        clock: context.clock,
        retryDelayMs: context.retryDelayMs,
        signal: shutdown.stop,
      }),
      shutdown.force,
    );
    if (shutdown.stop.aborted) return stoppedEarly("once the host was registered");
    logger("command").info(
      `Start: apibase = ${config.apibase}, hostName = ${context.payload.name}, hostID = ${host.id}`,
    );
    return { id: host.id };
  } catch (error) {
    if (shutdown.stop.aborted) return stoppedEarly("before the host was registered");
    if (!(error instanceof RegistrationError)) throw error;
    console.error(`command.Prepare failed: ${error.message}`);
    // A key or host the API refuses does not heal by restarting (src/exit_codes.ts).
    return refusedForGood(error) ? EXIT_CONFIG : 1;
  }
}

/** Opens the spool and runs every loop, posting through the outbox, until stopped. */
async function postUntilStopped(
  context: Context,
  client: ReturnType<typeof clientFor>,
  hostId: string,
  spoolAt: { readonly dir: string; readonly owner: SpoolLock | Unlockable },
): Promise<number> {
  const { config, clock } = context;
  const { spool } = await openSpool({
    dir: spoolAt.dir,
    owner: spoolAt.owner,
    maxBytes: config.spool.maxBytes,
    maxAgeMs: config.spool.maxAgeMinutes * 60_000,
    // The disk is tried again a minute of the agent's after a failure.
    diskRetryMs: context.minuteMs,
    clock,
  });
  // The plugins in force (a reload may change them) say where a refused value is cached.
  let metadataPlugins = config.metadataPlugins;
  const status = createStatus({
    root: config.root,
    clock,
    minuteMs: context.minuteMs,
    mode: "api",
    hostId,
    outbox: () => outbox.stats(),
  });
  const otlp = await startOtlpIfOn({ ...context, spool, hostId, events: status.events });
  const health = createHealthTracker({
    clock,
    outbox: () => outbox.stats(),
    status: status.document,
  });
  const outbox = createOutbox({
    senders: otlp ? [otlp.sender] : undefined,
    events: status.events,
    spool,
    client: health.timed(client),
    postDelaySeconds: await postDelaySeconds(hostId),
    minuteMs: context.minuteMs,
    clock,
    checkCount: config.checkPlugins.length,
    onMetadataRefused: (namespace) => clearMetadataCache(metadataPlugins, namespace),
  });
  const { code, config: last } = await runLoops({
    ...context,
    ...(otlp ? { source: otlp.reads.source, observer: otlp.observer } : {}),
    sink: outbox,
    status,
    health,
    deliver: (stop, force) => outbox.run(stop, force),
    resolve: (c) =>
      resolveCustomIdentifiers({
        client,
        hostId,
        identifiers: listCustomIdentifiers(c.metricPlugins, c.checkPlugins),
      }),
    updateSpec: async (c) => {
      await client.updateHost(hostId, await describeHost({ config: c, source: context.source }));
    },
    onReload: (c) => metadataPlugins = c.metadataPlugins,
  });
  if (code === 0 && last.hostStatus.onStop !== "") {
    try {
      // Not validated locally, as upstream: the API answers a wrong status with an error.
      await client.updateHostStatus(hostId, last.hostStatus.onStop as HostStatus);
    } catch (error) {
      logger("main").error(`Failed update host status on stop: ${errorMessage(error)}`);
    }
  }
  otlp?.close();
  return code;
}

interface LoopOptions extends Context {
  readonly sink: DataSink;
  /** Told what happens; written after every round. */
  readonly status: Status;
  /**
   * Runs delivery until `stop` (every producer is done) and what can be sent is sent, or `force`.
   * Without it (stdout) nothing waits to be sent.
   */
  readonly deliver?: (stop: AbortSignal, force: AbortSignal) => Promise<PosterResult>;
  /** The hosts of a config's custom identifiers. */
  readonly resolve: (config: Config) => Promise<HostResolver>;
  /** Sends the host spec of a config. */
  readonly updateSpec?: (config: Config) => Promise<void>;
  /** Told each new configuration a reload puts in force. */
  readonly onReload?: (config: Config) => void;
  /** The daemon's figures of its own health (the `agent` collector). */
  readonly health: HealthTracker;
  /** Reads each round beside the collectors, sharing their reads (`[otlp]`). */
  readonly observer?: RoundObserver & { round<T>(fn: () => Promise<T>): Promise<T> };
}

/** Runs every loop of the agent until a stop signal; the exit code and the config last in force. */
async function runLoops(options: LoopOptions): Promise<{ code: number; config: Config }> {
  const { clock, minuteMs, sink, shutdown, status } = options;
  const log = logger("agent");
  const refresh = new EventTarget();
  // Delivery stops only after every producer has handed over its last data.
  const producersDone = new AbortController();
  let workload: Workload | undefined;
  try {
    workload = await createWorkload({
      config: options.config,
      source: options.source,
      clock,
      minuteMs,
      sink,
      resolve: options.resolve,
      onRun: (group, name, error) => {
        status.ran(group, name, error);
        options.health.ran(group, name, error);
      },
      health: options.health.health,
      signal: shutdown.stop,
      observer: options.observer,
    });
    const work = workload;
    const observer = options.observer;
    // Written once at start too, so `status` knows the agent before its first round ends.
    await status.write();
    options.onHangup(
      createReloader({
        load: options.reloadConfig,
        workload: work,
        onApplied: (config) => {
          options.onReload?.(config);
          status.retain("collectors", work.collectorNames());
          status.retain("plugins", pluginNames(config));
        },
        // The spec refresh upstream does on HUP follows every reload, applied or not.
        after: () => refresh.dispatchEvent(new Event("refresh")),
      }).reload,
    );
    const delivery = options.deliver?.(producersDone.signal, shutdown.force) ??
      Promise.resolve("drained" as const);
    log.info(
      "The first round sends no cpu, disk or interface values: rates need a second sample, " +
        "a minute later",
    );
    const scheduler = runScheduler({
      clock,
      minuteMs,
      signal: shutdown.stop,
      force: shutdown.force,
      round: async (timeMs) => {
        const points = await (observer
          ? observer.round(() => work.collect(timeMs))
          : work.collect(timeMs));
        if (points.length > 0) {
          await sink.putMetrics(points);
          // Said once the round is kept (on disk with a spool), so tests can count on it.
          log.debug(`Enqueued ${points.length} points of ${Math.floor(timeMs / 1000)}`);
        }
        await status.write();
      },
    });
    const updateSpec = options.updateSpec;
    const specUpdates = updateSpec
      ? runSpecUpdater({
        clock,
        periodMs: 60 * minuteMs,
        refresh,
        signal: shutdown.stop,
        update: () => updateSpec(work.config),
      })
      : Promise.resolve();
    // A plugin that ignores SIGTERM must not hold the stop: the loops get a second of the agent's
    // to hand over what they have, then the stop goes on (their plugins die with the agent).
    const plugins = raceAbort(work.run(), afterAbort(shutdown.stop, agentSecondsToMs(1, minuteMs)))
      .catch(() => {});
    if (options.autoshutdown) {
      watchExecutable({
        clock,
        periodMs: agentSecondsToMs(10, minuteMs),
        onChange: shutdown.requestStop,
        signal: shutdown.stop,
      }).catch((error) => log.warn(`cannot watch the executable: ${errorMessage(error)}`));
    }
    const producers = Promise.all([scheduler, specUpdates, plugins])
      .finally(() => producersDone.abort());
    // A second signal, or the graceful limit, ends the wait whatever is still running.
    const result = await Promise.race([
      Promise.all([delivery, producers]).then(([r]) => r),
      aborted(shutdown.force).then(() => "forced" as const),
    ]);
    await status.stopped();
    if (result === "forced" || shutdown.force.aborted) {
      console.error("received terminate instruction again. force return");
      return { code: 1, config: work.config };
    }
    return { code: 0, config: work.config };
  } finally {
    options.onHangup(() => {});
    await workload?.stop();
  }
}

/** The names the status file keeps plugins under: `<kind>.<name>`. */
function pluginNames(config: Config): string[] {
  return [
    ...config.metricPlugins.map((p) => `metrics.${p.name}`),
    ...config.checkPlugins.map((p) => `checks.${p.name}`),
    ...config.metadataPlugins.map((p) => `metadata.${p.name}`),
  ];
}
