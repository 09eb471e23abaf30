/**
 * `supervise`: resolve the config, take the pidfile, then run the daemon as a supervised child
 * (docs/upstream.md, "supervise").
 *
 * @module
 */
import { claimPidfile, removePidfile } from "../agent/pidfile.ts";
import { describeExit, selfProgram, supervise, type SuperviseResult } from "../agent/supervisor.ts";
import { requireApikey } from "../config/overrides.ts";
import { EXIT_CONFIG } from "../exit_codes.ts";
import { errorMessage, setupLogging } from "../log.ts";
import type { ParsedFlags } from "./flags.ts";
import { apikeyHint, commonOptions } from "./options.ts";
import { resolveDaemonConfig } from "./resolve.ts";

/**
 * The flags to hand to the child and to configtest, rebuilt from what was parsed as `-name=value`
 * words (so a value can never be read as a flag, and leftovers after the flags are dropped:
 * upstream's child stops parsing there and would miss the trailing `-child`). `-child` itself is
 * left out; the supervisor adds it for the child only.
 */
export function supervisedArgs(parsed: ParsedFlags): string[] {
  const args: string[] = [];
  for (const [name, value] of parsed.values) {
    if (name === "child") continue;
    for (const one of Array.isArray(value) ? value : [value]) args.push(`-${name}=${one}`);
  }
  return args;
}

/**
 * The exit code of `supervise` for how supervision ended: the child's own code, so that a child's
 * {@linkcode EXIT_CONFIG} reaches systemd's `RestartPreventExitStatus=` unchanged.
 */
export function superviseExitCode(result: SuperviseResult): number {
  const { status } = result;
  // Upstream turns any failure into an error, hence 1; a plain exit code is passed on as is.
  if (status.signal) return 1;
  if (result.reason === "crash-loop") return status.code === 0 ? 1 : status.code;
  return status.code;
}

/**
 * Runs `supervise` and returns its exit code: the last child's, {@linkcode EXIT_CONFIG} for a
 * config the child could not run with, or 1 when it cannot start.
 */
export async function runSupervise(parsed: ParsedFlags): Promise<number> {
  if (Deno.build.os === "windows") {
    console.error("supervise mode is not supported on windows");
    return 1;
  }
  const options = commonOptions(parsed);
  let config;
  try {
    // Like the daemon (whose child gets no -stdout): the config file must exist.
    ({ config } = await resolveDaemonConfig(options));
    // The child would refuse to run without a key (it gets no -stdout): say so before it starts.
    requireApikey(config);
  } catch (error) {
    console.error(`failed to load config: ${errorMessage(error)}`);
    if (config !== undefined) console.error(apikeyHint(options, { offerStdout: false }));
    return EXIT_CONFIG;
  }
  await setupLogging({ level: config.verbose ? "debug" : config.silent ? "error" : "info" });
  if (!await claimPidfile(config.pidfile)) return 1;
  try {
    const result = await supervise({
      program: selfProgram(),
      args: supervisedArgs(parsed),
      // 30 agent seconds, so that `-interval` shortens the window with the rest of the schedule.
      spawnWindowMs: options.minuteMs / 2,
    });
    const error = describeExit(result.status);
    // The crash-loop and fatal cases have already said why in their ERROR line.
    const explained = result.reason === "crash-loop" || result.reason === "fatal";
    if (error !== undefined && !explained) console.error(error);
    return superviseExitCode(result);
  } catch (error) {
    console.error(`failed to start mackerel-agent: ${errorMessage(error)}`);
    return 1;
  } finally {
    await removePidfile({ path: config.pidfile });
  }
}
