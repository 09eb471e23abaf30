/**
 * The pidfile: refuses a second agent, records ours, and is removed at exit (docs/upstream.md,
 * "pidfile").
 *
 * @module
 */
import { basename, dirname } from "../file_path.ts";
import { logger } from "../log.ts";

/** Options of {@linkcode createPidfile}. */
export interface PidfileOptions {
  /** Path of the pidfile; `""` disables it. */
  readonly path: string;
  /** Our pid; the process's own by default. */
  readonly pid?: number;
  /** Where `/proc/<pid>/cmdline` is read to tell whether a live pid is another agent. */
  readonly procfs?: string;
}

/** Raised when a live agent already owns the pidfile. */
export class PidfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PidfileError";
  }
}

/**
 * Creates the pidfile, unless a live agent owns it.
 *
 * A stale or malformed pidfile is overwritten with a WARNING. The pid is written without a
 * newline, as upstream does.
 */
export async function createPidfile(options: PidfileOptions): Promise<void> {
  const { path } = options;
  if (path === "") return;
  const pid = options.pid ?? Deno.pid;
  const log = logger("pidfile");
  const existing = await readIfExists(path);
  if (existing !== undefined) {
    if (!/^\d+$/.test(existing)) {
      log.warn(`Malformed pidfile found. Ignoring ${path}`);
    } else if (Number(existing) !== pid) {
      if (processKind(Number(existing), options.procfs) === "agent") {
        throw new PidfileError(
          `pidfile found, try stopping another running mackerel-agent or delete ${path}`,
        );
      }
      log.warn(
        `Pidfile found, but there seems no another process of mackerel-agent. Ignoring ${path}`,
      );
    }
  }
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await Deno.writeTextFile(path, String(pid));
}

/**
 * Creates the pidfile as the daemon and `supervise` do at start: false (and upstream's one line on
 * stderr) when it cannot be.
 */
export async function claimPidfile(path: string): Promise<boolean> {
  try {
    await createPidfile({ path });
    return true;
  } catch (error) {
    // A returned error, as upstream prints it: one plain line on stderr.
    console.error(
      `pidfile.Create("${path}") failed: ${error instanceof Error ? error.message : error}`,
    );
    return false;
  }
}

/** Removes the pidfile if it still holds our pid; failures are logged, never thrown. */
export async function removePidfile(options: PidfileOptions): Promise<void> {
  const { path } = options;
  if (path === "") return;
  try {
    const content = await readIfExists(path);
    if (content === String(options.pid ?? Deno.pid)) await Deno.remove(path);
  } catch (error) {
    logger("pidfile").error(`Failed to remove the pidfile: ${path}: ${error}`);
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** What runs under a pid: this agent, another program, nothing, or cannot tell. */
export type ProcessKind = "agent" | "other" | "gone" | "unknown";

/**
 * What runs under `pid`, read from `<procfs>/<pid>/cmdline`: `agent` when it runs the same program
 * as we do (same basename of argv[0]), `other` when it runs something else (or nothing: a zombie or
 * a kernel thread has no command line), `gone` when there is no such process, `unknown` when
 * `procfs` cannot tell (none on macOS and Windows, or the line is hidden from us).
 *
 * Upstream compares the executable's name; under `deno run` that is `deno`, so a `deno` process
 * running our main module counts too.
 */
export function processKind(pid: number, procfs = "/proc"): ProcessKind {
  let cmdline: string[];
  try {
    cmdline = Deno.readTextFileSync(`${procfs}/${pid}/cmdline`).split("\0").filter(Boolean);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return "unknown";
    try {
      return Deno.statSync(procfs).isDirectory ? "gone" : "unknown";
    } catch {
      return "unknown";
    }
  }
  if (cmdline.length === 0) return "other";
  const ours = basename(Deno.execPath());
  if (basename(cmdline[0]) !== ours) return "other";
  if (ours !== "deno") return "agent";
  const mainModule = basename(new URL(Deno.mainModule).pathname);
  return cmdline.some((arg) => basename(arg) === mainModule) ? "agent" : "other";
}
