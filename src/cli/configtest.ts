/**
 * `configtest`: validates the config file as the daemon would read it, then reports unknown keys.
 *
 * @module
 */
import { requireApikey } from "../config/overrides.ts";
import { findUnknownKeys } from "../config/unknown_keys.ts";
import type { CommonOptions } from "./options.ts";
import { resolveConfig } from "./resolve.ts";

/** Runs `configtest` and returns the exit code: 0 when the file is valid and has no unknown key. */
export async function runConfigtest(options: CommonOptions): Promise<number> {
  const paint = colorizer();
  try {
    const config = await resolveConfig(options);
    requireApikey(config);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    console.error(paint("31", `[CRITICAL] failed to test config: ${cause}`));
    return 1;
  }
  const unknown = await findUnknownKeys(options.conf);
  if (unknown.length > 0) {
    console.error(paint("33", unknown.join("\n")));
    return 1;
  }
  console.error(`SUCCESS (${options.conf})`);
  return 0;
}

/** Colours only for a person at a terminal, as upstream: stdout a TTY, `NO_COLOR` unset, `TERM` ≠ dumb. */
function colorizer(): (code: string, text: string) => string {
  const on = Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined &&
    Deno.env.get("TERM") !== "dumb";
  return (code, text) => on ? `\x1b[${code}m${text}\x1b[0m` : text;
}
