/**
 * Config loading in a child process with its own working directory: include patterns and relative
 * paths are read against it, and a test must not change its own (test files run as threads of one
 * process, tests/shared_process_test.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runAgent } from "./agent_process.ts";

const IN_DIR = fileURLToPath(new URL("../fixtures/config/in_dir.ts", import.meta.url));

/** What one `load:` or `glob:` operation gave in the child (tests/fixtures/config/in_dir.ts). */
export interface Outcome {
  readonly value?: unknown;
  readonly error?: { name: string; message: string; file?: string; line?: number; key?: string };
}

/**
 * Runs `load:PATH` and `glob:PATTERN` operations in a child process whose working directory is
 * `dir` (include patterns are relative to it): a test never changes its own process's directory,
 * which every test file running beside it and their children share.
 */
export async function inDir(dir: string, ops: readonly string[]): Promise<Outcome[]> {
  const out = await runAgent(ops, { entry: IN_DIR, cwd: dir, timeoutMs: 20_000 });
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
}
