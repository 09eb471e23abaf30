/**
 * A small tmpfs for tests of a full or read-only disk: mounted on a fresh directory, made full or
 * read-only on demand, and always unmounted afterwards. Mounting needs root (CAP_SYS_ADMIN); where
 * it is not allowed, {@linkcode tmpfsUnavailable} says why, for the test's `ignore`.
 *
 * @module
 */

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
export const tmpfsUnavailable: string | undefined = probe();

function probe(): string | undefined {
  if (Deno.build.os !== "linux") return "tmpfs mounts are a Linux test";
  if (Deno.uid() !== 0) return "mounting a tmpfs needs root";
  const dir = Deno.makeTempDirSync({ prefix: "tmpfs-probe-" });
  try {
    const mount = run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
    if (!mount.success) return `mount -t tmpfs is not allowed here: ${mount.stderr}`;
    run("umount", [dir]);
    return undefined;
  } finally {
    Deno.removeSync(dir);
  }
}

function run(command: string, args: string[]): { success: boolean; stderr: string } {
  try {
    const out = new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).outputSync();
    return { success: out.success, stderr: new TextDecoder().decode(out.stderr).trim() };
  } catch (error) {
    return { success: false, stderr: error instanceof Error ? error.message : String(error) };
  }
}

/** A mounted tmpfs. */
export interface Tmpfs {
  readonly dir: string;
  /** Remounts it read-only (or writable again). */
  readOnly(on: boolean): void;
  /** Fills every free byte with one file, and returns its path (remove it to free the space). */
  fill(): Promise<string>;
  /**
   * Fills the disk and keeps filling what is freed (a process deleting its files) every 20 ms,
   * until the returned function is called and resolves.
   */
  keepFull(): Promise<() => Promise<void>>;
}

/** Runs `fn` with a tmpfs of `sizeBytes` on a fresh directory; unmounts and removes it afterwards. */
export async function withTmpfs<T>(sizeBytes: number, fn: (fs: Tmpfs) => Promise<T>): Promise<T> {
  if (tmpfsUnavailable) throw new Error(tmpfsUnavailable);
  const dir = await Deno.makeTempDir({ prefix: "tmpfs-" });
  const mounted = run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir]);
  if (!mounted.success) throw new Error(`mount: ${mounted.stderr}`);
  const fs: Tmpfs = {
    dir,
    readOnly(on) {
      const r = run("mount", ["-o", `remount,${on ? "ro" : "rw"}`, dir]);
      if (!r.success) throw new Error(`remount: ${r.stderr}`);
    },
    async fill() {
      const path = `${dir}/.filler`;
      const file = await Deno.open(path, { write: true, create: true, append: true });
      try {
        // Smaller and smaller blocks, down to the last byte.
        for (const size of [64 * 1024, 4096, 512, 1]) {
          const block = new Uint8Array(size);
          try {
            for (;;) await file.write(block);
          } catch {
            // ENOSPC: full at this block size.
          }
        }
      } finally {
        file.close();
      }
      return path;
    },
    async keepFull() {
      await fs.fill();
      const stopping = new AbortController();
      const loop = (async () => {
        while (!stopping.signal.aborted) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          // A failure here (the disk unmounted under it) must not go unhandled; the next try or
          // the caller's own checks tell.
          await fs.fill().catch(() => {});
        }
      })();
      return async () => {
        stopping.abort();
        await loop;
      };
    },
  };
  try {
    return await fn(fs);
  } finally {
    // Lazy: a process of the test that still holds a file there must not keep it mounted.
    run("umount", ["-l", dir]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
