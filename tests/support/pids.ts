/**
 * Looks at processes by pid through /proc, for tests that check a child or grandchild is gone.
 *
 * @module
 */

/** Whether /proc still lists `pid`: a zombie not yet reaped counts. */
export function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` runs now: a zombie does not. */
export function isRunning(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}
