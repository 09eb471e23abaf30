/**
 * `status`: says in a few lines whether an agent runs for a root and how it is doing. Whether one
 * runs comes from the spool's owner lock, else from the status file's pid being a live agent; how
 * it is doing from `<root>/status.json`, which the daemon rewrites after every round and which is
 * read as untrusted input (src/agent/status_file.ts). Exit 0 healthy, 1 degraded or cannot tell
 * (posting failing, the key refused, a collector or plugin failing, the spool not on disk, the file
 * stale or unreadable), 3 when no agent runs for that root. `-json` prints the file itself.
 *
 * @module
 */
import { join } from "../file_path.ts";
import { type ProcessKind, processKind } from "../agent/pidfile.ts";
import {
  type KindStatus,
  type RunStatus,
  STATUS_FILE,
  type StatusDocument,
} from "../agent/status.ts";
import {
  type Assessment,
  assessStatus,
  isFailing,
  type StatusEvidence,
} from "../agent/status_verdict.ts";
import { readStatusFile } from "../agent/status_file.ts";
import type { RecordKind } from "../delivery/record.ts";
import { LOCK_FILE, spoolLockHolder } from "../delivery/spool_lock.ts";
import { errorMessage, safeText } from "../log.ts";
import type { ParsedFlags } from "./flags.ts";
import { commonOptions } from "./options.ts";
import { resolveConfigOrDefaults } from "./resolve.ts";

/** Exit code when no agent runs for the root (as `systemctl status` and LSB's "not running"). */
export const EXIT_NOT_RUNNING = 3;

/** Runs `status` and returns its exit code. */
export async function runStatus(parsed: ParsedFlags): Promise<number> {
  const options = commonOptions(parsed);
  const { config, problem } = await resolveConfigOrDefaults(options);
  // A config that cannot be read leaves the defaults and the flags, whose root may not be the
  // agent's: say so, unless the file is only the absent default one.
  if (problem !== undefined && (options.confExplicit || !isNotFound(problem))) {
    console.error(`${errorMessage(problem)}; reading root ${config.root}`);
  }
  const report = statusReport({ root: config.root, json: parsed.values.get("json") === true });
  if (report.stdout !== "") console.log(report.stdout);
  if (report.stderr !== "") console.error(report.stderr);
  return report.code;
}

function isNotFound(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof Deno.errors.NotFound) return true;
  }
  return false;
}

/** Options of {@linkcode statusReport}. */
export interface StatusReportOptions {
  readonly root: string;
  /** Print the file itself (when it is a status file); the summary goes to stderr otherwise. */
  readonly json?: boolean;
  /** Now, in epoch ms; `Date.now()` by default. */
  readonly nowMs?: number;
  /** What runs under a pid; `/proc` by default. */
  readonly process?: (pid: number) => ProcessKind;
}

/** What `status` prints and its exit code. */
export interface StatusReport {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The longest line `status` prints, in bytes: longer ones are cut, control characters escaped. */
const MAX_LINE_BYTES = 8192;

/** Reads the root's status file and lock and says what they mean; never throws on their content. */
export function statusReport(options: StatusReportOptions): StatusReport {
  const { root } = options;
  const file = readStatusFile(join(root, STATUS_FILE));
  const evidence: StatusEvidence = {
    root,
    file,
    lock: lockOf(join(root, "spool")),
    process: options.process ?? ((pid) => processKind(pid)),
    nowMs: options.nowMs ?? Date.now(),
  };
  const verdict = assessStatus(evidence);
  const code = verdict.state === "healthy" ? 0 : verdict.state === "stopped" ? EXIT_NOT_RUNNING : 1;
  const text = describe(evidence, verdict).map((line) => safeText(line, MAX_LINE_BYTES)).join("\n");
  if (!options.json) return { code, stdout: text, stderr: "" };
  return file.kind === "valid"
    ? { code, stdout: file.text.trimEnd(), stderr: "" }
    : { code, stdout: "", stderr: text };
}

/** The spool's owner lock, and when it was taken (the lock file's mtime). */
function lockOf(dir: string): StatusEvidence["lock"] {
  const holder = spoolLockHolder(dir);
  if (!holder.held) return holder;
  try {
    const mtime = Deno.lstatSync(join(dir, LOCK_FILE)).mtime;
    return mtime ? { ...holder, takenAt: mtime.getTime() } : holder;
  } catch {
    return holder;
  }
}

function describe(e: StatusEvidence, verdict: Assessment): string[] {
  const { root } = e;
  const reasons = verdict.reasons.join("; ");
  if (verdict.state === "stopped") {
    return [`mackerel-agent is not running for root ${root}: ${reasons}`];
  }
  if (verdict.state === "unknown") {
    return [`cannot tell whether mackerel-agent is running for root ${root}: ${reasons}`];
  }
  const doc = verdict.current && e.file.kind === "valid" ? e.file.doc : undefined;
  const head = doc
    ? `mackerel-agent ${doc.version} (rev ${doc.revision}) is running: pid ${doc.pid}, since ` +
      `${doc.startedAt}, ${
        doc.mode === "api" ? `posting as host ${doc.hostId ?? "(none)"}` : "printing to stdout"
      }`
    : verdict.pid === undefined
    ? `mackerel-agent is running for root ${root}: it holds ${join(root, "spool", LOCK_FILE)}; ` +
      "its pid is unknown"
    : `mackerel-agent is running for root ${root}: pid ${verdict.pid}`;
  const state = verdict.state === "healthy"
    ? ["healthy"]
    : ["degraded:", ...verdict.reasons.map((r) => `  - ${r}`)];
  return [head, ...state, ...(doc ? details(doc) : [])];
}

/** The figures of a running agent's document. */
function details(doc: StatusDocument): string[] {
  const d = doc.delivery;
  // A file of another version may lack a kind.
  const kinds: Partial<Record<RecordKind, KindStatus>> = d.kinds;
  const posted = (kind: RecordKind) => kinds[kind]?.delivered ?? 0;
  return [
    `last post: ${d.lastSuccessAt ?? "none yet"}` +
    (d.lastErrorAt ? `; last error at ${d.lastErrorAt}: ${d.lastError}` : ""),
    `waiting: ${d.queue.rounds} rounds (${d.queue.points} points)${spool(doc)}`,
    `posted: ${posted("metrics")} points, ${posted("checks")} check reports, ` +
    `${posted("metadata")} metadata values`,
    `dropped: ${dropped(doc)}`,
    `collectors: ${runs(doc.collectors)}`,
    `plugins: ${runs(doc.plugins)}`,
  ];
}

/** Where the spool is: on disk (and where), or in memory (and why). */
function spool(doc: StatusDocument): string {
  const s = doc.delivery.spool;
  if (!s) return "";
  if (!s.durable) {
    return `; spool in memory: ${s.bytesInMemory} bytes (${s.diskError ?? "no directory"})` +
      (s.bytesOnDisk > 0 ? `, ${s.bytesOnDisk} bytes on disk` : "");
  }
  return `; spool on disk: ${s.bytesOnDisk} bytes${s.dir ? ` in ${s.dir}` : ""}` +
    (s.bytesInMemory > 0 ? `, ${s.bytesInMemory} bytes in memory` : "");
}

function dropped(doc: StatusDocument): string {
  const d = doc.delivery;
  const parts: string[] = [];
  for (const [why, tally] of Object.entries(d.spool?.dropped ?? {})) {
    if (tally.records > 0) parts.push(`${tally.records} records (${tally.count} items) ${why}`);
  }
  const refused = Object.values(d.kinds).reduce((n, k) => n + k.refused, 0);
  if (refused > 0) parts.push(`${refused} refused by the API`);
  if (d.invalidPoints > 0) parts.push(`${d.invalidPoints} points with names or values refused`);
  return parts.length > 0 ? parts.join(", ") : "nothing";
}

function runs(all: Readonly<Record<string, RunStatus>>): string {
  const entries = Object.entries(all);
  if (entries.length === 0) return "none";
  const failing = entries.filter(([, r]) => isFailing(r));
  return `${entries.length}, ${failing.length} failing` +
    (failing.length > 0 ? `: ${failing.map(([n, r]) => `${n} (${r.lastError})`).join(", ")}` : "");
}
