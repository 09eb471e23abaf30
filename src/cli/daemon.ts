/**
 * The daemon command (no subcommand): resolve the config, check the roots, run the agent.
 *
 * @module
 */
import { runDaemon } from "../agent/agent.ts";
import { applyOverrides } from "../config/overrides.ts";
import { defaultConfig } from "../config/schema.ts";
import { createSource } from "../host/source.ts";
import { logger, setupLogging } from "../log.ts";
import { type CommonOptions, rootProblem } from "./options.ts";
import { resolveConfig } from "./resolve.ts";

/** Runs the daemon and returns its exit code. */
export async function runDaemonCommand(options: CommonOptions): Promise<number> {
  let config;
  const missing = !(await fileExists(options.conf));
  try {
    config = missing
      ? applyOverrides(defaultConfig(), options.overrides, { child: options.child })
      : await resolveConfig(options);
  } catch (error) {
    console.error(`failed to load config: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
  await setupLogging({ level: config.verbose ? "debug" : config.silent ? "error" : "info" });
  if (missing) {
    // A fresh checkout has no config: run on defaults, which means printing to stdout.
    logger("main").warn(`config file ${options.conf} not found; running with the defaults`);
  }
  const problem = await rootProblem(options);
  if (problem) {
    console.error(problem);
    return 1;
  }
  const source = createSource({ procfs: options.procfs, sysfs: options.sysfs });
  return await runDaemon({ config, source, minuteMs: options.minuteMs });
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}
