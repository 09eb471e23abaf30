/**
 * SIGHUP in the daemon: the configuration is read and checked again, and a good one takes effect
 * without a restart (upstream reloads only under `supervise`, by restarting the child). A broken
 * one leaves the running configuration in force, with one ERROR line naming the file and the
 * problem. The queue, the spool, the pid and the schedule are untouched.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { errorMessage, logger, setupLogging } from "../log.ts";
import { fingerprint, type Workload } from "./workload.ts";

/** Settings a running agent keeps until its next start, by their config key. */
const RESTART_ONLY: readonly (readonly [string, (c: Config) => unknown])[] = [
  ["apikey", (c) => c.apikey],
  ["apibase", (c) => c.apibase],
  ["root", (c) => c.root],
  ["pidfile", (c) => c.pidfile],
  ["spool", (c) => c.spool],
  ["disable_http_keep_alive", (c) => c.disableHttpKeepAlive],
  ["http_proxy", (c) => c.httpProxy],
  ["https_proxy", (c) => c.httpsProxy],
];

/** Options of {@linkcode reloadConfig}. */
export interface ReloadOptions {
  /** Reads and checks the configuration as at start (file, includes, environment, flags). */
  readonly load: () => Promise<Config>;
  readonly workload: Workload;
}

/** Reloads the configuration; resolves to whether the new one is in force. */
export async function reloadConfig(options: ReloadOptions): Promise<boolean> {
  const log = logger("main");
  const { workload } = options;
  let next: Config;
  try {
    next = await options.load();
  } catch (error) {
    log.error(`reload failed, keeping the running configuration: ${errorMessage(error)}`);
    return false;
  }
  const current = workload.config;
  const later = RESTART_ONLY
    .filter(([, get]) => fingerprint(get(current)) !== fingerprint(get(next)))
    .map(([key]) => key);
  const parts = await workload.apply(next);
  if (current.verbose !== next.verbose || current.silent !== next.silent) {
    await setupLogging({ level: next.verbose ? "debug" : next.silent ? "error" : "info" });
    parts.push("log level");
  }
  const file = next.conffile ?? "the defaults";
  log.info(
    `Reloaded ${file}: ${parts.length > 0 ? `new ${parts.join(", ")}` : "no change to the work"}` +
      (later.length > 0 ? `; ${later.join(", ")} take effect at the next start` : ""),
  );
  return true;
}
