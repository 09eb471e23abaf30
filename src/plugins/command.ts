/**
 * Runs a plugin command the way mackerel-agent's `cmdutil.RunCommand` does (docs/upstream.md,
 * "Process environment", "Plugin command, env and timeout", "Running a plugin").
 *
 * The child runs in its own process group so that a timeout reaches the shell *and* everything it
 * started (Deno.Command's own abort kills only the direct child, and grandchildren would keep the
 * output pipes open). Deno has no setsid/setpgid spawn option, so the child is started through
 * util-linux `setsid` (`/usr/bin/setsid` or `/bin/setsid`): our child is never a group leader, so
 * setsid calls setsid(2) and execs the command in place - the pid we hold is the command itself and
 * also its process-group id, which `Deno.kill(-pid, ...)` signals as a whole. Where no `setsid`
 * binary exists (non-Linux systems, minimal images) the command is spawned directly and only the
 * direct child is signalled; the pipe readers are still cancelled shortly after the final SIGKILL,
 * so a grandchild can never hold a run open past the timeout plus grace. While the plugin watchdog
 * runs (watchdog.ts, started by the daemon), each run is listed with it, so that the agent's death
 * ends the run's process group too.
 *
 * @module
 */
import type { CommandConfig, CommandSpec } from "../config/schema.ts";
import { logger } from "../log.ts";
import { errnoText, exitCodeFor, locateCached, setsidBinary } from "./exec_path.ts";
import { pluginWatchdog } from "./watchdog.ts";

/**
 * What a run produced; `exitCode` follows upstream (docs/upstream.md, "Running a plugin"): 128 + N
 * for signal N, 125-127 for launch failures.
 */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** The timeout fired (the command may still have exited on its own afterwards). */
  readonly timedOut: boolean;
  /**
   * stdout or stderr exceeded `maxOutputBytes`: what was kept ends at its last complete line, and
   * the command was stopped (its output is not read past the cap).
   */
  readonly truncated: boolean;
  /** `command timed out`, `command canceled` or `exit code: <n>, <launch error>`. */
  readonly error?: string;
}

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  readonly command: CommandSpec;
  /** Run as this user through `sudo -Eu <user>`. */
  readonly user?: string;
  /** The plugin's configured environment, `KEY=value` strings. */
  readonly env?: readonly string[];
  /** Variables the agent adds for this run (e.g. `MACKEREL_AGENT_PLUGIN_META`); these win. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Time before SIGTERM; 0 or negative signals at once. */
  readonly timeoutMs: number;
  /** Time between the first SIGTERM and SIGKILL; default 10 000 ms as upstream. */
  readonly killGraceMs?: number;
  /** Bytes kept per stream; default {@linkcode MAX_OUTPUT_BYTES}. */
  readonly maxOutputBytes?: number;
  /** Aborting terminates the command like a timeout does (error `command canceled`). */
  readonly signal?: AbortSignal;
  /** Aborting kills the command's group at once, without the grace (the agent is exiting). */
  readonly kill?: AbortSignal;
}

const DEFAULT_KILL_GRACE_MS = 10_000;
/**
 * What one plugin run may print on each stream: far more than any real plugin (a whole
 * mackerel-plugin-linux run is under 100 KB), small enough that a runaway one cannot grow the
 * agent. Past it the plugin is stopped and the complete lines before the cap are used.
 */
export const MAX_OUTPUT_BYTES = 1 << 20;
/** After the final SIGKILL, how long output from processes outside the group may still arrive. */
const MAX_DRAIN_AFTER_KILL_MS = 1_000;
const PATH_PREFIX = "/sbin:/usr/sbin:/bin:/usr/bin:";
const PATH_SUFFIX = ":/opt/mackerel-agent/plugins/bin";

const log = logger("cmdutil");

/** The argv a spec runs as: `sh -c <line>` or the array, prefixed `sudo -Eu <user>` when a user is set. */
export function commandArgv(
  command: CommandSpec,
  user?: string,
  os: typeof Deno.build.os = Deno.build.os,
): string[] {
  if (os === "windows") {
    // As upstream: cmd with Unicode output, trailing CR/LF trimmed; `user` is not supported there.
    return command.kind === "shell"
      ? ["cmd", "/U", "/c", command.line.replace(/[\r\n]+$/, "")]
      : [...command.argv];
  }
  const argv = command.kind === "shell" ? ["sh", "-c", command.line] : [...command.argv];
  return user ? ["sudo", "-Eu", user, ...argv] : argv;
}

/** How upstream prints a command in logs: the shell line, or the argv joined by spaces. */
export function commandString(command: CommandSpec): string {
  return command.kind === "shell" ? command.line : command.argv.join(" ");
}

/**
 * The agent's PATH (docs/upstream.md, "Process environment"); idempotent, so applying it to an
 * already adjusted PATH is harmless.
 */
export function pluginPath(oldPath: string | undefined): string {
  const old = oldPath ?? "";
  if (old.startsWith(PATH_PREFIX) && old.endsWith(PATH_SUFFIX)) return old;
  return old === "" ? PATH_PREFIX + PATH_SUFFIX.slice(1) : PATH_PREFIX + old + PATH_SUFFIX;
}

/**
 * The child's environment: agent env (with upstream's PATH, LANG, LC_ALL), then config `env`, then
 * `extraEnv`.
 */
export function buildEnv(
  base: Readonly<Record<string, string>>,
  env: readonly string[] = [],
  extraEnv: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  Object.assign(out, base, { PATH: pluginPath(base.PATH), LANG: "C", LC_ALL: "C" });
  for (const entry of env) {
    const eq = entry.indexOf("=");
    // Entries without a key cannot be passed through Deno's env object; upstream's parser rejects them.
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return Object.assign(out, extraEnv);
}

/**
 * The variables the agent itself sets (docs/upstream.md, "Process environment", "Proxies"): the
 * only ones that can change under it.
 */
const AGENT_SET_VARIABLES = ["PATH", "HTTP_PROXY", "HTTPS_PROXY"] as const;
let baseEnv: { readonly key: string; readonly env: Readonly<Record<string, string>> } | undefined;

/**
 * The agent's environment as every plugin gets it before its own `env` (upstream's PATH, LANG,
 * LC_ALL), copied once rather than on every run: it is rebuilt only when a variable the agent sets
 * changes, which a few `Deno.env.get` calls detect at a fraction of the cost of the copy.
 */
export function pluginBaseEnv(): Readonly<Record<string, string>> {
  const key = AGENT_SET_VARIABLES.map((name) => Deno.env.get(name) ?? "\0").join("\0");
  if (baseEnv?.key !== key) baseEnv = { key, env: buildEnv(Deno.env.toObject()) };
  return baseEnv.env;
}

/** What {@linkcode runPluginCommand} adds to a plugin section's own settings. */
export interface PluginRunOptions {
  readonly extraEnv?: Record<string, string>;
  readonly signal?: AbortSignal;
  readonly kill?: AbortSignal;
  readonly killGraceMs?: number;
}

/** Runs a plugin section's command with its `user`, `env` and `timeout_seconds`. */
export function runPluginCommand(
  config: CommandConfig,
  options: PluginRunOptions = {},
): Promise<CommandResult> {
  return runCommand({
    command: config.command,
    user: config.user,
    env: config.env,
    timeoutMs: config.timeoutSeconds * 1000,
    ...options,
  });
}

/**
 * Runs a plugin command with a timeout, a process-group kill and capped output
 * (docs/upstream.md, "Running a plugin").
 */
export async function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  const argv = commandArgv(options.command, options.user);
  const base = pluginBaseEnv();
  const env = buildEnv(base, options.env, options.extraEnv);
  const located = locateCached(argv[0], base.PATH);
  if ("code" in located) return launchFailure(argv, located.code, located.message);
  const setsid = setsidBinary();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(setsid ?? located.path, {
      args: setsid ? ["--", located.path, ...argv.slice(1)] : argv.slice(1),
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    const problem = errnoText(e);
    return launchFailure(argv, exitCodeFor(problem), `fork/exec ${located.path}: ${problem}`);
  }
  // Listed until the run is over, so that the agent's death ends it and its group.
  const unwatch = pluginWatchdog()?.watch(child.pid);
  try {
    return await supervise(child, setsid !== undefined, options, argv);
  } finally {
    unwatch?.();
  }
}

async function supervise(
  child: Deno.ChildProcess,
  ownGroup: boolean,
  options: RunCommandOptions,
  argv: readonly string[],
): Promise<CommandResult> {
  const cap = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
  const grace = Math.max(0, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  // Past the cap the command is stopped: reading a runaway plugin to its end costs a core.
  const overflow = () => startTermination();
  const stdout = drain(child.stdout, cap, overflow);
  const stderr = drain(child.stderr, cap, overflow);
  const timers: ReturnType<typeof setTimeout>[] = [];
  const intervals: ReturnType<typeof setInterval>[] = [];
  let timedOut = false;
  let aborted = false;
  let terminating = false;

  const signalAll = (sig: Deno.Signal) => {
    try {
      if (ownGroup) {
        try {
          return Deno.kill(-child.pid, sig);
        } catch {
          // No such group yet: setsid has not run, so the child is still alone in ours.
        }
      }
      child.kill(sig);
    } catch {
      // ESRCH: the child has already exited.
    }
  };
  const terminate = () => {
    signalAll("SIGTERM");
    signalAll("SIGCONT"); // a stopped process cannot act on SIGTERM
  };
  const startTermination = () => {
    if (terminating) return;
    terminating = true;
    terminate();
    // Upstream repeats the signal every further timeout period until the kill.
    intervals.push(setInterval(terminate, Math.max(options.timeoutMs, 100)));
    timers.push(setTimeout(() => {
      signalAll("SIGKILL");
      // Whoever still holds a pipe now is outside the group: stop waiting for them.
      timers.push(setTimeout(() => {
        stdout.cancel();
        stderr.cancel();
      }, Math.min(grace, MAX_DRAIN_AFTER_KILL_MS)));
    }, grace));
  };
  const onAbort = () => {
    aborted = true;
    startTermination();
  };
  const onKill = () => {
    aborted = true;
    terminating = true;
    signalAll("SIGKILL");
    timers.push(setTimeout(() => {
      stdout.cancel();
      stderr.cancel();
    }, MAX_DRAIN_AFTER_KILL_MS));
  };

  timers.push(setTimeout(() => {
    timedOut = true;
    startTermination();
  }, Math.max(0, options.timeoutMs)));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.kill?.aborted) onKill();
  else options.kill?.addEventListener("abort", onKill, { once: true });

  try {
    // Always await the status so the child is reaped, whatever happens to the pipes.
    const [status, out, err] = await Promise.all([child.status, stdout.done, stderr.done]);
    const result: CommandResult = {
      stdout: out.text,
      stderr: err.text,
      exitCode: status.code,
      timedOut,
      truncated: out.truncated || err.truncated,
    };
    if ((timedOut || aborted) && status.signal !== null) {
      const error = timedOut ? "command timed out" : "command canceled";
      // A cancel is the agent's own stop, not the plugin's fault: not worth an ERROR.
      if (timedOut) log.error(`RunCommand error. command: ${goArgv(argv)}, error: ${error}`);
      else log.debug(`RunCommand canceled. command: ${goArgv(argv)}`);
      return { ...result, error };
    }
    return result;
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const t of intervals) clearInterval(t);
    options.signal?.removeEventListener("abort", onAbort);
    options.kill?.removeEventListener("abort", onKill);
  }
}

interface Drained {
  readonly done: Promise<{ text: string; truncated: boolean }>;
  cancel(): void;
}

/**
 * Bytes a pipe is read with at a time. A plugin prints a few kB a run; Deno's default reader
 * allocates 64 KiB for every read, the last (empty) one included, and those buffers wait for a
 * garbage collection in the C heap, which then stays as large as the most it held.
 */
const READ_CHUNK_BYTES = 16 * 1024;

/**
 * Reads a stream to its end or to `cap` bytes; past the cap it stops reading, calls `onOverflow`
 * once, and keeps what came before the cap up to its last complete line (a line cut in the middle
 * could read as another value). One buffer of {@linkcode READ_CHUNK_BYTES} is read into again and
 * again; only the bytes read are kept.
 */
function drain(stream: ReadableStream<Uint8Array>, cap: number, onOverflow: () => void): Drained {
  const reader = stream.getReader({ mode: "byob" });
  const done = (async () => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let truncated = false;
    let buffer = new ArrayBuffer(READ_CHUNK_BYTES);
    try {
      for (;;) {
        const { done, value } = await reader.read(new Uint8Array(buffer));
        if (done || value === undefined) break;
        buffer = value.buffer;
        const take = Math.min(value.length, cap - size);
        if (take > 0) {
          chunks.push(value.slice(0, take));
          size += take;
        }
        if (take < value.length) {
          truncated = true;
          onOverflow();
          reader.cancel().catch(() => {});
          break;
        }
      }
    } catch {
      // Cancelled or broken pipe: keep what arrived.
    }
    let bytes = new Uint8Array(size);
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.length;
    }
    if (truncated) bytes = bytes.subarray(0, bytes.lastIndexOf(10) + 1);
    return { text: new TextDecoder().decode(bytes), truncated };
  })();
  return {
    done,
    cancel: () => {
      reader.cancel().catch(() => {});
    },
  };
}

function launchFailure(argv: readonly string[], code: number, message: string): CommandResult {
  const error = `exit code: ${code}, ${message}`;
  log.error(`RunCommand error. command: ${goArgv(argv)}, error: ${error}`);
  return { stdout: "", stderr: "", exitCode: code, timedOut: false, truncated: false, error };
}

/** Go's `%v` of a []string. */
function goArgv(argv: readonly string[]): string {
  return `[${argv.join(" ")}]`;
}
