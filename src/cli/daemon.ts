/**
 * The daemon command (no subcommand): resolve the config, check the roots, run the agent.
 *
 * @module
 */
import { runDaemon } from "../agent/agent.ts";
import { exportProxyEnvironment } from "../agent/api.ts";
import { createSource } from "../host/source.ts";
import { errorMessage, logger, setupLogging } from "../log.ts";
import { startPluginWatchdog } from "../plugins/watchdog.ts";
import { type CommonOptions, rootProblem } from "./options.ts";
import { resolveDaemonConfig } from "./resolve.ts";

/** Runs the daemon and returns its exit code. */
export async function runDaemonCommand(options: CommonOptions): Promise<number> {
  let resolved;
  try {
    resolved = await resolveDaemonConfig(options);
  } catch (error) {
    console.error(`failed to load config: ${errorMessage(error)}`);
    return 1;
  }
  const { config, missing } = resolved;
  await setupLogging({ level: config.verbose ? "debug" : config.silent ? "error" : "info" });
  if (missing) {
    logger("main").warn(`config file ${options.conf} not found; running with the defaults`);
  }
  const badRoot = await rootProblem(options);
  if (badRoot) {
    console.error(badRoot);
    return 1;
  }
  // As upstream: the config's proxies go into the environment, for the client and the plugins.
  exportProxyEnvironment(config);
  const source = createSource({ procfs: options.procfs, sysfs: options.sysfs });
  // Should the daemon be killed outright, the plugins it started are ended too.
  startPluginWatchdog();
  return await runDaemon({
    config,
    source,
    minuteMs: options.minuteMs,
    autoshutdown: options.autoshutdown || config.autoshutdown,
  });
}
