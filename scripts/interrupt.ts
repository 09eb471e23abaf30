/**
 * What a measuring script undoes when it is interrupted. The agents and peers it starts are its
 * children, but they run on when only the script is signalled (a `kill`, a job's timeout), and
 * its temp dirs and control groups stay behind. Each registers its undoing here; the first SIGINT
 * or SIGTERM runs every one still registered, the latest first, and exits 130. The same signal
 * again within a second is the same request (a Ctrl-C under `deno task` arrives twice); another
 * one later exits at once, undone or not.
 *
 * Undoing must be safe to run twice and beside the script's own `finally` (a Ctrl-C reaches the
 * children too, so the script may be ending on its own): stops here run once, and a child that
 * has already exited is fine to stop.
 *
 * @module
 */

type Undo = () => Promise<void> | void;

const undos: Undo[] = [];
let installed = false;
let interruptedAt: number | undefined;

/** Runs `undo` if the script is interrupted before the returned function is called. */
export function undoOnInterrupt(undo: Undo): () => void {
  install();
  undos.push(undo);
  return () => {
    if (interruptedAt !== undefined) return; // being undone: the handler owns it now
    const at = undos.indexOf(undo);
    if (at >= 0) undos.splice(at, 1);
  };
}

/** `peer` whose `stop()` runs once, also if the script is interrupted first. */
export function stoppedOnInterrupt<T extends { stop(): Promise<void> }>(peer: T): T {
  const stopOnce = once(peer.stop.bind(peer));
  const forget = undoOnInterrupt(stopOnce);
  return Object.assign(peer, {
    stop: () => {
      forget();
      return stopOnce();
    },
  });
}

/** Sends `signal` to `child` unless it has exited already. */
export function signalChild(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // exited already
  }
}

/** Removes `dir` and all it holds; already gone (undone by the other side) is fine. */
export async function removeTree(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/** `fn` run at the first call only; every call gets the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => running ??= fn();
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
  console.error(`${signal}: stopping what this script started (${undos.length} to undo)`);
  undoAll().finally(() => Deno.exit(130));
}

async function undoAll(): Promise<void> {
  while (undos.length > 0) {
    try {
      await undos.pop()!();
    } catch (error) {
      console.error(`while stopping: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
