/**
 * The WARNING lines of metric plugins, each logged once per plugin.
 *
 * A plugin repeats its mistakes every round (a bad line, a refused name), and logging them every
 * minute would bury everything else; so each distinct warning is logged the first time a plugin
 * produces it. A run logs at most a bounded number of new ones: a plugin printing thousands of
 * bad lines costs a few lines per round, the rest counted in one line and logged on later runs.
 *
 * @module
 */
import type { AgentLogger } from "../log.ts";

/** Distinct warnings remembered per plugin; beyond this the memory is reset (and lines repeat). */
const MAX_REMEMBERED = 1_000;
/** New warnings logged per run of a plugin. */
const MAX_NEW_PER_RUN = 20;

/** The warnings of one plugin run. */
export interface RunWarnings {
  /** Logs `warning` unless this plugin produced it before (or the run's share is used up). */
  warn(warning: string): void;
  /** Ends the run: one line counting the warnings held back, if any. */
  finish(): void;
}

/** Per-plugin memory of the warnings already logged, keyed by any object naming the plugin. */
export interface PluginWarnings {
  /** Starts a run of `plugin`, whose command `cmd` the held-back count names. */
  run(plugin: object, cmd: string): RunWarnings;
}

/** Creates the memory of warnings for a set of plugins, logging to `log`. */
export function createPluginWarnings(log: AgentLogger): PluginWarnings {
  const seen = new WeakMap<object, Set<string>>();
  return {
    run(plugin, cmd) {
      let remembered = seen.get(plugin);
      if (!remembered) seen.set(plugin, remembered = new Set());
      const memory = remembered;
      let logged = 0;
      let held = 0;
      return {
        warn(warning) {
          const key = dedupeKey(warning);
          if (memory.has(key)) return;
          if (logged >= MAX_NEW_PER_RUN) {
            held++;
            return;
          }
          if (memory.size >= MAX_REMEMBERED) memory.clear();
          memory.add(key);
          logged++;
          log.warn`${warning}`;
        },
        finish() {
          if (held > 0) log.warn`command ${cmd}: ${held} more warnings this round not shown`;
        },
      };
    },
  };
}

/**
 * The part of a warning that identifies the invalid line: the time-window rejection names the
 * current time (and usually a moving plugin timestamp), which would defeat logging it once.
 */
function dedupeKey(warning: string): string {
  const at = warning.indexOf(": metric_timestamp=");
  return at >= 0 && warning.startsWith("Rejected because") ? warning.slice(0, at) : warning;
}
