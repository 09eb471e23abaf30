/**
 * What the agent reads an operating system through, beside files: the commands it runs, the
 * shared libraries it calls through Deno FFI, and Deno's own built-ins. Collectors and host parts
 * take a {@linkcode Platform} instead of calling `Deno.Command` or `Deno.dlopen` themselves, so
 * the macOS and Windows code loads, type-checks and runs on Linux against fixtures
 * (`tests/support/fixture_platform.ts`), and nothing touches an OS API when a module is imported:
 * a library is opened at the first call of a symbol, inside a collector's `create` or `collect`.
 *
 * @module
 */
import { errorMessage } from "../log.ts";
import { runCommand } from "../plugins/command.ts";
import { executableProblem } from "../plugins/exec_path.ts";

/** The operating systems Deno builds for, as `Deno.build.os` names them. */
export type OperatingSystem = typeof Deno.build.os;

/** Options of a {@linkcode CommandRunner} call. */
export interface RunOptions {
  readonly signal?: AbortSignal;
}

/** Runs `command` (an absolute path) with `args` and resolves to its standard output. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: RunOptions,
) => Promise<string>;

/** The symbols of `library` described by `symbols`, opened on first use and kept open. */
export type LibraryOpener = <const S extends Deno.ForeignLibraryInterface>(
  library: string,
  symbols: S,
) => Deno.DynamicLibrary<S>["symbols"];

/** CPU times of one logical CPU as `node:os` `cpus()` reports them, in milliseconds. */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly sys: number;
  readonly idle: number;
  readonly irq: number;
}

/** The Deno built-ins the per-OS code uses (each needs its `--allow-sys` kind). */
export interface Builtins {
  /**
   * `node:os` `cpus()` times (`--allow-sys=cpus`). `node:os` is imported at the first call: on
   * Linux the times come from `/proc/stat`, and the module costs an agent that never calls it
   * resident memory.
   */
  readonly cpuTimes: () => Promise<CpuTimes[]>;
  /** `Deno.loadavg()` (`--allow-sys=loadavg`). */
  readonly loadavg: () => readonly number[];
  /** `Deno.systemMemoryInfo()` (`--allow-sys=systemMemoryInfo`). */
  readonly systemMemoryInfo: () => Deno.SystemMemoryInfo;
  /** `Deno.networkInterfaces()` (`--allow-sys=networkInterfaces`). */
  readonly networkInterfaces: () => Deno.NetworkInterfaceInfo[];
}

/** An `--allow-sys` kind (`cpus`, `loadavg` ...). */
export type SysKind = NonNullable<Deno.SysPermissionDescriptor["kind"]>;

/** A source a collector reads besides files: a command, a shared library, or a built-in. */
export type SourceRef =
  | { readonly command: string }
  | { readonly library: string }
  | { readonly sys: SysKind };

/** Whether a source can be used: yes, this system has none, or this process may not. */
export type Probe =
  | { readonly kind: "ok" }
  | { readonly kind: "absent"; readonly reason: string }
  | { readonly kind: "denied"; readonly reason: string };

/** Everything the per-OS code reads an operating system through. */
export interface Platform {
  readonly os: OperatingSystem;
  readonly run: CommandRunner;
  readonly open: LibraryOpener;
  readonly builtins: Builtins;
  /** Whether this process can use `ref`, asked once at start. */
  readonly probe: (ref: SourceRef) => Promise<Probe>;
}

/** How long one OS command may run; upstream gives `df` 15 s, and these answer in milliseconds. */
export const COMMAND_TIMEOUT_MS = 15_000;

/** Output kept of one OS command; a host with hundreds of mounts or links stays far below. */
const MAX_OUTPUT_BYTES = 4 << 20;

/**
 * Runs an OS command as plugins run (the C locale, so numbers and headers never vary, a deadline,
 * capped output); rejects with one line on any failure.
 */
export const runOsCommand: CommandRunner = async (command, args, options = {}) => {
  const result = await runCommand({
    command: { kind: "argv", argv: [command, ...args] },
    timeoutMs: COMMAND_TIMEOUT_MS,
    killGraceMs: 1_000,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    signal: options.signal,
  });
  const line = [command, ...args].join(" ");
  if (result.error !== undefined || result.exitCode !== 0) {
    const why = result.error ?? `exit status ${result.exitCode}`;
    const stderr = result.stderr.trim().split("\n")[0];
    throw new Error(`${line}: ${why}${stderr ? `: ${stderr}` : ""}`);
  }
  if (result.truncated) throw new Error(`${line}: more than ${MAX_OUTPUT_BYTES} bytes of output`);
  return result.stdout;
};

/** The symbols of each library opened so far, by library and symbol table. */
const opened = new Map<string, WeakMap<object, unknown>>();

/** {@linkcode LibraryOpener} over `Deno.dlopen`: each library is opened once, at the first call. */
export const openLibrary: LibraryOpener = (library, symbols) => {
  let byTable = opened.get(library);
  if (byTable === undefined) opened.set(library, byTable = new WeakMap());
  let found = byTable.get(symbols) as Deno.DynamicLibrary<typeof symbols>["symbols"] | undefined;
  if (found === undefined) {
    found = Deno.dlopen(library, symbols).symbols;
    byTable.set(symbols, found);
  }
  return found;
};

/** Deno's built-ins. */
export const denoBuiltins: Builtins = {
  cpuTimes: async () => (await import("node:os")).cpus().map((cpu) => cpu.times),
  loadavg: () => Deno.loadavg(),
  systemMemoryInfo: () => Deno.systemMemoryInfo(),
  networkInterfaces: () => Deno.networkInterfaces(),
};

/** Whether this process may run `command` (an absolute path) and it exists. */
export async function probeCommand(command: string): Promise<Probe> {
  const run = await Deno.permissions.query({ name: "run", command });
  if (run.state !== "granted") {
    return { kind: "denied", reason: `cannot run ${command}: grant --allow-run (or -A)` };
  }
  const problem = executableProblem(command);
  if (problem === "no such file or directory") {
    return { kind: "absent", reason: `${command} does not exist on this system` };
  }
  if (problem !== undefined) return { kind: "denied", reason: `cannot run ${command}: ${problem}` };
  return { kind: "ok" };
}

/** Whether this process may load `library` through FFI, trying it once. */
export function probeLibrary(library: string): Probe {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return { kind: "denied", reason: `cannot load ${library}: grant --allow-ffi (or -A)` };
  }
  try {
    Deno.dlopen(library, {}).close();
    return { kind: "ok" };
  } catch (error) {
    const reason = errorMessage(error);
    return { kind: "denied", reason: `cannot load ${library}: ${reason}` };
  }
}

/** Whether this process has `--allow-sys` for `kind`. */
export function probeSys(kind: SysKind): Probe {
  return Deno.permissions.querySync({ name: "sys", kind }).state === "granted"
    ? { kind: "ok" }
    : { kind: "denied", reason: `Deno's ${kind} needs --allow-sys=${kind} (or -A)` };
}

/** Probes `ref` on this system. */
export function probeSource(ref: SourceRef): Promise<Probe> {
  if ("command" in ref) return probeCommand(ref.command);
  if ("library" in ref) return Promise.resolve(probeLibrary(ref.library));
  return Promise.resolve(probeSys(ref.sys));
}

/** The platform the agent runs on. */
export const currentPlatform: Platform = {
  os: Deno.build.os,
  run: runOsCommand,
  open: openLibrary,
  builtins: denoBuiltins,
  probe: probeSource,
};
