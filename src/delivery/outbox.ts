/**
 * The outbox: every write to the API that carries collected data - metric rounds, check reports,
 * metadata, graph definitions - goes through it. Producers hand data over (`put...`); it is kept in
 * the spool (on disk under `<root>/spool/`) before the put resolves, and three senders take it
 * from there under one policy (./policy.ts): the metric post loop with upstream's states and
 * pacing (./poster.ts), the check report sender (./check_sender.ts) and the state sender for
 * metadata and graph definitions (./state_sender.ts). What an earlier run left is sent first.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import { errorMessage, logger } from "../log.ts";
import type { CheckReport, GraphDef } from "../mackerel/api_types.ts";
import type { MackerelClient } from "../mackerel/client.ts";
import { encodeMetricPoints } from "../mackerel/json.ts";
import { createCheckSender } from "./check_sender.ts";
import type { DeliveryEvents } from "./events.ts";
import type { RecordKind } from "./record.ts";
import { createPoster, type PosterResult } from "./poster.ts";
import { createPostQueue } from "./queue.ts";
import type { DataSink, MetadataValue } from "./sink.ts";
import { describeRecords, type Spool, type SpoolEntry, type SpoolStats } from "./spool.ts";
import { createStateSender } from "./state_sender.ts";
import { createPointFilter } from "./validate.ts";

/** The API calls the outbox makes. */
export type OutboxClient = Pick<
  MackerelClient,
  "postMetricsJson" | "reportCheckMonitors" | "putMetadata" | "createGraphDefs"
>;

/** Options of {@linkcode createOutbox}. */
export interface OutboxOptions {
  readonly spool: Spool;
  readonly client: OutboxClient;
  /** Seconds past the minute this host posts at (`postDelaySeconds` of ./delay.ts). */
  readonly postDelaySeconds: number;
  /** The agent's minute in ms. */
  readonly minuteMs: number;
  readonly clock: Clock;
  /** Configured check plugins: sizes the check sender's pause rule. */
  readonly checkCount: number;
  /** Told every outcome of a write to the API (the status file). */
  readonly events?: DeliveryEvents;
  /** A metadata value the API refused: its plugin's cache is cleared so it is sent again. */
  readonly onMetadataRefused?: (namespace: string) => void | Promise<void>;
  /**
   * Senders of other kinds over the same spool (the `[otlp]` exports), run beside these and
   * awaited before the spool closes.
   */
  readonly senders?: readonly Sender[];
}

/** A sender of one kind of record: runs until `stop`, sends once more, ends at `force`. */
export interface Sender {
  run(stop: AbortSignal, force: AbortSignal): Promise<void>;
}

/** What the outbox holds and has done, for the status file. */
export interface OutboxStats {
  readonly spool: SpoolStats;
  /** Rounds waiting for the metric post loop. */
  readonly queuedRounds: number;
  readonly queuedPoints: number;
  /** Points dropped before they were kept: names or values the API would refuse. */
  readonly invalidPoints: number;
}

/** The outbox: a {@linkcode DataSink} whose senders run until told to stop. */
export interface Outbox extends DataSink {
  /**
   * Runs the senders until `stop` aborts (every producer has handed over its last data) and what
   * can be posted is posted; `force` ends at once. What is left stays in the spool.
   */
  run(stop: AbortSignal, force: AbortSignal): Promise<PosterResult>;
  stats(): OutboxStats;
}

const log = logger("command");
const encoder = new TextEncoder();

/** Creates the outbox over an opened spool; rounds the spool holds are queued oldest first. */
export function createOutbox(options: OutboxOptions): Outbox {
  const { spool, client, clock, minuteMs } = options;
  const queue = createPostQueue<SpoolEntry>({
    postDelaySeconds: options.postDelaySeconds,
    minuteMs,
  });
  // Upstream posts the graph definitions before its first metrics: the first POST waits until
  // they are settled (none, posted, failed or refused), a minute at most.
  const graphDefs = Promise.withResolvers<void>();
  const settled = (kind: RecordKind) => kind === "graphdefs" && graphDefs.resolve();
  const events: DeliveryEvents = {
    delivered: (kind, n) => (settled(kind), options.events?.delivered(kind, n)),
    failed: (kind, e) => (settled(kind), options.events?.failed(kind, e)),
    refused: (kind, n, e) => (settled(kind), options.events?.refused(kind, n, e)),
  };
  const poster = createPoster({
    queue,
    spool,
    post: (json, signal) => client.postMetricsJson(json, signal),
    clock,
    events,
    firstPostAfter: graphDefs.promise,
  });
  const checks = createCheckSender({
    spool,
    send: (reports, signal) => client.reportCheckMonitors(reports, signal),
    clock,
    minuteMs,
    checkCount: options.checkCount,
    events: options.events,
  });
  const states = createStateSender({
    spool,
    clock,
    minuteMs,
    events,
    send: (kind, value, signal) => {
      if (kind === "graphdefs") return client.createGraphDefs(value as GraphDef[], signal);
      const { hostId, namespace, value: data } = value as MetadataValue;
      return client.putMetadata(hostId, namespace, data, signal);
    },
    describe: (kind, value) =>
      kind === "graphdefs"
        ? "posting graph definitions"
        : `put metadata "${(value as MetadataValue).namespace}"`,
    onRefused: (kind, value) =>
      kind === "metadata"
        ? options.onMetadataRefused?.((value as MetadataValue).namespace)
        : undefined,
  });
  const filter = createPointFilter();
  let invalidPoints = 0;

  const left = spool.entries();
  if (left.length > 0) {
    log.info(`Posting what an earlier run left in the spool: ${describeRecords(left)}`);
  }
  for (const entry of spool.entries("metrics")) poster.enqueue(entry);
  // Left by a run with [otlp] on, and nobody to send them: they wait for one (or the bounds).
  const orphans = options.senders === undefined || options.senders.length === 0
    ? spool.entries("otlp")
    : [];
  if (orphans.length > 0) {
    log.warn(`${describeRecords(orphans)} wait in the spool for [otlp], which is off`);
  }

  return {
    async putMetrics(points) {
      const valid = filter(points);
      invalidPoints += points.length - valid.length;
      if (valid.length === 0) return;
      const entry = await spool.put({
        kind: "metrics",
        body: encoder.encode(encodeMetricPoints(valid)),
        count: valid.length,
      });
      poster.enqueue(entry);
    },
    putCheckReport: (report: CheckReport) => checks.put(report),
    wakeChecks: () => checks.wake(),
    putMetadata: (metadata: MetadataValue) =>
      states.put("metadata", `${metadata.hostId}/${metadata.namespace}`, metadata),
    putGraphDefs(defs: readonly GraphDef[]) {
      if (defs.length > 0) return states.put("graphdefs", "", defs, true);
      graphDefs.resolve();
      return Promise.resolve();
    },
    async run(stop, force) {
      try {
        const [result] = await Promise.all([
          poster.run(stop, force),
          checks.run(stop, force).catch((e) => log.error(`check sender: ${errorMessage(e)}`)),
          states.run(stop, force).catch((e) => log.error(`state sender: ${errorMessage(e)}`)),
          ...(options.senders ?? []).map((sender) =>
            sender.run(stop, force).catch((e) => log.error(`sender: ${errorMessage(e)}`))
          ),
        ]);
        return result;
      } finally {
        await spool.close();
      }
    },
    stats: () => {
      // The queue may still list rounds the spool's bounds dropped; count only the kept ones.
      const waiting = queue.waiting().filter((e) => spool.has(e.id));
      return {
        spool: spool.stats(),
        queuedRounds: waiting.length,
        queuedPoints: waiting.reduce((n, e) => n + e.count, 0),
        invalidPoints,
      };
    },
  };
}
