/**
 * Carries out a {@linkcode ServicePlan} step by step, printing what each does, and stops at the
 * first step that fails with one line saying which and why. Also prints a plan without running
 * it (`-dry-run`).
 *
 * @module
 */
import { type Clock, realClock } from "../async/clock.ts";
import { retry } from "../async/retry.ts";
import { errorMessage } from "../log.ts";
import type { ServicePlan, ServiceStep } from "./plan.ts";

/** What a program run answered: its exit code and its output (stdout, then stderr). */
export interface RunResult {
  readonly code: number;
  readonly output: string;
}

/** The operating system as a plan sees it; tests give a recording one. */
export interface PlanIo {
  /** Runs a program to its end; throws when it cannot be started. */
  run(program: string, args: readonly string[], signal?: AbortSignal): Promise<RunResult>;
  writeFile(path: string, text: string, mode: number): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Removes a file; a missing one is fine. */
  remove(path: string): Promise<void>;
  readonly clock: Clock;
  /** Prints one line of progress. */
  print(line: string): void;
}

/** The real operating system. */
export const systemIo: PlanIo = {
  async run(program, args, signal) {
    const out = await new Deno.Command(program, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
    return {
      code: out.code,
      output: [text(out.stdout), text(out.stderr)].filter((s) => s !== "").join("\n"),
    };
  },
  async writeFile(path, text, mode) {
    await Deno.mkdir(path.replace(/[\\/][^\\/]*$/, "") || "/", { recursive: true });
    await Deno.writeTextFile(path, text, { mode });
    // The mode of an existing file is not changed by writing it.
    if (Deno.build.os !== "windows") await Deno.chmod(path, mode);
  },
  async mkdir(path) {
    await Deno.mkdir(path, { recursive: true });
  },
  async remove(path) {
    try {
      await Deno.remove(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  },
  clock: realClock,
  print: (line) => console.log(line),
};

/** Options of {@linkcode runPlan}. */
export interface RunPlanOptions {
  /** The command, prefixing the failure line, e.g. `service install`. */
  readonly label: string;
  readonly io?: PlanIo;
  readonly signal?: AbortSignal;
}

/** Carries out `plan`; returns the exit code: 0 when every step succeeded, else 1. */
export async function runPlan(plan: ServicePlan, options: RunPlanOptions): Promise<number> {
  const io = options.io ?? systemIo;
  for (const step of plan.steps) {
    io.print(`${options.label}: ${step.what}`);
    let problem: string | undefined;
    try {
      problem = await runStep(step, io, options.signal);
    } catch (error) {
      problem = errorMessage(error);
    }
    if (problem !== undefined) {
      console.error(`${options.label}: failed to ${step.what}: ${problem}`);
      return 1;
    }
  }
  for (const line of plan.next) io.print(line);
  return 0;
}

/** Runs one step; returns what went wrong, or undefined. */
async function runStep(
  step: ServiceStep,
  io: PlanIo,
  signal?: AbortSignal,
): Promise<string | undefined> {
  switch (step.kind) {
    case "run": {
      const result = await io.run(step.program, step.args, signal);
      if (result.code === 0) return undefined;
      const meaning = step.accept?.[result.code];
      if (meaning !== undefined) {
        io.print(`  (${meaning})`);
        return undefined;
      }
      return failure(step.program, step.args, result);
    }
    case "write":
      await io.writeFile(step.path, step.text, step.mode);
      return undefined;
    case "folder":
      await io.mkdir(step.path);
      return undefined;
    case "remove":
      await io.remove(step.path);
      return undefined;
    case "wait":
      return await waitUntil(step, io, signal);
  }
}

/** Polls the wait step's query until its output says done; a failing query ends the wait. */
async function waitUntil(
  step: Extract<ServiceStep, { kind: "wait" }>,
  io: PlanIo,
  signal?: AbortSignal,
): Promise<string | undefined> {
  let last = "";
  try {
    await retry(async () => {
      const result = await io.run(step.program, step.args, signal);
      // No such service (any more): nothing to wait for.
      if (result.code !== 0 || step.done(result.output)) return;
      last = result.output;
      throw new Error("not yet");
    }, {
      attempts: Math.max(1, Math.ceil(step.timeoutMs / step.pollMs) + 1),
      delayMs: step.pollMs,
      clock: io.clock,
      signal,
    });
    return undefined;
  } catch {
    return `not done after ${step.timeoutMs / 1000} s; ${step.program} ${
      step.args.join(" ")
    } said: ${oneLine(last)}`;
  }
}

/** The failure of a program run, in one line. */
function failure(program: string, args: readonly string[], result: RunResult): string {
  const said = result.output === "" ? "" : `: ${oneLine(result.output)}`;
  return `${program} ${args[0] ?? ""} exited with ${result.code}${said}`;
}

/** Output on one line, bounded. */
function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, " | ").trim();
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}

/** How a plan reads without running it (`-dry-run`): one block per step. */
export function describePlan(
  plan: ServicePlan,
  quote: (args: readonly string[]) => string,
): string {
  const lines: string[] = [];
  for (const step of plan.steps) {
    lines.push(`# ${step.what}`);
    switch (step.kind) {
      case "run":
      case "wait":
        lines.push(quote([step.program, ...step.args]));
        break;
      case "write":
        lines.push(`write ${step.path} (mode ${step.mode.toString(8).padStart(4, "0")}):`);
        lines.push(step.text.trimEnd());
        break;
      case "folder":
        lines.push(`create folder ${step.path}`);
        break;
      case "remove":
        lines.push(`remove ${step.path}`);
        break;
    }
  }
  return lines.join("\n");
}
