/**
 * One owner per spool: the agent that writes a spool directory holds an exclusive lock (`flock`)
 * on `<dir>/lock`, taken before its first write and released when the process ends, however it
 * ends (`kill -9` included: the kernel drops the lock with the process). Two agents on one root
 * would interleave record ids and segment numbers, and a replay would lose or repeat rounds; the
 * second one waits for the lock a little (an agent being replaced may still be draining), then is
 * refused. `mackerel-agent status` asks the same lock whether an agent runs for a root.
 *
 * The file holds the owner's pid, for the messages only; the lock is what counts.
 *
 * @module
 */
import { errorMessage } from "../log.ts";
import { join } from "../file_path.ts";
import { type Clock, realClock } from "../async/clock.ts";
import { readSmallFile } from "../small_file.ts";

/** The lock file's name in the spool directory. */
export const LOCK_FILE = "lock";

/** A held lock. */
export interface SpoolLock {
  readonly path: string;
  /** Releases it (the process's end does too). */
  release(): void;
}

/** Raised when another process keeps the lock past the wait. */
export class SpoolLockedError extends Error {
  /** The owner's pid as its lock file says, when it does. */
  readonly holder?: number;
  constructor(message: string, holder?: number) {
    super(message);
    this.name = "SpoolLockedError";
    if (holder !== undefined) this.holder = holder;
  }
}

/** Options of {@linkcode lockSpool}. */
export interface LockOptions {
  /** How long to wait for another owner to let go. */
  readonly waitMs: number;
  /** Between two tries; 100 ms by default. */
  readonly pollMs?: number;
  readonly clock?: Clock;
  /** Called once when the lock is taken by another process, before waiting. */
  readonly onWait?: (holder: number | undefined) => void;
  readonly signal?: AbortSignal;
}

/** Why no lock could be taken although nobody else holds one: the directory cannot be written. */
export interface Unlockable {
  readonly unlockable: string;
}

/**
 * Takes the lock of `dir`, waiting up to `waitMs` for another owner. A directory where no lock
 * file can be made (read-only, full), or where something else stands in its place, yields
 * {@linkcode Unlockable}: the spool then keeps its data in memory and tries to lock again before it
 * writes there.
 *
 * @throws {SpoolLockedError} when another process holds it past the wait.
 */
export async function lockSpool(
  dir: string,
  options: LockOptions,
): Promise<SpoolLock | Unlockable> {
  if (!(options.waitMs >= 0)) throw new RangeError(`waitMs must be >= 0, got ${options.waitMs}`);
  const clock = options.clock ?? realClock;
  const pollMs = options.pollMs ?? 100;
  const path = join(dir, LOCK_FILE);
  let file: Deno.FsFile;
  let writable = true;
  const odd = notRegularFile(path);
  if (odd) return { unlockable: odd };
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    // A read-only directory may still hold the file: lock it to keep a writer elsewhere out.
    try {
      file = await Deno.open(path, { read: true });
      writable = false;
    } catch {
      return { unlockable: errorMessage(error) };
    }
  }
  const deadline = clock.now() + options.waitMs;
  let told = false;
  while (!(await file.tryLock(true))) {
    const holder = readHolder(path);
    if (!told) {
      options.onWait?.(holder);
      told = true;
    }
    if (clock.now() >= deadline || options.signal?.aborted) {
      file.close();
      throw new SpoolLockedError(
        `another mackerel-agent${holder === undefined ? "" : ` (pid ${holder})`} holds ${path}`,
        holder,
      );
    }
    await clock.sleep(Math.min(pollMs, Math.max(0, deadline - clock.now())), options.signal);
  }
  if (writable) {
    try {
      await file.truncate(0);
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    } catch {
      // The pid is for messages only; the lock is held either way.
    }
  }
  return {
    path,
    release() {
      try {
        file.close(); // closing the file releases its lock
      } catch {
        // Released already.
      }
    },
  };
}

/** Whether some process holds the lock of `dir`, and its pid as the file says. */
export function spoolLockHolder(dir: string): { held: boolean; pid?: number } {
  const path = join(dir, LOCK_FILE);
  let file: Deno.FsFile;
  if (notRegularFile(path)) return { held: false };
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return { held: false };
  }
  try {
    // A shared lock is refused while an owner holds its exclusive one.
    if (file.tryLockSync(false)) return { held: false };
    const pid = readHolder(path);
    return pid === undefined ? { held: true } : { held: true, pid };
  } finally {
    file.close();
  }
}

/**
 * Why `path` cannot serve as a lock file (a directory, FIFO, device or link: opening a FIFO could
 * wait forever), or undefined when it is a regular file or absent.
 */
function notRegularFile(path: string): string | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return undefined; // absent (or unreadable: opening it will say why)
  }
  return info.isFile ? undefined : `${path} is not a regular file; remove it`;
}

/** The pid the lock file names; the file is untrusted, so only a few bytes are read. */
function readHolder(path: string): number | undefined {
  const file = readSmallFile(path, 32);
  if (file.kind !== "text") return undefined;
  const text = file.text.trim();
  if (!/^\d{1,10}$/.test(text)) return undefined;
  // An owner that could not write its pid (a read-only root) leaves an older owner's there.
  return isGone(Number(text)) ? undefined : Number(text);
}

/** Whether no process has this pid, where /proc can tell (elsewhere: not known to be gone). */
function isGone(pid: number): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return false;
  } catch {
    return true;
  }
}
