/**
 * What a measuring script undoes when it is interrupted. The agents and peers it starts are its
 * children, but they run on when only the script is signalled (a `kill`, a job's timeout), and
 * its temp dirs and control groups stay behind. Each registers its undoing here; the first SIGINT
 * or SIGTERM runs every one still registered, the latest first, and exits 130. Later signals are
 * ignored while that runs (a Ctrl-C under `deno task` arrives twice).
 *
 * @module
 */

type Undo = () => Promise<void> | void;

const undos: Undo[] = [];
let installed = false;

/** Runs `undo` if the script is interrupted before the returned function is called. */
export function undoOnInterrupt(undo: Undo): () => void {
  install();
  undos.push(undo);
  return () => {
    const at = undos.indexOf(undo);
    if (at >= 0) undos.splice(at, 1);
  };
}

/** `peer` whose `stop()` also runs if the script is interrupted first. */
export function stoppedOnInterrupt<T extends { stop(): Promise<void> }>(peer: T): T {
  const forget = undoOnInterrupt(() => peer.stop());
  const stop = peer.stop.bind(peer);
  return Object.assign(peer, {
    stop: () => {
      forget();
      return stop();
    },
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  let interrupted = false;
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`${signal}: stopping what this script started (${undos.length} to undo)`);
      undoAll().finally(() => Deno.exit(130));
    });
  }
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
