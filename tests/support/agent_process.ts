/**
 * Runs the real agent (`deno run main.ts …`, or another entry script) as a child process for CLI
 * and end-to-end tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
export { waitFor } from "./wait.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** Options of {@linkcode runAgent}. */
export interface RunAgentOptions {
  /** The script to run instead of `main.ts` (e.g. a fixture wiring the agent differently). */
  readonly entry?: string;
  /** Deno permission flags; `-A` by default. */
  readonly permissions?: readonly string[];
  /** Kill the child after this long (the test fails on the missing exit code). */
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

/**
 * The flags of a run against the fake API `api` with every file under `dir`: the config
 * `dir/agent.conf` (the test writes it), the host id under `dir/root`, the pidfile `dir/agent.pid`.
 */
export function daemonArgs(
  dir: string,
  api: { readonly url: string; readonly apiKey: string },
): string[] {
  return [
    `-conf=${join(dir, "agent.conf")}`,
    `-apibase=${api.url}`,
    `-apikey=${api.apiKey}`,
    `-root=${join(dir, "root")}`,
    `-pidfile=${join(dir, "agent.pid")}`,
  ];
}

/** What a finished agent process left behind. */
export interface AgentOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `deno run` of the entry with `args`, output piped, input closed and colours off. */
function agentCommand(
  args: readonly string[],
  options: RunAgentOptions,
  signal?: AbortSignal,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...(options.permissions ?? ["-A"]), options.entry ?? MAIN, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  });
}

/** Runs `main.ts` with `args` to completion and returns its exit code and output. */
export async function runAgent(
  args: readonly string[],
  options: RunAgentOptions = {},
): Promise<AgentOutput> {
  const command = agentCommand(args, options, AbortSignal.timeout(options.timeoutMs ?? 30_000));
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A running agent process, its output collected as it comes. */
export interface SpawnedAgent {
  readonly pid: number;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Sends a signal to the agent. */
  kill(signal: Deno.Signal): void;
  /** Resolves with the exit code once the process has ended and its output is read. */
  readonly exited: Promise<number>;
}

/**
 * Starts `main.ts` with `args` in the background. The child is killed after `timeoutMs` (default
 * 60 s) whatever happens, so a hung agent cannot hang the test run.
 */
export function spawnAgent(args: readonly string[], options: RunAgentOptions = {}): SpawnedAgent {
  const child = agentCommand(args, options).spawn();
  const guard = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, options.timeoutMs ?? 60_000);
  let out = "";
  let err = "";
  const pump = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) add(chunk);
  };
  const exited = Promise.all([
    pump(child.stdout, (t) => out += t),
    pump(child.stderr, (t) => err += t),
    child.status,
  ]).then(([, , status]) => {
    clearTimeout(guard);
    return status.code;
  });
  return {
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    kill: (signal) => child.kill(signal),
    exited,
  };
}
