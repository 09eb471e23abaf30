/**
 * The daemon command (no subcommand): resolve the config, check the roots, run the agent.
 *
 * @module
 */
import { runDaemon } from "../agent/agent.ts";
import { exportProxyEnvironment } from "../agent/api.ts";
import { requireApikey } from "../config/overrides.ts";
import type { Config } from "../config/schema.ts";
import { EXIT_CONFIG } from "../exit_codes.ts";
import { createSource } from "../host/source.ts";
import { errorMessage, logger, setupLogging } from "../log.ts";
import { collectorKeyWarnings } from "../metrics/registry.ts";
import { startPluginWatchdog } from "../plugins/watchdog.ts";
import type { ParsedFlags } from "./flags.ts";
import { apikeyHint, commonOptions, rootProblem } from "./options.ts";
import { resolveDaemonConfig } from "./resolve.ts";

/** Runs the daemon with its parsed flags (`DAEMON_FLAGS` of `command_flags.ts`) and returns its exit code. */
export async function runDaemonCommand(parsed: ParsedFlags): Promise<number> {
  // Until the daemon handles its signals, a SIGHUP (a log rotation, a reload sent too early) must
  // not end the process, which is the default of the signal.
  const early = () => {};
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGHUP", early);
  try {
    return await runDaemonCommandWithFlags(parsed);
  } finally {
    if (Deno.build.os !== "windows") Deno.removeSignalListener("SIGHUP", early);
  }
}

async function runDaemonCommandWithFlags(parsed: ParsedFlags): Promise<number> {
  const options = commonOptions(parsed);
  const stdout = parsed.values.get("stdout") === true;
  let resolved;
  try {
    // As upstream, a missing config file and a missing key are config errors; the stdout mode must
    // be asked for (it runs on the defaults without a file), so that a service without a key fails
    // instead of looking healthy while it reports nothing.
    resolved = await resolveDaemonConfig(options, { defaultsIfMissing: stdout });
    if (!stdout) requireApikey(resolved.config);
  } catch (error) {
    console.error(`failed to load config: ${errorMessage(error)}`);
    if (resolved !== undefined) console.error(apikeyHint(options, { offerStdout: true }));
    return EXIT_CONFIG;
  }
  const { config, missing } = resolved;
  await setupLogging({ level: config.verbose ? "debug" : config.silent ? "error" : "info" });
  if (missing) {
    logger("main").warn(`config file ${options.conf} not found; running with the defaults`);
  }
  warnCollectorKeys(config);
  const badRoot = await rootProblem(options);
  if (badRoot) {
    console.error(badRoot);
    return 1;
  }
  // As upstream: the config's proxies go into the environment, for the client and the plugins.
  exportProxyEnvironment(config);
  const source = createSource(options);
  // Plugins end with the agent, even when it is killed (src/plugins/watchdog.ts).
  startPluginWatchdog();
  return await runDaemon({
    config,
    source,
    minuteMs: options.minuteMs,
    autoshutdown: options.autoshutdown || config.autoshutdown,
    // SIGHUP: the same resolution and checks as at start.
    reloadConfig: async () => {
      const { config } = await resolveDaemonConfig(options, { defaultsIfMissing: stdout });
      if (!stdout) requireApikey(config);
      warnCollectorKeys(config);
      return config;
    },
  });
}

/** One WARNING for each `[collectors]` key that turns nothing on: a typo, or another system's. */
function warnCollectorKeys(config: Config): void {
  for (const line of collectorKeyWarnings(config.collectors)) logger("main").warn(line);
}
