/**
 * `supervise`: runs the agent as a child process, restarts it when it dies after running long
 * enough, forwards stop signals and, on HUP, restarts it only after a passing configtest
 * (docs/upstream.md, "supervise").
 *
 * @module
 */
import { EXIT_CONFIG } from "../exit_codes.ts";
import { errorMessage, logger } from "../log.ts";

/** How to start this program again: the executable and the words before the subcommand/flags. */
export interface SelfProgram {
  readonly command: string;
  /** `["run", "-A", <main module>]` under `deno run`; empty for a compiled binary. */
  readonly prefix: readonly string[];
}

/** Where {@linkcode selfProgram} looks; the running process by default (tests pass others). */
export interface SelfProgramOptions {
  readonly execPath?: string;
  readonly mainModule?: string;
}

/**
 * The command that starts this program again. A compiled binary is its own program; under
 * `deno run` the executable is `deno` and the program is `deno run -A <main module>` (`-A`
 * because the flags of the running process cannot be read back, and the agent needs them all).
 */
export function selfProgram(options: SelfProgramOptions = {}): SelfProgram {
  const execPath = options.execPath ?? Deno.execPath();
  const mainModule = options.mainModule ?? Deno.mainModule;
  // Split by hand: `node:path` on Linux would not split a Windows path.
  const name = execPath.split(/[\\/]/).pop()!.toLowerCase();
  const isDeno = name === "deno" || name === "deno.exe";
  // A compiled binary runs its main module from a virtual `deno-compile-<name>` directory.
  const compiled = mainModule.includes("/deno-compile-") || mainModule.includes("\\deno-compile-");
  if (isDeno && !compiled) return { command: execPath, prefix: ["run", "-A", mainModule] };
  return { command: execPath, prefix: [] };
}

/** The signals the supervisor acts on. */
export type SupervisedSignal = "SIGINT" | "SIGTERM" | "SIGQUIT" | "SIGHUP";

/** Subscribes a handler to the supervised signals; returns the unsubscribe function. */
export type SignalSubscriber = (handler: (signal: SupervisedSignal) => void) => () => void;

const SUPERVISED: readonly SupervisedSignal[] = ["SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP"];

/** Subscribes to the process's own INT, TERM, QUIT and HUP. */
export const processSignals: SignalSubscriber = (handler) => {
  const listeners = SUPERVISED.map((signal) => [signal, () => handler(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
};

/** Bound on restarts after crashes. */
export interface CrashLoopBound {
  /** Restarts allowed within {@linkcode CrashLoopBound.periodMs}. */
  readonly maxRestarts: number;
  readonly periodMs: number;
}

/** Options of {@linkcode supervise}. */
export interface SuperviseOptions {
  readonly program: SelfProgram;
  /** The flags given to `supervise`; the child gets them followed by `-child`. */
  readonly args: readonly string[];
  /** A child that exits within this long of its start is not restarted (upstream: 30 s). */
  readonly spawnWindowMs: number;
  /** Default: 5 restarts within 10 spawn windows. */
  readonly crashLoop?: CrashLoopBound;
  /** Default: the process's own signals. */
  readonly signals?: SignalSubscriber;
  readonly now?: () => number;
}

/** Why {@linkcode supervise} returned, with the last child's exit status. */
export interface SuperviseResult {
  /**
   * `signalled`: a stop signal was forwarded and the child then exited; `early-exit`: the child
   * died within the spawn window; `crash-loop`: the restart bound was reached; `fatal`: the child
   * exited with {@linkcode EXIT_CONFIG} after the spawn window.
   */
  readonly reason: "signalled" | "early-exit" | "crash-loop" | "fatal";
  readonly status: Deno.CommandStatus;
}

/** Go's wording of signals (`signal: killed`), which operators' log filters may know. */
const GO_SIGNAL_NAMES: Readonly<Partial<Record<Deno.Signal, string>>> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGTRAP: "trace/breakpoint trap",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGUSR1: "user defined signal 1",
  SIGSEGV: "segmentation fault",
  SIGUSR2: "user defined signal 2",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
};

/** A failed exit in Go's `exec` wording (`exit status 1`, `signal: killed`); `undefined` on success. */
export function describeExit(status: Deno.CommandStatus): string | undefined {
  if (status.signal) return `signal: ${GO_SIGNAL_NAMES[status.signal] ?? status.signal}`;
  return status.success ? undefined : `exit status ${status.code}`;
}

/**
 * Whether one more restart would exceed the bound, given the times of the earlier restarts.
 * Upstream restarts forever; this bound is our addition, so that an agent that crashes every
 * minute ends up in the service manager's hands (systemd's own restart rate limit) instead.
 */
export function crashLoopReached(
  restartTimes: readonly number[],
  nowMs: number,
  bound: CrashLoopBound,
): boolean {
  return restartTimes.filter((t) => nowMs - t < bound.periodMs).length >= bound.maxRestarts;
}

/** Runs the child until a stop signal, an early death or a crash loop ends supervision. */
export async function supervise(options: SuperviseOptions): Promise<SuperviseResult> {
  const log = logger("supervisor");
  const now = options.now ?? Date.now;
  // Upstream's only protection is the spawn window; the bound is our improvement (see crashLoopReached).
  const bound = options.crashLoop ?? { maxRestarts: 5, periodMs: 10 * options.spawnWindowMs };
  let child: Deno.ChildProcess | undefined;
  let startedAt = 0;
  let signalled = false;
  let hupped = false;
  let reloading = Promise.resolve();
  const restarts: number[] = [];

  const start = () => {
    hupped = false;
    startedAt = now();
    child = new Deno.Command(options.program.command, {
      args: [...options.program.prefix, ...options.args, "-child"],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  };
  const reload = async () => {
    log.info("receiving HUP, spawning a new mackerel-agent");
    const target = child;
    const problem = await configtest(options);
    if (problem !== undefined) {
      log.warn(`failed to reload: configtest failed: ${problem}`);
      return;
    }
    // The child may have been replaced or stopped while configtest ran; leave the new one alone.
    if (signalled || target !== child) return;
    hupped = true;
    signal(target, "SIGTERM");
  };
  const unsubscribe = (options.signals ?? processSignals)((received) => {
    if (received === "SIGHUP") {
      // One reload at a time, in order, as upstream's single signal goroutine does.
      reloading = reloading.then(reload, reload);
      return;
    }
    signalled = true;
    signal(child, received);
  });
  try {
    start();
    for (;;) {
      // A plain copy: Deno's status object has no prototype, which surprises callers comparing it.
      const status: Deno.CommandStatus = { ...await child!.status };
      if (signalled) return { reason: "signalled", status };
      if (!hupped) {
        if (now() - startedAt <= options.spawnWindowMs) return { reason: "early-exit", status };
        const error = describeExit(status);
        // Our addition, as the unit's RestartPreventExitStatus: a restart would meet the same
        // config or the same refused key (and ask the API again), so leave it to a person.
        if (status.code === EXIT_CONFIG && status.signal === null) {
          log.error(
            `mackerel-agent finished with a configuration or credentials error; not ` +
              `restarting it: ${error}`,
          );
          return { reason: "fatal", status };
        }
        if (crashLoopReached(restarts, now(), bound)) {
          log.error(
            `mackerel-agent finished ${bound.maxRestarts + 1} times within ` +
              `${bound.periodMs / 1000} seconds; giving up restarting it: ${
                error ?? "exit status 0"
              }`,
          );
          return { reason: "crash-loop", status };
        }
        if (error !== undefined) {
          log.warn(
            `mackerel-agent abnormally finished with following error and try to restart it: ${error}`,
          );
        }
        restarts.push(now());
      }
      start();
    }
  } finally {
    unsubscribe();
    // A reload may still be running configtest; let it finish so no process outlives us.
    await reloading;
  }
}

/**
 * Runs `<program> configtest -lenient <args>`; returns its stderr when it fails. Lenient, as the
 * unit's pre-start check: unknown keys (which upstream ignores at run time) do not block a reload,
 * real errors do.
 */
async function configtest(options: SuperviseOptions): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(options.program.command, {
      args: [...options.program.prefix, "configtest", "-lenient", ...options.args],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    // Trimmed: the text ends a log line, and configtest's own newline would leave a blank one.
    return output.success ? undefined : new TextDecoder().decode(output.stderr).trimEnd();
  } catch (error) {
    return errorMessage(error);
  }
}

function signal(child: Deno.ChildProcess | undefined, name: Deno.Signal): void {
  try {
    child?.kill(name);
  } catch {
    // Already exited: the supervision loop sees the exit.
  }
}
