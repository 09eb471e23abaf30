/**
 * The host's name as Go's `os.Hostname()` gives it: the kernel's node name, never resolved to an FQDN.
 *
 * @module
 */
import type { Source } from "../source.ts";

/**
 * Reads the kernel node name from `<procfs>/sys/kernel/hostname`.
 *
 * Falls back to `Deno.hostname()` (uname's nodename, needs only `--allow-sys`) when the file cannot
 * be read or is empty; throws `failed to obtain hostname: …` when neither works.
 */
export async function readHostname(source: Source): Promise<string> {
  let procError: unknown;
  try {
    const name = (await source.readProc("sys/kernel/hostname")).trim();
    if (name !== "") return name;
    procError = new Error(`${source.procPath("sys/kernel/hostname")} is empty`);
  } catch (error) {
    procError = error;
  }
  try {
    const name = Deno.hostname().trim();
    if (name !== "") return name;
    throw new Error("Deno.hostname() returned an empty name");
  } catch (error) {
    throw new Error(`failed to obtain hostname: ${message(error)} (and ${message(procError)})`, {
      cause: error,
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
