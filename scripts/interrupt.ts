/**
 * What a measuring script undoes when it is interrupted. The agents and peers it starts are its
 * children, but they run on when only the script is signalled (a `kill`, a job's timeout), and
 * its temp dirs and control groups stay behind. Each registers its undoing here; the first SIGINT
 * or SIGTERM runs every one not yet run, the latest first, and exits 130. The same signal again
 * within a second is the same request (a Ctrl-C under `deno task` arrives twice); another one
 * later exits at once, undone or not.
 *
 * The script's own `finally` calls the same undoing, and each runs once whoever calls it first:
 * a Ctrl-C reaches the children too, so the script may be ending on its own as the handler runs.
 *
 * @module
 */
import { errorMessage } from "../src/log.ts";

type Undo = () => Promise<void>;

const undos: Undo[] = [];
let installed = false;
let interruptedAt: number | undefined;

/**
 * `undo`, run at most once: by the returned function (the script's own cleanup), or on an
 * interrupt if that comes first. Every call gets the first call's promise.
 */
export function undoOnInterrupt(undo: () => Promise<void> | void): Undo {
  install();
  let running: Promise<void> | undefined;
  const once: Undo = () => running ??= Promise.resolve().then(undo);
  undos.push(once);
  return once;
}

/** `peer` whose `stop()` runs once, also if the script is interrupted first. */
export function stoppedOnInterrupt<T extends { stop(): Promise<void> }>(peer: T): T {
  return Object.assign(peer, { stop: undoOnInterrupt(peer.stop.bind(peer)) });
}

/** Sends `signal` to `child` unless it has exited already (a Ctrl-C reaches it too). */
export function signalChild(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // exited already
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, () => onSignal(signal));
}

function onSignal(signal: Deno.Signal): void {
  const now = performance.now();
  if (interruptedAt !== undefined) {
    if (now - interruptedAt < 1000) return;
    console.error(`${signal} again: exiting without waiting for the rest`);
    Deno.exit(130);
  }
  interruptedAt = now;
  console.error(`${signal}: stopping what this script started`);
  undoAll().finally(() => Deno.exit(130));
}

async function undoAll(): Promise<void> {
  for (const undo of undos.toReversed()) {
    try {
      await undo();
    } catch (error) {
      console.error(`while stopping: ${errorMessage(error)}`);
    }
  }
}
