/**
 * Signal handling of the daemon (reference §6.6).
 *
 * The first INT, TERM or QUIT asks for a graceful stop and arms a timer that forces the stop after
 * the graceful limit; a second signal forces it at once. HUP asks for a host spec refresh.
 *
 * @module
 */
import { logger } from "../log.ts";

/** The stop signals and their Go names; Windows delivers only SIGINT (Ctrl-C) and SIGBREAK. */
const STOP_SIGNALS: readonly (readonly [Deno.Signal, string])[] = Deno.build.os === "windows"
  ? [["SIGINT", "interrupt"], ["SIGBREAK", "break"]]
  : [["SIGINT", "interrupt"], ["SIGTERM", "terminated"], ["SIGQUIT", "quit"]];

/** Options of {@linkcode handleSignals}. */
export interface SignalOptions {
  /** How long a graceful stop may take before it is forced. */
  readonly graceMs: number;
  /** Called on SIGHUP. */
  readonly onHangup?: () => void;
}

/** What the daemon watches: a graceful stop request, then a forced one. */
export interface Shutdown {
  /** Aborted by the first stop signal. */
  readonly stop: AbortSignal;
  /** Aborted by a second stop signal, or when the graceful limit has passed. */
  readonly force: AbortSignal;
  /** Asks for a graceful stop as a first signal would (the self-update watch uses it). */
  requestStop(): void;
  /** Removes the signal listeners and the timer. */
  dispose(): void;
}

/** Installs the daemon's signal listeners. */
export function handleSignals(options: SignalOptions): Shutdown {
  const log = logger("main");
  const stop = new AbortController();
  const force = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners: [Deno.Signal, () => void][] = [];
  /** The first request stops gracefully and arms the limit; returns false when one came before. */
  const requestStop = (): boolean => {
    if (stop.signal.aborted) return false;
    stop.abort();
    timer = setTimeout(() => {
      log.info("Timed out. force shutdown.");
      force.abort();
    }, options.graceMs);
    return true;
  };
  for (const [signal, goName] of STOP_SIGNALS) {
    const listener = () => {
      if (!stop.signal.aborted) {
        const seconds = (options.graceMs / 1000).toFixed(6);
        log.info(
          `Received signal '${goName}', try graceful shutdown up to ${seconds} seconds. ` +
            "If you want force shutdown immediately, send a signal again.",
        );
        requestStop();
        return;
      }
      log.info(`Received signal '${goName}' again, force shutdown.`);
      force.abort();
    };
    listeners.push([signal, listener]);
  }
  const onHangup = options.onHangup;
  if (onHangup && Deno.build.os !== "windows") {
    listeners.push(["SIGHUP", () => {
      log.debug("Received signal 'hangup'");
      onHangup();
    }]);
  }
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  return {
    stop: stop.signal,
    force: force.signal,
    requestStop: () => void requestStop(),
    dispose() {
      clearTimeout(timer);
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}
