/**
 * Whether a tool a test needs is installed, so that the test can be skipped (saying why in its
 * name) rather than fail on a machine without it.
 *
 * @module
 */

/** Whether `name --version` can be run from PATH (its exit code does not matter). */
export function hasCommand(name: string): boolean {
  try {
    new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}
