/**
 * Runs the real agent (`deno run main.ts …`) as a child process for CLI and end-to-end tests.
 *
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Options of {@linkcode runAgent}. */
export interface RunAgentOptions {
  /** Deno permission flags; `-A` by default. */
  readonly permissions?: readonly string[];
  /** Kill the child after this long (the test fails on the missing exit code). */
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

/** What a finished agent process left behind. */
export interface AgentOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main.ts` with `args` to completion and returns its exit code and output. */
export async function runAgent(
  args: readonly string[],
  options: RunAgentOptions = {},
): Promise<AgentOutput> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...(options.permissions ?? ["-A"]), MAIN, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
