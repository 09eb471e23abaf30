/**
 * The test process's umask, read without changing it: `Deno.umask()` with no argument sets the
 * mask to 0 for a moment (umask(2) has no pure read), under every test file running in the
 * process and every child started then. A shell inherits the mask and prints it.
 *
 * @module
 */

/** The umask this process's children start with (that is, its own). */
export async function currentUmask(): Promise<number> {
  // Windows has no umask to race with; Deno answers its own constant there.
  if (Deno.build.os === "windows") return Deno.umask();
  const out = await new Deno.Command("sh", { args: ["-c", "umask"], stdout: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !/^[0-7]+$/.test(text)) throw new Error(`sh -c umask printed ${text}`);
  return parseInt(text, 8);
}
