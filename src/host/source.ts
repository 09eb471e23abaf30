/**
 * Reads host files under configurable roots, like node_exporter's `--path.procfs`.
 *
 * Every collector and spec generator reads through a {@linkcode Source}, so a fixture tree can stand
 * in for the live `/proc` and `/sys`, and a container can watch the host through bind mounts: with
 * the host's `/` at `-rootfs`, filesystem sizes, `/etc` and the host name come from the host.
 *
 * @module
 */
import { errorMessage } from "../log.ts";
import { join, normalize } from "../file_path.ts";

/** Where host files are read from. */
export interface SourceRoots {
  /** Root of procfs; `/proc` by default (`-procfs`). */
  readonly procfs?: string;
  /** Root of sysfs; `/sys` by default (`-sysfs`). */
  readonly sysfs?: string;
  /** Where the host's `/` is mounted; `/` by default (`-rootfs`, like node_exporter's `--path.rootfs`). */
  readonly rootfs?: string;
  /** Directory holding `os-release` and friends; `<rootfs>/etc` by default (tests point it elsewhere). */
  readonly etc?: string;
}

/** Reads text files under the procfs, sysfs and etc roots. */
export interface Source {
  readonly procfs: string;
  readonly sysfs: string;
  /** The host's `/`, normalized without a trailing slash; `/` unless the agent watches from outside. */
  readonly rootfs: string;
  readonly etc: string;
  /** Absolute path of `rel` under the procfs root. */
  procPath(rel: string): string;
  /** Absolute path of `rel` under the sysfs root. */
  sysPath(rel: string): string;
  /** Absolute path of `rel` under the etc root. */
  etcPath(rel: string): string;
  /** Where the host's path `path` (a mount point, say) is seen from here: `path` under the rootfs. */
  rootPath(path: string): string;
  /** Reads `rel` under the procfs root as text. */
  readProc(rel: string): Promise<string>;
  /** Reads `rel` under the sysfs root as text. */
  readSys(rel: string): Promise<string>;
  /** Reads `rel` under the etc root as text. */
  readEtc(rel: string): Promise<string>;
  /** Lists the entry names of directory `rel` under the sysfs root, sorted. */
  listSys(rel: string): Promise<string[]>;
}

/** Creates a {@linkcode Source} bound to the given roots. */
export function createSource(roots: SourceRoots = {}): Source {
  const procfs = roots.procfs ?? "/proc";
  const sysfs = roots.sysfs ?? "/sys";
  const rootfs = normalize(roots.rootfs ?? "/").replace(/(.)\/+$/, "$1");
  const etc = roots.etc ?? join(rootfs, "etc");
  const procPath = (rel: string) => join(procfs, rel);
  const sysPath = (rel: string) => join(sysfs, rel);
  const etcPath = (rel: string) => join(etc, rel);
  return {
    procfs,
    sysfs,
    rootfs,
    etc,
    procPath,
    sysPath,
    etcPath,
    rootPath: (path) => join(rootfs, path),
    readProc: (rel) => readProcFile(procPath(rel), GROWS_WITH_HOST.test(rel)),
    readSys: (rel) => Deno.readTextFile(sysPath(rel)),
    readEtc: (rel) => Deno.readTextFile(etcPath(rel)),
    listSys: async (rel) => {
      const names: string[] = [];
      for await (const entry of Deno.readDir(sysPath(rel))) names.push(entry.name);
      return names.sort();
    },
  };
}

/**
 * procfs tables whose size grows with the host's load: one line per socket, or per mount (a
 * Kubernetes node has thousands). A synchronous read of megabytes would hold the event loop
 * (timers, signals, posting) for as long, so once such a table was found large it is read
 * asynchronously; while it stays small it is read as the other files are.
 */
const GROWS_WITH_HOST = /(^|\/)(mounts|net\/tcp6?)$/;

/** Length (in UTF-16 units) from which a table that grows with the host is read asynchronously. */
const LARGE_TABLE = 256 * 1024;

/** The tables that grow with the host last found at least {@linkcode LARGE_TABLE} long. */
const largeTables = new Set<string>();

/** Reads a procfs file, on this thread unless it is a table that grows and was last found large. */
async function readProcFile(path: string, grows: boolean): Promise<string> {
  if (!grows) return readSmallFile(path);
  const text = largeTables.has(path) ? await Deno.readTextFile(path) : await readSmallFile(path);
  if (text.length >= LARGE_TABLE) largeTables.add(path);
  else largeTables.delete(path);
  return text;
}

/**
 * Reads a procfs file without a thread-pool round trip: its contents are made by the kernel on
 * read and never wait on a disk or a network, and a synchronous read costs half the CPU of an
 * async one (`scripts/bench_procfs_read.ts`).
 */
function readSmallFile(path: string): Promise<string> {
  try {
    return Promise.resolve(Deno.readTextFileSync(path));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Why a source cannot be read, in words an operator can act on, or `undefined` when it can.
 *
 * Deno 2 treats everything under /proc and /sys (but /proc/pressure) as a special file that only
 * `--allow-all` opens; `--allow-read=/proc` is not enough, so the message says which flag to add.
 */
export async function probeReadable(path: string): Promise<string | undefined> {
  try {
    const file = await Deno.open(path, { read: true });
    file.close();
    return undefined;
  } catch (error) {
    return describeReadError(path, error);
  }
}

/** Describes a failed read of `path` in one line. */
export function describeReadError(path: string, error: unknown): string {
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    const special = /^\/(proc|sys)(\/|$)/.test(path) && !path.startsWith("/proc/pressure");
    return special
      ? `cannot read ${path}: Deno opens /proc and /sys only with --allow-all (-A)`
      : `cannot read ${path}: permission denied (grant --allow-read)`;
  }
  if (error instanceof Deno.errors.NotFound) return `cannot read ${path}: no such file`;
  return `cannot read ${path}: ${errorMessage(error)}`;
}

/** Whether the agent watches the host from outside its root (`-rootfs` other than `/`). */
export function watchesFromOutside(source: Pick<Source, "rootfs">): boolean {
  return source.rootfs !== "/";
}

/**
 * Why `root` cannot serve as a procfs, sysfs or host root, or `undefined` when it can.
 *
 * A root that is missing, not a directory or empty is a user mistake worth a clear error; one this
 * process may not open (Deno's rule for /proc and /sys) is not: the collectors degrade instead.
 */
export async function checkRoot(root: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(root);
    if (!info.isDirectory) return "not a directory";
    for await (const _ of Deno.readDir(root)) return undefined;
    return "empty directory";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "no such directory";
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return undefined;
    }
    return errorMessage(error);
  }
}
