/**
 * Entry point: argv -> subcommand -> exit code. Nothing else.
 *
 * @module
 */
import { flushStdout } from "./src/delivery/stdout_sink.ts";
import { run } from "./src/cli/run.ts";
import { flushLogs } from "./src/log.ts";

/** How long the exit waits for queued log and stdout lines when their reader has stalled. */
const FLUSH_ON_EXIT_MS = 2_000;

if (import.meta.main) {
  let code = 1;
  try {
    code = await run(Deno.args);
  } finally {
    const signal = AbortSignal.timeout(FLUSH_ON_EXIT_MS);
    await Promise.all([flushLogs(signal), flushStdout(signal)]);
  }
  Deno.exit(code);
}
