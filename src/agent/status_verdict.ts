/**
 * What `mackerel-agent status` concludes from the evidence it gathers for a root: the status file
 * (./status_file.ts reads it as untrusted input), the spool's owner lock and the processes behind
 * the pids they name. Whether an agent runs is decided by the lock, else by a live agent's pid -
 * never by the file's age alone.
 *
 * @module
 */
import { join } from "../file_path.ts";
import { isRecordKind, RECORD_KINDS } from "../delivery/record.ts";
import type { ProcessKind } from "./pidfile.ts";
import { type RunStatus, STATUS_FILE, type StatusDocument } from "./status.ts";

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
