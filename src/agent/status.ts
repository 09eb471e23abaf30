/**
 * What an operator can read about a running agent without `-verbose`: `<root>/status.json`,
 * rewritten atomically after every round, and a few INFO lines - when posting starts failing, when
 * it recovers, and a summary every hour. `mackerel-agent status` reads the file
 * ({@linkcode assessStatus} tells healthy, degraded and stopped apart). No HTTP server: the file is
 * the interface, so the core stays free of `Deno.serve`.
 *
 * @module
 */
import { join } from "../file_path.ts";
import type { Clock } from "../async/clock.ts";
import type { DeliveryEvents } from "../delivery/events.ts";
import type { OutboxStats } from "../delivery/outbox.ts";
import { classifyFailure, findExportFailure } from "../delivery/policy.ts";
import { KINDS, RECORD_KINDS, type RecordKind } from "../delivery/record.ts";
import type { SpoolStats } from "../delivery/spool.ts";
import { errorMessage, logger } from "../log.ts";
import { findApiError } from "../mackerel/errors.ts";
import { STATUS_TEXT } from "../mackerel/status_text.ts";
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

/** How writes of one kind went, as counted. */
interface KindCounts {
  delivered: number;
  refused: number;
  deliveredAt?: number;
  refusedAt?: number;
  /** Failing since (until a delivery). */
  since?: number;
  /** The key's refusal: since when (until a delivery), the last answer, whether it is the last failure. */
  key?: { since: number; answer: string; last: boolean };
}

/** Everything the live status keeps; the functions below work on it. */
interface LiveStatus {
  readonly options: StatusOptions;
  readonly startedAt: number;
  readonly kinds: Record<RecordKind, KindCounts>;
  readonly runs: Record<"collectors" | "plugins", Map<string, RunStatus>>;
  lastSuccess?: number;
  lastError?: { readonly at: number; readonly message: string };
  /** Delivered since the recovery, until the backlog is gone. */
  recovering?: { points: number };
  /** What the hourly summary counts. */
  hour: { start: number; points: number; requests: number; refused: number };
  stoppedAt?: number;
  /** The last write failed: said once until one works. */
  writeFailed: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Creates the status of a starting daemon. */
export function createStatus(options: StatusOptions): Status {
  const startedAt = options.clock.now();
  const state: LiveStatus = {
    options,
    startedAt,
    kinds: Object.fromEntries(KINDS.map((k) => [k, { delivered: 0, refused: 0 }])) as Record<
      RecordKind,
      KindCounts
    >,
    runs: { collectors: new Map(), plugins: new Map() },
    hour: { start: startedAt, points: 0, requests: 0, refused: 0 },
    writeFailed: false,
  };
  return {
    events: {
      delivered: (kind, count) => onDelivered(state, kind, count),
      failed: (kind, error) => onFailed(state, kind, error),
      refused: (kind, count, error) => onRefused(state, kind, count, error),
    },
    ran: (group, name, error) => onRan(state, group, name, error),
    write() {
      const doc = documentOf(state);
      summarize(state, doc);
      save(state, doc);
      return Promise.resolve();
    },
    retain(group, names) {
      const keep = new Set(names);
      for (const name of state.runs[group].keys()) {
        if (!keep.has(name)) state.runs[group].delete(name);
      }
    },
    stopped() {
      state.stoppedAt = options.clock.now();
      save(state, documentOf(state));
      return Promise.resolve();
    },
    document: () => documentOf(state),
  };
}

/** Where a kind of data goes, for log lines: Mackerel, or the `[otlp]` endpoint. */
const destination = (kind: RecordKind) => RECORD_KINDS[kind].to ?? "Mackerel";

function onDelivered(state: LiveStatus, kind: RecordKind, count: number): void {
  const { clock, minuteMs } = state.options;
  const k = state.kinds[kind];
  k.delivered += count;
  k.deliveredAt = state.lastSuccess = clock.now();
  if (kind === "metrics") {
    state.hour.points += count;
    state.hour.requests++;
    if (state.recovering) state.recovering.points += count;
  }
  k.key = undefined;
  if (k.since === undefined) return;
  const minutes = Math.max(1, Math.round((clock.now() - k.since) / minuteMs));
  const waiting = kind === "metrics"
    ? `; ${state.options.outbox?.().queuedPoints ?? 0} points still wait to be posted`
    : "";
  log.info(
    `Posting ${RECORD_KINDS[kind].name} to ${destination(kind)} recovered after ${minutes} ` +
      `minutes of failures${waiting}`,
  );
  k.since = undefined;
  if (kind === "metrics") state.recovering = { points: count };
}

function onFailed(state: LiveStatus, kind: RecordKind, error: unknown): void {
  const now = state.options.clock.now();
  const lastError = state.lastError = { at: now, message: errorMessage(error) };
  const k = state.kinds[kind];
  const answer = refusedKey(error, state.options.minuteMs);
  if (answer === undefined) {
    if (k.key) k.key.last = false;
  } else if (k.key) {
    k.key = { ...k.key, answer, last: true };
  } else {
    // One ERROR per episode, however often the retries are refused; a delivery ends it.
    k.key = { since: now, answer, last: true };
    const who = RECORD_KINDS[kind].to
      ? "it refuses the credentials"
      : "the API refuses the API key";
    log.error(
      `Posting ${RECORD_KINDS[kind].name} to ${destination(kind)}: ${who} (${answer}); what is ` +
        "collected is kept in the spool, within its bounds, and posted once the key works " +
        `again: ${lastError.message}`,
    );
  }
  if (k.since !== undefined) return;
  k.since = now;
  if (answer !== undefined) return;
  log.info(
    `Posting ${RECORD_KINDS[kind].name} to ${destination(kind)} is failing ` +
      `(${lastError.message}); what is collected is kept and posted when it recovers`,
  );
}

function onRefused(state: LiveStatus, kind: RecordKind, count: number, error: unknown): void {
  const now = state.options.clock.now();
  const k = state.kinds[kind];
  k.refused += count;
  k.refusedAt = now;
  if (kind === "metrics") state.hour.refused += count;
  state.lastError = { at: now, message: errorMessage(error) };
}

function onRan(
  state: LiveStatus,
  group: "collectors" | "plugins",
  name: string,
  error?: unknown,
): void {
  const now = iso(state.options.clock.now());
  const old = state.runs[group].get(name) ?? { runs: 0, failures: 0 };
  state.runs[group].set(
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
}

function kindStatus(state: LiveStatus): Record<RecordKind, KindStatus> {
  return Object.fromEntries(KINDS.map((kind) => {
    const k = state.kinds[kind];
    return [kind, {
      delivered: k.delivered,
      refused: k.refused,
      ...(k.deliveredAt === undefined ? {} : { lastDeliveredAt: iso(k.deliveredAt) }),
      ...(k.refusedAt === undefined ? {} : { lastRefusedAt: iso(k.refusedAt) }),
      ...(k.since === undefined ? {} : { failingSince: iso(k.since) }),
      ...(k.key?.last ? { keyRefused: { since: iso(k.key.since), answer: k.key.answer } } : {}),
    }];
  })) as Record<RecordKind, KindStatus>;
}

/** The document as it would be written now. */
function documentOf(state: LiveStatus): StatusDocument {
  const { options } = state;
  const outbox = options.outbox?.();
  const since = KINDS.map((k) => state.kinds[k].since).filter((t) => t !== undefined);
  const { lastSuccess, lastError, stoppedAt } = state;
  return {
    version: VERSION,
    revision: REVISION,
    pid: Deno.pid,
    startedAt: iso(state.startedAt),
    updatedAt: iso(options.clock.now()),
    ...(stoppedAt === undefined ? {} : { stoppedAt: iso(stoppedAt) }),
    minuteMs: options.minuteMs,
    mode: options.mode,
    ...(options.hostId ? { hostId: options.hostId } : {}),
    delivery: {
      ...(lastSuccess === undefined ? {} : { lastSuccessAt: iso(lastSuccess) }),
      ...(lastError === undefined
        ? {}
        : { lastErrorAt: iso(lastError.at), lastError: lastError.message }),
      ...(since.length > 0 ? { failingSince: iso(Math.min(...since)) } : {}),
      kinds: kindStatus(state),
      invalidPoints: outbox?.invalidPoints ?? 0,
      queue: { rounds: outbox?.queuedRounds ?? 0, points: outbox?.queuedPoints ?? 0 },
      ...(outbox ? { spool: outbox.spool } : {}),
    },
    collectors: Object.fromEntries(state.runs.collectors),
    plugins: Object.fromEntries(state.runs.plugins),
  };
}

/** The INFO lines of the status: the backlog posted after a recovery, and each hour's summary. */
function summarize(state: LiveStatus, doc: StatusDocument): void {
  const now = state.options.clock.now();
  if (state.recovering && doc.delivery.queue.points === 0) {
    log.info(`The backlog is posted: ${state.recovering.points} points since the recovery`);
    state.recovering = undefined;
  }
  const hour = state.hour;
  if (now - hour.start < 60 * state.options.minuteMs) return;
  const spool = doc.delivery.spool;
  // Points where they are known; records lost to damage may have none told.
  const dropped = spool
    ? Object.entries(spool.dropped).filter(([, t]) => t.records > 0)
      .map(([why, t]) =>
        t.count > 0 ? `${t.count} ${why}` : `${t.records} records ${why} (points unknown)`
      )
    : [];
  if (hour.refused > 0) dropped.push(`${hour.refused} refused by the API`);
  log.info(
    `In the last hour: ${hour.points} points posted in ${hour.requests} requests` +
      (dropped.length > 0 ? `, dropped in all: ${dropped.join(", ")}` : ", none dropped") +
      `; waiting: ${doc.delivery.queue.rounds} rounds (${doc.delivery.queue.points} points)` +
      (spool ? `, ${spool.bytesOnDisk} bytes on disk` : ""),
  );
  state.hour = { start: now, points: 0, requests: 0, refused: 0 };
}

/**
 * Writes `doc` through a temp file and a rename. Synchronously: a few kB to the local root,
 * cheaper than three thread-pool round trips every round (measured with `deno task compare`),
 * and two writes can never overlap on the temp file.
 */
function save(state: LiveStatus, doc: StatusDocument): void {
  const path = join(state.options.root, STATUS_FILE);
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    Deno.writeTextFileSync(temp, JSON.stringify(doc, null, 2) + "\n");
    Deno.renameSync(temp, path);
    state.writeFailed = false;
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // Never written.
    }
    if (!state.writeFailed) log.warn(`cannot write ${path}: ${errorMessage(error)}`);
    state.writeFailed = true;
  }
}

/** The API's answer when it refused the API key (`401 Unauthorized`), as the delivery policy says. */
function refusedKey(error: unknown, minuteMs: number): string | undefined {
  const failure = classifyFailure(error, minuteMs);
  if (failure.kind !== "transient" || !failure.credentials) return undefined;
  const exported = findExportFailure(error);
  if (exported?.protocol === "grpc") return `gRPC status ${exported.code}`;
  const status = exported?.protocol === "http" ? exported.status : findApiError(error)?.status ?? 0;
  return `${status} ${STATUS_TEXT[status] ?? ""}`.trim();
}
