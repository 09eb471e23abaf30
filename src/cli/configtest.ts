/**
 * `configtest`: validates the config file as the daemon would read it, then reports unknown keys.
 *
 * @module
 */
import { requireApikey } from "../config/overrides.ts";
import { findUnexpectedKeys, warningLine } from "../config/unknown_keys.ts";
import { errorMessage, flushLogs } from "../log.ts";
import { COLLECTOR_KEYS } from "../metrics/registry.ts";
import type { ParsedFlags } from "./flags.ts";
import { type CommonOptions, commonOptions } from "./options.ts";
import { resolveConfig } from "./resolve.ts";

/** How long the verdict waits for the load's log lines when stderr's reader has stalled. */
const FLUSH_MS = 2_000;

/** What configtest does beyond upstream's. */
export interface ConfigtestOptions {
  /** Unknown keys are warnings only: exit 0 unless there is a real error. */
  readonly lenient?: boolean;
}

/** Runs `configtest` with its parsed flags. */
export function runConfigtestCommand(parsed: ParsedFlags): Promise<number> {
  return runConfigtest(commonOptions(parsed), { lenient: parsed.values.get("lenient") === true });
}

/**
 * Runs `configtest` and returns the exit code: 1 on an error, 1 on unknown keys unless `lenient`,
 * else 0. Output on stderr as upstream's: `[CRITICAL] ...`, or the `[WARNING] ...` lines followed by an
 * empty line, or `SUCCESS (<file>)`.
 */
export async function runConfigtest(
  options: CommonOptions,
  opts: ConfigtestOptions = {},
): Promise<number> {
  const paint = colorizer();
  let problem: unknown;
  try {
    const config = await resolveConfig(options);
    requireApikey(config);
  } catch (error) {
    problem = error;
  }
  // What the load logged (a memo cut, a timeout capped) comes before the verdict, as upstream's.
  await flushLogs(AbortSignal.timeout(FLUSH_MS));
  if (problem !== undefined) {
    const cause = errorMessage(problem);
    console.error(paint("31", `[CRITICAL] failed to test config: ${cause}`));
    return 1;
  }
  const unknown = await findUnexpectedKeys(options.conf, {
    tableKeys: { collectors: COLLECTOR_KEYS },
  });
  if (unknown.length > 0) {
    // Upstream colours each line (newline included) and prints the block with Println, so the
    // block ends with an empty line.
    console.error(
      unknown.map((key) => paint("33", `${warningLine(key, options.conf)}\n`)).join(""),
    );
    if (!opts.lenient) return 1;
  }
  console.error(`SUCCESS (${options.conf})`);
  return 0;
}

/** Colours only for a person at a terminal, as upstream: stdout a TTY, `NO_COLOR` unset, `TERM` != dumb. */
function colorizer(): (code: string, text: string) => string {
  const on = Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined &&
    Deno.env.get("TERM") !== "dumb";
  return (code, text) => on ? `\x1b[${code}m${text}\x1b[0m` : text;
}
