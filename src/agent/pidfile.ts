/**
 * The pidfile: refuses a second agent, records ours, and is removed at exit (docs/upstream.md,
 * "pidfile").
 *
 * @module
 */
import { basename, dirname } from "node:path";
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
      if (await isAgentProcess(Number(existing), options.procfs ?? "/proc")) {
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

/**
 * Whether `pid` is alive and runs the same program as we do (same basename of argv[0]).
 *
 * Upstream compares the executable's name; under `deno run` that is `deno`, so a `deno` process
 * running our main module counts too.
 */
async function isAgentProcess(pid: number, procfs: string): Promise<boolean> {
  let cmdline: string[];
  try {
    cmdline = (await Deno.readTextFile(`${procfs}/${pid}/cmdline`)).split("\0").filter(Boolean);
  } catch {
    return false;
  }
  if (cmdline.length === 0) return false;
  const ours = basename(Deno.execPath());
  if (basename(cmdline[0]) !== ours) return false;
  if (ours !== "deno") return true;
  const mainModule = basename(new URL(Deno.mainModule).pathname);
  return cmdline.some((arg) => basename(arg) === mainModule);
}
