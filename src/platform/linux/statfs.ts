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

/**
 * Every symbol is opened `nonblocking`: for a symbol it may call on the agent's thread Deno compiles
 * a fast-call trampoline when the library is opened, and that compiler's code costs the agent about
 * 1.3 MB more of resident memory (`docs/architecture.md`, "Memory is the runtime's first").
 * What runs on the agent's thread is called through the function's address instead
 * (`Deno.UnsafeFnPointer`, which goes through libffi), found once with `dlsym`.
 */
const SYMBOLS = {
  /** `int statfs(const char *path, struct statfs *buf)` on a thread of the runtime's pool. */
  statfs: { parameters: ["buffer", "buffer"], result: "i32", nonblocking: true },
  /** `void *dlsym(void *handle, const char *symbol)`; a null handle is glibc's RTLD_DEFAULT. */
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer", nonblocking: true },
} as const;

const STATFS_CALL = { parameters: ["buffer", "buffer"], result: "i32" } as const;
/** `int *__errno_location(void)`: this thread's errno. */
const ERRNO_CALL = { parameters: [], result: "pointer" } as const;

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

interface Libc {
  readonly offThread: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"]["statfs"];
  readonly now: Deno.UnsafeFnPointer<typeof STATFS_CALL>;
  readonly errnoLocation: Deno.UnsafeFnPointer<typeof ERRNO_CALL>;
}

let opening: Promise<Libc> | undefined;

/** The C library, opened at the first call; rejects with {@linkcode StatfsUnavailable}. */
function libc(): Promise<Libc> {
  return opening ??= openLibc();
}

async function openLibc(): Promise<Libc> {
  let library: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    library = Deno.dlopen(LIBC, SYMBOLS);
  } catch (error) {
    throw new StatfsUnavailable(error);
  }
  const address = async <T extends Deno.ForeignFunction>(name: string, _call: T) => {
    const found = await library.symbols.dlsym(null, new TextEncoder().encode(`${name}\0`));
    if (found === null) throw new StatfsUnavailable(new Error(`${LIBC} has no ${name}`));
    return found as Deno.PointerObject<T>;
  };
  return {
    offThread: library.symbols.statfs,
    now: new Deno.UnsafeFnPointer(await address("statfs", STATFS_CALL), STATFS_CALL),
    errnoLocation: new Deno.UnsafeFnPointer(
      await address("__errno_location", ERRNO_CALL),
      ERRNO_CALL,
    ),
  };
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
function errno(lib: Libc): number {
  const at = lib.errnoLocation.call();
  return at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
}

/**
 * statfs(2) on this thread, once the C library is open: only for a filesystem that answers from
 * memory. The function it resolves to throws {@linkcode StatfsUnavailable} when statfs cannot be
 * called here, and an error naming the errno when the call fails.
 */
export async function openStatfsSync(): Promise<(path: string) => StatFsAnswer> {
  let lib: Libc;
  try {
    lib = await libc();
  } catch (error) {
    return () => {
      throw error;
    };
  }
  return (path) => {
    const buffer = new Uint8Array(STATFS_SIZE);
    if (lib.now.call(cPath(path), buffer) !== 0) {
      throw new Error(`statfs ${path} failed: errno ${errno(lib)}`);
    }
    return decodeStatFs(buffer);
  };
}

/**
 * statfs(2) of `path` on a thread of the runtime's pool: it may never answer (a dead NFS mount),
 * so the caller races it against a deadline.
 *
 * @throws {StatfsUnavailable} when statfs cannot be called here.
 * @throws {Error} when the call fails (the errno stays on the pool's thread).
 */
export async function statfs(path: string): Promise<StatFsAnswer> {
  const lib = await libc();
  const buffer = new Uint8Array(STATFS_SIZE);
  if (await lib.offThread(cPath(path), buffer) !== 0) {
    throw new Error(`statfs ${path} failed`);
  }
  return decodeStatFs(buffer);
}
