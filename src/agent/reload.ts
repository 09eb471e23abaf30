/**
 * SIGHUP in the daemon (./shutdown.ts listens, this module acts): the configuration is read and checked again, and a good one takes effect
 * without a restart (upstream reloads only under `supervise`, by restarting the child). A broken
 * one leaves the running configuration in force, with one ERROR line naming the file and the
 * problem. The queue, the spool, the pid and the schedule are untouched. What each changed key
 * asks for (here: the log level, or the next start) is declared with the key in
 * `config/sections.ts`.
 *
 * @module
 */
import { changed, changedKeys } from "../config/reload_effects.ts";
import type { Config } from "../config/schema.ts";
import { errorMessage, logger, setupLogging } from "../log.ts";
import type { Workload } from "./workload.ts";

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
  const later = changedKeys("next start", current, next);
  const parts = await workload.apply(next);
  if (changed("log level", current, next)) {
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

/** Options of {@linkcode createReloader}. */
export interface ReloaderOptions {
  /** Reads and checks the configuration again; without it a HUP only calls `after`. */
  readonly load?: () => Promise<Config>;
  readonly workload: Workload;
  /** Told each configuration a reload puts in force. */
  readonly onApplied?: (config: Config) => void;
  /** Called after every HUP, whatever became of the reload. */
  readonly after?: () => void;
}

/** What a SIGHUP does, one at a time: every HUP of the daemon comes here. */
export function createReloader(options: ReloaderOptions): { reload(): void } {
  let reloading = Promise.resolve();
  const log = logger("agent");
  return {
    reload() {
      reloading = reloading.then(async () => {
        if (options.load) {
          const { workload } = options;
          if (await reloadConfig({ load: options.load, workload })) {
            options.onApplied?.(workload.config);
          }
        }
        options.after?.();
      }).catch((error) => log.error(`reload failed: ${errorMessage(error)}`));
    },
  };
}
