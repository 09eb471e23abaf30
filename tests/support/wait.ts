/**
 * Polling for tests that watch another process or loop make progress.
 *
 * @module
 */

/** Options of {@linkcode waitFor}. */
export interface WaitOptions {
  /** How long to wait before failing; 20 s by default. */
  readonly timeoutMs?: number;
  /** Pause between two looks; 10 ms by default. */
  readonly intervalMs?: number;
}

/** Polls `predicate` until it holds; throws naming `what` after the timeout. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const interval = options.intervalMs ?? 10;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
