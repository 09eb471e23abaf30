/**
 * statfs(2) through Deno FFI to the C library, on Linux.
 *
 * `node:fs` has `statfs` and `statfsSync`, but importing either makes Deno load its Node file
 * system polyfills into every running agent: some MBs of resident memory for one call per mount a
 * minute. The C library is opened at the first call, never when this module is imported.
 *
 * `struct statfs` is the same on every 64-bit Linux Deno builds for (x86_64 and aarch64 use the
 * generic layout): eleven 8-byte words in this order, then `f_spare`.
 *
 * @module
 */

/** The glibc shared object; every Linux that runs a Deno binary has it. */
export const LIBC = "libc.so.6";

/** Bytes of `struct statfs` on 64-bit Linux (120), rounded up for safety. */
const STATFS_SIZE = 128;

/** The fields of `struct statfs` used, as `node:fs` names them. */
export interface StatFsAnswer {
  readonly type: number;
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
  readonly frsize: number;
}

const SYMBOLS = {
  /** `int statfs(const char *path, struct statfs *buf)`, on the agent's thread. */
  statfs: { name: "statfs", parameters: ["buffer", "buffer"], result: "i32" },
  /** The same call on a thread of the runtime's pool, for a mount that may not answer. */
  statfsOffThread: {
    name: "statfs",
    parameters: ["buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** `int *__errno_location(void)`: this thread's errno. */
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** statfs cannot be called at all here: no `--allow-ffi`, or no C library to open. */
export class StatfsUnavailable extends Error {
  constructor(cause: unknown) {
    const reason = cause instanceof Deno.errors.NotCapable
      ? "it needs --allow-ffi (or -A)"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    super(`cannot call statfs through ${LIBC}: ${reason}`, { cause });
    this.name = "StatfsUnavailable";
  }
}

let library: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (library) return library;
  try {
    library = Deno.dlopen(LIBC, SYMBOLS).symbols;
  } catch (error) {
    throw new StatfsUnavailable(error);
  }
  return library;
}

/** Decodes a `struct statfs` buffer (64-bit Linux layout). */
export function decodeStatFs(buffer: Uint8Array): StatFsAnswer {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  // f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid, f_namelen, f_frsize
  const word = (i: number) => Number(view.getBigUint64(i * 8, true));
  return {
    type: word(0),
    bsize: word(1),
    blocks: word(2),
    bfree: word(3),
    bavail: word(4),
    files: word(5),
    ffree: word(6),
    frsize: word(9),
  };
}

/** The path as a NUL-terminated C string; a NUL inside it cannot name a file. */
function cPath(path: string): Uint8Array {
  if (path.includes("\0")) throw new TypeError(`path contains a NUL byte: ${JSON.stringify(path)}`);
  return new TextEncoder().encode(`${path}\0`);
}

/** The errno of the last failed call on this thread. */
function errno(): number {
  const at = libc().__errno_location();
  return at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
}

/**
 * statfs(2) of `path` on this thread: only for a filesystem that answers from memory.
 *
 * @throws {StatfsUnavailable} when statfs cannot be called here.
 * @throws {Error} naming the errno when the call fails.
 */
export function statfsSync(path: string): StatFsAnswer {
  const buffer = new Uint8Array(STATFS_SIZE);
  if (libc().statfs(cPath(path), buffer) !== 0) {
    throw new Error(`statfs ${path} failed: errno ${errno()}`);
  }
  return decodeStatFs(buffer);
}

/**
 * statfs(2) of `path` on a thread of the runtime's pool: it may never answer (a dead NFS mount),
 * so the caller races it against a deadline.
 *
 * @throws {StatfsUnavailable} when statfs cannot be called here.
 * @throws {Error} when the call fails (the errno stays on the pool's thread).
 */
export async function statfs(path: string): Promise<StatFsAnswer> {
  const buffer = new Uint8Array(STATFS_SIZE);
  if (await libc().statfsOffThread(cPath(path), buffer) !== 0) {
    throw new Error(`statfs ${path} failed`);
  }
  return decodeStatFs(buffer);
}
