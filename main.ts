/**
 * Entry point: argv → subcommand → exit code. Nothing else.
 *
 * @module
 */
import { run } from "./src/cli/run.ts";

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
