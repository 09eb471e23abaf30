/**
 * Dispatches argv to a subcommand and returns the process exit code.
 *
 * @module
 */

/** Runs the agent's command line and returns the exit code. */
export function run(_args: readonly string[]): Promise<number> {
  return Promise.resolve(0);
}
