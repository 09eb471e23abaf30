/**
 * Signal handling of the daemon (docs/upstream.md, "Signals").
 *
 * The first INT, TERM or QUIT asks for a graceful stop and arms a timer that forces the stop after
 * the graceful limit; a second signal forces it at once. HUP asks for a host spec refresh.
 *
 * One Ctrl-C can arrive twice: a terminal sends SIGINT to the whole foreground process group, and a
 * task runner in that group (`deno task start`) forwards its own copy to the agent. So the same
 * signal again within a short window is the same request, not a second one; a deliberate second
 * Ctrl-C comes later than that and still forces the stop.
 *
 * @module
 */
import { createStopping } from "../async/abort.ts";
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
  /**
   * The same stop signal again within this many milliseconds of the first is a copy of it (default
   * {@linkcode REPEAT_WINDOW_MS}); 0 makes every repeat force the stop, as upstream.
   */
  readonly repeatWindowMs?: number;
  /** Monotonic milliseconds (tests inject one); `performance.now` by default. */
  readonly now?: () => number;
}

/**
 * How far apart the copies of one Ctrl-C arrive: microseconds to a few milliseconds on a loaded
 * machine; a person pressing Ctrl-C twice on purpose takes longer than this.
 */
export const REPEAT_WINDOW_MS = 500;

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
  const repeatWindowMs = options.repeatWindowMs ?? REPEAT_WINDOW_MS;
  if (!Number.isFinite(repeatWindowMs) || repeatWindowMs < 0) {
    throw new RangeError(`repeatWindowMs must be a finite number >= 0, not ${repeatWindowMs}`);
  }
  const now = options.now ?? (() => performance.now());
  const log = logger("main");
  const stopping = createStopping({
    graceMs: options.graceMs,
    onGraceOver: () => log.info("Timed out. force shutdown."),
  });
  /** The signal that asked for the graceful stop, and when; none when it came otherwise. */
  let first: { readonly signal: Deno.Signal; readonly at: number } | undefined;
  const listeners: [Deno.Signal, () => void][] = [];
  for (const [signal, goName] of STOP_SIGNALS) {
    const listener = () => {
      if (!stopping.stop.aborted) {
        const seconds = (options.graceMs / 1000).toFixed(6);
        log.info(
          `Received signal '${goName}', try graceful shutdown up to ${seconds} seconds. ` +
            "If you want force shutdown immediately, send a signal again.",
        );
        stopping.requestStop();
        first = { signal, at: now() };
        return;
      }
      if (first?.signal === signal && now() - first.at < repeatWindowMs) {
        log.debug(
          `Received signal '${goName}' again within ${repeatWindowMs} ms; ` +
            "taken as the same stop request (one Ctrl-C reaches a process group twice)",
        );
        return;
      }
      log.info(`Received signal '${goName}' again, force shutdown.`);
      stopping.forceStop();
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
    stop: stopping.stop,
    force: stopping.force,
    requestStop: () => void stopping.requestStop(),
    dispose() {
      stopping.dispose();
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}
