/**
 * `status`: reads `<root>/status.json`, which the daemon rewrites after every round, and says in
 * a few lines whether the agent running for that root is healthy. Exit 0 healthy, 1 degraded
 * (posting failing, a collector or plugin failing, the spool not on disk), 3 when no agent is
 * running for that root. `-json` prints the file itself.
 *
 * @module
 */
import { join } from "node:path";
import {
  assessStatus,
  isFailing,
  type RunStatus,
  STATUS_FILE,
  type StatusDocument,
} from "../agent/status.ts";
import type { FlagSpec, ParsedFlags } from "./flags.ts";
import { COMMON_FLAGS, commonOptions } from "./options.ts";
import { resolveConfigOrDefaults } from "./resolve.ts";

/** `status`'s flags: the common ones and `-json`. */
export const STATUS_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: "json", kind: "bool", help: "print the status file itself" },
];

/** Exit code when no agent runs for the root (as `systemctl status` and LSB's "not running"). */
export const EXIT_NOT_RUNNING = 3;

/** Runs `status` and returns its exit code. */
export async function runStatus(parsed: ParsedFlags): Promise<number> {
  const { config } = await resolveConfigOrDefaults(commonOptions(parsed));
  const path = join(config.root, STATUS_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.log(`no agent has run for root ${config.root} (no ${path})`);
    return EXIT_NOT_RUNNING;
  }
  let doc: StatusDocument;
  try {
    doc = JSON.parse(text);
  } catch {
    console.log(`${path} is not a status file; no agent is running for root ${config.root}`);
    return EXIT_NOT_RUNNING;
  }
  const verdict = assessStatus(doc, Date.now(), isRunning);
  if (parsed.values.get("json")) console.log(text.trimEnd());
  else console.log(describe(doc, verdict.state, verdict.reasons, config.root));
  return verdict.state === "healthy" ? 0 : verdict.state === "degraded" ? 1 : EXIT_NOT_RUNNING;
}

/** Whether `pid` is a process (Linux `/proc`; elsewhere the file's freshness has to do). */
function isRunning(pid: number): boolean {
  if (Deno.build.os !== "linux") return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

function describe(
  doc: StatusDocument,
  state: string,
  reasons: readonly string[],
  root: string,
): string {
  const d = doc.delivery;
  if (state === "stopped") {
    return `mackerel-agent is not running for root ${root}: ${reasons.join("; ")}`;
  }
  const lines = [
    `mackerel-agent ${doc.version} (rev ${doc.revision}) is running: pid ${doc.pid}, since ` +
    `${doc.startedAt}, ${
      doc.mode === "api" ? `posting as host ${doc.hostId}` : "printing to stdout"
    }`,
    state === "healthy" ? "healthy" : `degraded:\n${reasons.map((r) => `  - ${r}`).join("\n")}`,
    `last post: ${d.lastSuccessAt ?? "none yet"}` +
    (d.lastErrorAt ? `; last error at ${d.lastErrorAt}: ${d.lastError}` : ""),
    `waiting: ${d.queue.rounds} rounds (${d.queue.points} points)` +
    (d.spool
      ? `, ${d.spool.bytesOnDisk} bytes on disk${d.spool.dir ? ` in ${d.spool.dir}` : ""}` +
        (d.spool.bytesInMemory > 0 ? `, ${d.spool.bytesInMemory} bytes in memory` : "")
      : ""),
    `posted: ${d.kinds.metrics.delivered} points, ${d.kinds.checks.delivered} check reports, ` +
    `${d.kinds.metadata.delivered} metadata values`,
    `dropped: ${dropped(doc)}`,
    `collectors: ${runs(doc.collectors)}`,
    `plugins: ${runs(doc.plugins)}`,
  ];
  return lines.join("\n");
}

function dropped(doc: StatusDocument): string {
  const d = doc.delivery;
  const parts: string[] = [];
  for (const [why, tally] of Object.entries(d.spool?.dropped ?? {})) {
    if (tally.records > 0) parts.push(`${tally.records} records (${tally.count} items) ${why}`);
  }
  const refused = d.kinds.metrics.refused + d.kinds.checks.refused + d.kinds.metadata.refused;
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
