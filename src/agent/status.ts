/**
 * What an operator can read about a running agent without `-verbose`: `<root>/status.json`,
 * rewritten atomically after every round, and a few INFO lines - when posting starts failing, when
 * it recovers, and a summary every hour. `mackerel-agent status` reads the file
 * ({@linkcode assessStatus} tells healthy, degraded and stopped apart). No HTTP server: the file is
 * the interface, so the core stays free of `Deno.serve`.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import { join } from "node:path";
import type { Clock } from "../async/clock.ts";
import type { DeliveryEvents } from "../delivery/events.ts";
import type { OutboxStats } from "../delivery/outbox.ts";
import { classifyFailure, findExportFailure } from "../delivery/policy.ts";
import { isRecordKind, KINDS, RECORD_KINDS, type RecordKind } from "../delivery/record.ts";
import type { SpoolStats } from "../delivery/spool.ts";
import { errorMessage, logger } from "../log.ts";
import { findApiError } from "../mackerel/errors.ts";
import { REVISION, VERSION } from "../version.ts";
import type { ProcessKind } from "./pidfile.ts";

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
  /**
   * Set while the API refuses the API key for writes of this kind (401, 403; the data is kept):
   * since when, and its answer (`401 Unauthorized`).
   */
  readonly keyRefused?: { readonly since: string; readonly answer: string };
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
      /** The key's refusal: since when (until a delivery), the last answer, whether it is the last failure. */
      key?: { since: number; answer: string; last: boolean };
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
      k.key = undefined;
      if (k.since !== undefined) {
        const minutes = Math.max(1, Math.round((clock.now() - k.since) / options.minuteMs));
        log.info(
          `Posting ${RECORD_KINDS[kind].name} to ${
            RECORD_KINDS[kind].to ?? "Mackerel"
          } recovered after ${minutes} minutes of failures` +
            (kind === "metrics" ? `; ${queued()} points still wait to be posted` : ""),
        );
        k.since = undefined;
        if (kind === "metrics") recovering = { points: count };
      }
    },
    failed(kind, error) {
      lastError = { at: clock.now(), message: errorMessage(error) };
      const k = kinds[kind];
      const answer = refusedKey(error, options.minuteMs);
      if (answer === undefined) {
        if (k.key) k.key.last = false;
      } else if (k.key) {
        k.key = { ...k.key, answer, last: true };
      } else {
        // One ERROR per episode, however often the retries are refused; a delivery ends it.
        k.key = { since: clock.now(), answer, last: true };
        log.error(
          `Posting ${RECORD_KINDS[kind].name} to ${RECORD_KINDS[kind].to ?? "Mackerel"}: ` +
            `${
              RECORD_KINDS[kind].to ? "it refuses the credentials" : "the API refuses the API key"
            } ` +
            `(${answer}); what is collected is kept in the spool, within its bounds, and posted ` +
            `once the key works again: ${lastError.message}`,
        );
      }
      if (k.since === undefined) {
        k.since = clock.now();
        if (answer !== undefined) return;
        log.info(
          `Posting ${RECORD_KINDS[kind].name} to ${
            RECORD_KINDS[kind].to ?? "Mackerel"
          } is failing (${lastError.message}); what is ` +
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
        ...(k.key?.last ? { keyRefused: { since: iso(k.key.since), answer: k.key.answer } } : {}),
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

/** The API's answer when it refused the API key (`401 Unauthorized`), as the delivery policy says. */
function refusedKey(error: unknown, minuteMs: number): string | undefined {
  const failure = classifyFailure(error, minuteMs);
  if (failure.kind !== "transient" || !failure.credentials) return undefined;
  const exported = findExportFailure(error);
  if (exported?.protocol === "grpc") return `gRPC status ${exported.code}`;
  const status = exported?.protocol === "http" ? exported.status : findApiError(error)?.status ?? 0;
  return `${status} ${STATUS_CODES[status] ?? ""}`.trim();
}

/** What the status file held, as `mackerel-agent status` read it (./status_file.ts). */
export type StatusFileContent =
  | { readonly kind: "valid"; readonly doc: StatusDocument; readonly text: string }
  | { readonly kind: "missing" }
  /** It exists but cannot be read (permissions): nothing can be told from it. */
  | { readonly kind: "unreadable"; readonly problem: string }
  /** Not a status file; `pid` when it still names one. */
  | { readonly kind: "invalid"; readonly problem: string; readonly pid?: number };

/** What tells whether an agent runs for a root, and how it is doing. */
export interface StatusEvidence {
  readonly root: string;
  readonly file: StatusFileContent;
  /**
   * The spool's owner lock (src/delivery/spool_lock.ts): held means an agent runs for the root.
   * `pid` as the lock file says (not rewritten on a read-only root), `takenAt` its mtime in ms.
   */
  readonly lock: { readonly held: boolean; readonly pid?: number; readonly takenAt?: number };
  /** What runs under a pid (./pidfile.ts's `processKind`). */
  readonly process: (pid: number) => ProcessKind;
  readonly nowMs: number;
}

/** What `mackerel-agent status` concludes. */
export interface Assessment {
  /** `unknown`: an agent may run, but nothing here can tell. */
  readonly state: "healthy" | "degraded" | "stopped" | "unknown";
  /** Why it is degraded, stopped or unknown, one line each. */
  readonly reasons: readonly string[];
  /** The running agent's pid, when known. */
  readonly pid?: number;
  /** The status file describes the running agent: its figures can be shown. */
  readonly current: boolean;
}

/** Whether a collector or plugin is failing now: its last run failed. */
export function isFailing(run: RunStatus): boolean {
  return run.lastErrorAt !== undefined &&
    (run.lastOkAt === undefined || run.lastErrorAt >= run.lastOkAt);
}

/**
 * How long a running agent may leave its file unwritten before it is stale: three and a half of its
 * minutes (a round every minute rewrites it), and a few seconds at least, for the one-second
 * minutes of tests on a busy machine.
 */
export function staleAfterMs(minuteMs: number): number {
  return Math.max(3.5 * minuteMs, 6_000);
}

/**
 * Tells a healthy agent from a degraded one (posting failing, the key refused, a collector or
 * plugin failing, the spool not on disk, its status file stale or unreadable) and from one that is
 * not running. Whether an agent runs is decided by the spool's lock, else by the file's pid being a
 * live agent - never by the file's age alone: an agent on a full or read-only root cannot rewrite
 * its file, and its backlog is then in memory, lost if a supervisor restarts it.
 */
export function assessStatus(e: StatusEvidence): Assessment {
  const { file, lock } = e;
  const filePid = file.kind === "valid"
    ? file.doc.pid
    : file.kind === "invalid"
    ? file.pid
    : undefined;
  const kindOf = (pid: number | undefined) => pid === undefined ? undefined : e.process(pid);
  if (!lock.held) return assessUnlocked(e, filePid, kindOf(filePid));
  // An agent holds the spool. Its pid: the lock file's, unless that names no live agent (a lock
  // file a read-only root kept from an earlier agent), else the status file's.
  const lockKind = kindOf(lock.pid);
  const fileKind = kindOf(filePid);
  const pid = lockKind === "agent" || lockKind === "unknown"
    ? lock.pid
    : fileKind === "agent" || (lock.pid === undefined && fileKind === "unknown")
    ? filePid
    : undefined;
  const running = (reasons: string[]): Assessment => ({
    state: "degraded",
    reasons,
    current: false,
    ...(pid === undefined ? {} : { pid }),
  });
  if (file.kind !== "valid") {
    if (file.kind !== "missing") return running([file.problem]);
    return running([starting(e, 60_000) ?? stale(e.root, "no status file")]);
  }
  const { doc } = file;
  if (doc.pid === pid) {
    if (doc.stoppedAt === undefined) return assessCurrent(e, doc, pid);
    return {
      state: "stopped",
      reasons: [`stopped at ${doc.stoppedAt}; process ${pid} is exiting`],
      current: true,
    };
  }
  // The file is an earlier agent's: the running one has not written its own yet, or cannot.
  return running([
    (Date.parse(doc.updatedAt) <= (lock.takenAt ?? 0) ? starting(e, doc.minuteMs) : undefined) ??
      stale(e.root, `status file stale since ${doc.updatedAt}`),
  ]);
}

/** No lock held: no agent with a spool on disk runs; one in stdout mode (or in memory) may. */
function assessUnlocked(
  e: StatusEvidence,
  pid: number | undefined,
  kind: ProcessKind | undefined,
): Assessment {
  const { file } = e;
  const doc = file.kind === "valid" ? file.doc : undefined;
  const notes = file.kind === "invalid" ? [file.problem] : [];
  const stopped = (...reasons: string[]): Assessment => ({
    state: "stopped",
    reasons: [...notes, ...reasons],
    current: false,
  });
  const unknown = (reason: string): Assessment => ({
    state: "unknown",
    reasons: [...notes, reason],
    current: false,
  });
  if (doc?.stoppedAt !== undefined) return stopped(`stopped at ${doc.stoppedAt}`);
  if (file.kind === "unreadable") return unknown(file.problem);
  if (pid === undefined || kind === undefined) {
    return file.kind === "missing"
      ? stopped(`no agent has run for it (no ${join(e.root, STATUS_FILE)})`)
      : stopped();
  }
  if (kind === "gone") return stopped(`process ${pid} is gone`);
  if (kind === "other") return stopped(`process ${pid} is not a mackerel-agent`);
  const unchecked = `whether process ${pid} runs cannot be checked here`;
  if (!doc) {
    return kind === "agent"
      ? { state: "degraded", reasons: notes, pid, current: false }
      : unknown(unchecked);
  }
  if (kind === "unknown" && isStale(doc, e.nowMs)) {
    return unknown(`no update since ${doc.updatedAt}, and ${unchecked}`);
  }
  return assessCurrent(e, doc, pid);
}

/** The running agent's own file: stale, or what it says. */
function assessCurrent(e: StatusEvidence, doc: StatusDocument, pid: number): Assessment {
  const reasons = documentReasons(doc);
  if (isStale(doc, e.nowMs)) {
    reasons.unshift(
      `${stale(e.root, `status file stale since ${doc.updatedAt}`)}; what follows is as of then`,
    );
  }
  return { state: reasons.length > 0 ? "degraded" : "healthy", reasons, pid, current: true };
}

function isStale(doc: StatusDocument, nowMs: number): boolean {
  return nowMs - Date.parse(doc.updatedAt) > staleAfterMs(doc.minuteMs);
}

/** The reason of an agent whose file is not written. */
function stale(root: string, what: string): string {
  return `${what} (the agent cannot write ${root}: full or read-only?); its spool may be in memory`;
}

/** The reason of an agent that took its lock lately and has written no file yet, if so. */
function starting(e: StatusEvidence, minuteMs: number): string | undefined {
  const since = e.lock.takenAt;
  if (since === undefined || e.nowMs - since > staleAfterMs(minuteMs)) return undefined;
  return `starting since ${new Date(since).toISOString()}: no status written yet (it is written ` +
    "after every round)";
}

/** Why a running agent's document says it is degraded. */
function documentReasons(doc: StatusDocument): string[] {
  const reasons: string[] = [];
  const d = doc.delivery;
  const keyRefused: { kind: string; since: string; answer: string }[] = [];
  for (const [kind, k] of Object.entries(d.kinds)) {
    if (k.keyRefused) {
      keyRefused.push({
        kind: isRecordKind(kind) ? RECORD_KINDS[kind].name : kind,
        ...k.keyRefused,
      });
    } else if (k.failingSince) {
      reasons.push(`posting ${kind} has failed since ${k.failingSince}: ${d.lastError}`);
    } else if (k.lastRefusedAt && (!k.lastDeliveredAt || k.lastRefusedAt > k.lastDeliveredAt)) {
      reasons.push(`the API refuses ${kind} (last at ${k.lastRefusedAt}): ${d.lastError}`);
    }
  }
  if (keyRefused.length > 0) {
    const first = keyRefused.reduce((a, b) => b.since < a.since ? b : a);
    reasons.unshift(
      `the API refuses the API key since ${first.since} (${first.answer}) when posting ` +
        `${keyRefused.map((k) => k.kind).join(", ")}: what is collected is kept in the spool`,
    );
  }
  if (d.spool && !d.spool.durable) {
    reasons.push(`the spool is in memory: ${d.spool.diskError ?? "no directory"}`);
  }
  for (const [group, runs] of [["collector", doc.collectors], ["plugin", doc.plugins]] as const) {
    for (const [name, run] of Object.entries(runs)) {
      if (isFailing(run)) reasons.push(`${group} ${name} is failing: ${run.lastError}`);
    }
  }
  return reasons;
}
