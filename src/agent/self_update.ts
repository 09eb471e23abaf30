/**
 * `-private-autoshutdown` (docs/upstream.md, "autoshutdown"): stop gracefully when the executable
 * is replaced, so that a package upgrade under `supervise` restarts the agent on the new binary.
 *
 * @module
 */
import { logger } from "../log.ts";
import type { Clock } from "../async/clock.ts";

/** Options of {@linkcode watchExecutable}. */
export interface WatchExecutableOptions {
  /** The file to watch; the running executable by default. */
  readonly path?: string;
  readonly clock: Clock;
  /** Time between two looks (upstream: 10 s of the agent's minute). */
  readonly periodMs: number;
  /** Called once when the file is newer than at start, or gone. */
  readonly onChange: () => void;
  readonly signal: AbortSignal;
}

/** Watches the executable's modification time until `signal` aborts or it changes. */
export async function watchExecutable(options: WatchExecutableOptions): Promise<void> {
  const path = options.path ?? Deno.execPath();
  const mtime = async () => (await Deno.stat(path)).mtime?.getTime() ?? 0;
  const started = await mtime().catch(() => 0);
  while (!options.signal.aborted) {
    await options.clock.sleep(options.periodMs, options.signal);
    if (options.signal.aborted) return;
    const now = await mtime().catch(() => undefined);
    if (now === undefined || now > started) {
      logger("main").info(`Detected ${path} was updated; shutting down`);
      options.onChange();
      return;
    }
  }
}
