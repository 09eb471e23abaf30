/**
 * A small tmpfs mounted for a test, to give the agent a full or read-only root. Mounting needs root
 * on Linux: {@linkcode tmpfsUnavailable} says why it cannot be done here, for the test to be skipped
 * with that reason. The mount is always undone afterwards (lazily if a process still holds a file).
 *
 * @module
 */

/** A mounted tmpfs. */
export interface Tmpfs {
  readonly path: string;
  /** Remounts it read-only; fails (EBUSY) while a file on it is open for writing. */
  readOnly(): Promise<void>;
  /** Remounts it writable. */
  writable(): Promise<void>;
  /**
   * Writes a new file until no byte more fits; returns its path (removing it frees the space). A
   * process that deletes files meanwhile frees some again: fill once more after it has.
   */
  fill(): Promise<string>;
}

/** Options of {@linkcode withTmpfs}. */
export interface TmpfsOptions {
  /** Where to mount it (created if needed); a fresh temp dir by default. */
  readonly path?: string;
  /** Its size; at least 64 KiB. */
  readonly sizeBytes: number;
}

let probed: string | undefined | null = null;

/** Why no tmpfs can be mounted here (not Linux, not root, no permission), or undefined. */
export function tmpfsUnavailable(): string | undefined {
  if (probed !== null) return probed;
  if (Deno.build.os !== "linux") return probed = "tmpfs mounts need Linux";
  if (Deno.uid() !== 0) return probed = "tmpfs mounts need root";
  const dir = Deno.makeTempDirSync({ prefix: "tmpfs_probe_" });
  try {
    const mount = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
    if (mount !== undefined) return probed = `cannot mount a tmpfs: ${mount}`;
    run(["umount", dir]);
    return probed = undefined;
  } finally {
    Deno.removeSync(dir);
  }
}

/** Runs a command; its stderr when it fails. */
function run(args: readonly string[]): string | undefined {
  const out = new Deno.Command(args[0], { args: args.slice(1), stdout: "null", stderr: "piped" })
    .outputSync();
  return out.success
    ? undefined
    : new TextDecoder().decode(out.stderr).trim() || `exit ${out.code}`;
}

async function runOrThrow(args: readonly string[]): Promise<void> {
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/**
 * Mounts a tmpfs of `sizeBytes`, runs `fn` with it, then unmounts it and removes a directory it
 * created, whatever `fn` does. Stop the processes using it inside `fn`.
 */
export async function withTmpfs<T>(
  options: TmpfsOptions,
  fn: (tmpfs: Tmpfs) => Promise<T>,
): Promise<T> {
  if (!(options.sizeBytes >= 65536)) {
    throw new RangeError(`sizeBytes must be at least 65536, got ${options.sizeBytes}`);
  }
  const unavailable = tmpfsUnavailable();
  if (unavailable) throw new Error(unavailable);
  const created = options.path === undefined;
  const path = options.path ?? await Deno.makeTempDir({ prefix: "tmpfs_" });
  await Deno.mkdir(path, { recursive: true });
  await runOrThrow(["mount", "-t", "tmpfs", "-o", `size=${options.sizeBytes}`, "tmpfs", path]);
  try {
    return await fn({
      path,
      readOnly: () => runOrThrow(["mount", "-o", "remount,ro", path]),
      writable: () => runOrThrow(["mount", "-o", "remount,rw", path]),
      fill: () => fill(path),
    });
  } finally {
    // A process that still holds a file there keeps the mount busy: detach it anyway.
    if (run(["umount", path]) !== undefined) run(["umount", "-l", path]);
    if (created) await Deno.remove(path, { recursive: true });
  }
}

let fillers = 0;

async function fill(dir: string): Promise<string> {
  const path = `${dir}/filler-${++fillers}`;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(4096);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    if (!(error instanceof Error && /No space left|os error 28/.test(error.message))) throw error;
  } finally {
    file.close();
  }
  return path;
}
