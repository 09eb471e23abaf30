/**
 * What an operator can read about a running agent without `-verbose`: `<root>/status.json`,
 * rewritten atomically after every round, and a few INFO lines - when posting starts failing, when
 * it recovers, and a summary every hour. `mackerel-agent status` reads the file
 * ({@linkcode assessStatus} tells healthy, degraded and stopped apart). No HTTP server: the file is
 * the interface, so the core stays free of `Deno.serve`.
 *
 * @module
 */
import { join } from "node:path";
import type { Clock } from "../async/clock.ts";
import type { DeliveryEvents } from "../delivery/events.ts";
import type { OutboxStats } from "../delivery/outbox.ts";
import { KINDS, RECORD_KINDS, type RecordKind } from "../delivery/record.ts";
import type { SpoolStats } from "../delivery/spool.ts";
import { errorMessage, logger } from "../log.ts";
import { REVISION, VERSION } from "../version.ts";

/** The status file's name under `root`. */
export const STATUS_FILE = "status.json";

/** How the last runs of a collector or plugin went. */
export interface RunStatus {
  readonly runs: number;
  readonly failures: number;
  readonly lastRunAt?: string;
  readonly lastOkAt?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
}

/** How writes of one kind of data (metrics, check reports, metadata, graph definitions) go. */
export interface KindStatus {
  /** Items the API took. */
  readonly delivered: number;
  /** Items the API refused for good (dropped). */
  readonly refused: number;
  readonly lastDeliveredAt?: string;
  readonly lastRefusedAt?: string;
  /** Set while writes of this kind fail (and are retried): since when. */
  readonly failingSince?: string;
}

/** The delivery side of the status. */
export interface DeliveryStatus {
  readonly lastSuccessAt?: string;
  readonly lastErrorAt?: string;
  readonly lastError?: string;
  /** The earliest `failingSince` of the kinds failing now. */
  readonly failingSince?: string;
  readonly kinds: Readonly<Record<RecordKind, KindStatus>>;
  /** Points dropped before they were kept (names or values the API would refuse). */
  readonly invalidPoints: number;
  /** Rounds and points waiting for the metric post loop. */
  readonly queue: { readonly rounds: number; readonly points: number };
  /** What the spool holds and has dropped (full, expired, unreadable). */
  readonly spool?: SpoolStats;
}

/** The content of `status.json`. */
export interface StatusDocument {
  readonly version: string;
  readonly revision: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Set when the agent stopped gracefully. */
  readonly stoppedAt?: string;
  /** The agent's minute in ms (`-interval`): how often the file is rewritten. */
  readonly minuteMs: number;
  /** `api` posts to Mackerel; `stdout` prints (no API key, `-stdout`). */
  readonly mode: "api" | "stdout";
  readonly hostId?: string;
  readonly delivery: DeliveryStatus;
  readonly collectors: Readonly<Record<string, RunStatus>>;
  /** By `metrics.<name>`, `checks.<name>`, `metadata.<name>`. */
  readonly plugins: Readonly<Record<string, RunStatus>>;
}

/** Options of {@linkcode createStatus}. */
export interface StatusOptions {
  /** Where `status.json` goes. */
  readonly root: string;
  readonly clock: Clock;
  readonly minuteMs: number;
  readonly mode: "api" | "stdout";
  readonly hostId?: string;
  /** The outbox's figures (api mode). */
  readonly outbox?: () => OutboxStats;
}

/** The daemon's status: events in, `status.json` and INFO lines out. */
export interface Status {
  /** Delivery outcomes, for the outbox. */
  readonly events: DeliveryEvents;
  /** Records how a collector (`collectors`) or plugin (`plugins`, `<kind>.<name>`) run ended. */
  ran(group: "collectors" | "plugins", name: string, error?: unknown): void;
  /** Forgets the collectors or plugins a reload removed. */
  retain(group: "collectors" | "plugins", names: readonly string[]): void;
  /** Writes `status.json` (and the hourly summary when an hour has passed). */
  write(): Promise<void>;
  /** Writes the file a last time, marked stopped. */
  stopped(): Promise<void>;
  /** The document as it would be written now. */
  document(): StatusDocument;
}

const log = logger("main");

/** Creates the status of a starting daemon. */
export function createStatus(options: StatusOptions): Status {
  const { clock } = options;
  const iso = (ms: number) => new Date(ms).toISOString();
  const startedAt = clock.now();
  const kinds = Object.fromEntries(KINDS.map((k) => [k, { delivered: 0, refused: 0 }])) as Record<
    RecordKind,
    {
      delivered: number;
      refused: number;
      deliveredAt?: number;
      refusedAt?: number;
      since?: number;
    }
  >;
  const runs = { collectors: new Map<string, RunStatus>(), plugins: new Map<string, RunStatus>() };
  let lastSuccess: number | undefined;
  let lastError: { at: number; message: string } | undefined;
  /** Delivered since the recovery, and the points waiting then, until the backlog is gone. */
  let recovering: { points: number } | undefined;
  let hour = { start: startedAt, points: 0, requests: 0, refused: 0 };
  let stoppedAt: number | undefined;
  let writeFailed = false;

  const queued = () => {
    const stats = options.outbox?.();
    return stats ? stats.queuedPoints : 0;
  };

  const events: DeliveryEvents = {
    delivered(kind, count) {
      const k = kinds[kind];
      k.delivered += count;
      k.deliveredAt = lastSuccess = clock.now();
      if (kind === "metrics") {
        hour.points += count;
        hour.requests++;
        if (recovering) recovering.points += count;
      }
      if (k.since !== undefined) {
        const minutes = Math.max(1, Math.round((clock.now() - k.since) / options.minuteMs));
        log.info(
          `Posting ${
            RECORD_KINDS[kind].name
          } to Mackerel recovered after ${minutes} minutes of failures` +
            (kind === "metrics" ? `; ${queued()} points still wait to be posted` : ""),
        );
        k.since = undefined;
        if (kind === "metrics") recovering = { points: count };
      }
    },
    failed(kind, error) {
      lastError = { at: clock.now(), message: errorMessage(error) };
      const k = kinds[kind];
      if (k.since === undefined) {
        k.since = clock.now();
        log.info(
          `Posting ${
            RECORD_KINDS[kind].name
          } to Mackerel is failing (${lastError.message}); what is ` +
            "collected is kept and posted when it recovers",
        );
      }
    },
    refused(kind, count, error) {
      const k = kinds[kind];
      k.refused += count;
      k.refusedAt = clock.now();
      if (kind === "metrics") hour.refused += count;
      lastError = { at: clock.now(), message: errorMessage(error) };
    },
  };

  const kindStatus = (): Record<RecordKind, KindStatus> =>
    Object.fromEntries(KINDS.map((kind) => {
      const k = kinds[kind];
      return [kind, {
        delivered: k.delivered,
        refused: k.refused,
        ...(k.deliveredAt === undefined ? {} : { lastDeliveredAt: iso(k.deliveredAt) }),
        ...(k.refusedAt === undefined ? {} : { lastRefusedAt: iso(k.refusedAt) }),
        ...(k.since === undefined ? {} : { failingSince: iso(k.since) }),
      }];
    })) as Record<RecordKind, KindStatus>;

  const failingSince = () => {
    const since = KINDS.map((k) => kinds[k].since).filter((t) => t !== undefined);
    return since.length > 0 ? { failingSince: iso(Math.min(...since)) } : {};
  };

  const document = (): StatusDocument => {
    const outbox = options.outbox?.();
    const now = clock.now();
    return {
      version: VERSION,
      revision: REVISION,
      pid: Deno.pid,
      startedAt: iso(startedAt),
      updatedAt: iso(now),
      ...(stoppedAt === undefined ? {} : { stoppedAt: iso(stoppedAt) }),
      minuteMs: options.minuteMs,
      mode: options.mode,
      ...(options.hostId ? { hostId: options.hostId } : {}),
      delivery: {
        ...(lastSuccess === undefined ? {} : { lastSuccessAt: iso(lastSuccess) }),
        ...(lastError === undefined
          ? {}
          : { lastErrorAt: iso(lastError.at), lastError: lastError.message }),
        ...failingSince(),
        kinds: kindStatus(),
        invalidPoints: outbox?.invalidPoints ?? 0,
        queue: { rounds: outbox?.queuedRounds ?? 0, points: outbox?.queuedPoints ?? 0 },
        ...(outbox ? { spool: outbox.spool } : {}),
      },
      collectors: Object.fromEntries(runs.collectors),
      plugins: Object.fromEntries(runs.plugins),
    };
  };

  const summarize = (doc: StatusDocument) => {
    const now = clock.now();
    if (recovering && doc.delivery.queue.points === 0) {
      log.info(`The backlog is posted: ${recovering.points} points since the recovery`);
      recovering = undefined;
    }
    if (now - hour.start < 60 * options.minuteMs) return;
    const spool = doc.delivery.spool;
    const dropped = spool
      ? Object.entries(spool.dropped).filter(([, t]) => t.count > 0)
        .map(([why, t]) => `${t.count} ${why}`)
      : [];
    if (hour.refused > 0) dropped.push(`${hour.refused} refused by the API`);
    log.info(
      `In the last hour: ${hour.points} points posted in ${hour.requests} requests` +
        (dropped.length > 0 ? `, dropped in all: ${dropped.join(", ")}` : ", none dropped") +
        `; waiting: ${doc.delivery.queue.rounds} rounds (${doc.delivery.queue.points} points)` +
        (spool ? `, ${spool.bytesOnDisk} bytes on disk` : ""),
    );
    hour = { start: now, points: 0, requests: 0, refused: 0 };
  };

  /**
   * Writes `doc` through a temp file and a rename. Synchronously: a few kB to the local root,
   * cheaper than three thread-pool round trips every round (measured with `deno task compare`),
   * and two writes can never overlap on the temp file.
   */
  const save = (doc: StatusDocument) => {
    const path = join(options.root, STATUS_FILE);
    const temp = `${path}.${Deno.pid}.tmp`;
    try {
      Deno.writeTextFileSync(temp, JSON.stringify(doc, null, 2) + "\n");
      Deno.renameSync(temp, path);
      writeFailed = false;
    } catch (error) {
      try {
        Deno.removeSync(temp);
      } catch {
        // Never written.
      }
      if (!writeFailed) log.warn(`cannot write ${path}: ${errorMessage(error)}`);
      writeFailed = true;
    }
  };

  return {
    events,
    ran(group, name, error) {
      const now = iso(clock.now());
      const old = runs[group].get(name) ?? { runs: 0, failures: 0 };
      runs[group].set(
        name,
        error === undefined ? { ...old, runs: old.runs + 1, lastRunAt: now, lastOkAt: now } : {
          ...old,
          runs: old.runs + 1,
          failures: old.failures + 1,
          lastRunAt: now,
          lastError: errorMessage(error),
          lastErrorAt: now,
        },
      );
    },
    write() {
      const doc = document();
      summarize(doc);
      save(doc);
      return Promise.resolve();
    },
    retain(group, names) {
      const keep = new Set(names);
      for (const name of runs[group].keys()) if (!keep.has(name)) runs[group].delete(name);
    },
    stopped() {
      stoppedAt = clock.now();
      save(document());
      return Promise.resolve();
    },
    document,
  };
}

/** What `mackerel-agent status` concludes. */
export interface Assessment {
  readonly state: "healthy" | "degraded" | "stopped";
  /** Why it is degraded or stopped, one line each. */
  readonly reasons: readonly string[];
}

/** Whether a collector or plugin is failing now: its last run failed. */
export function isFailing(run: RunStatus): boolean {
  return run.lastErrorAt !== undefined &&
    (run.lastOkAt === undefined || run.lastErrorAt >= run.lastOkAt);
}

/**
 * Tells a healthy agent from a degraded one (posting failing, a collector or plugin failing, the
 * spool not on disk) and from one that is not running (stopped, gone, or silent for three of its
 * minutes). `alive` says whether a pid is a running process.
 */
export function assessStatus(
  doc: StatusDocument,
  nowMs: number,
  alive: (pid: number) => boolean,
): Assessment {
  if (doc.stoppedAt !== undefined) {
    return { state: "stopped", reasons: [`stopped at ${doc.stoppedAt}`] };
  }
  if (!alive(doc.pid)) return { state: "stopped", reasons: [`process ${doc.pid} is gone`] };
  const silentMs = nowMs - Date.parse(doc.updatedAt);
  // A round every minute rewrites the file; three missed ones mean the agent is stuck.
  if (silentMs > 3 * doc.minuteMs + 30_000) {
    return { state: "stopped", reasons: [`no update since ${doc.updatedAt}`] };
  }
  const reasons: string[] = [];
  const d = doc.delivery;
  for (const [kind, k] of Object.entries(d.kinds)) {
    if (k.failingSince) {
      reasons.push(`posting ${kind} has failed since ${k.failingSince}: ${d.lastError}`);
    } else if (k.lastRefusedAt && (!k.lastDeliveredAt || k.lastRefusedAt > k.lastDeliveredAt)) {
      reasons.push(`the API refuses ${kind} (last at ${k.lastRefusedAt}): ${d.lastError}`);
    }
  }
  if (d.spool && !d.spool.durable) {
    reasons.push(`the spool is in memory: ${d.spool.diskError ?? "no directory"}`);
  }
  for (const [group, runs] of [["collector", doc.collectors], ["plugin", doc.plugins]] as const) {
    for (const [name, run] of Object.entries(runs)) {
      if (isFailing(run)) reasons.push(`${group} ${name} is failing: ${run.lastError}`);
    }
  }
  return { state: reasons.length > 0 ? "degraded" : "healthy", reasons };
}
