/**
 * The host's name as Go's `os.Hostname()` gives it: the kernel's node name, never resolved to an FQDN.
 *
 * @module
 */
import { errorMessage } from "../../log.ts";
import { type Source, watchesFromOutside } from "../source.ts";

/**
 * Reads the kernel node name from `<procfs>/sys/kernel/hostname`.
 *
 * Watching from outside (`-rootfs`), the host's `/etc/hostname` comes first: the kernel answers
 * that file for the reader's UTS namespace, so in a container it names the container (a random id)
 * however /proc is mounted, while the host's `/etc/hostname` names the host. Without one (a name
 * given only by DHCP), the kernel's name is used; run the container with `--uts=host` for that.
 *
 * Falls back to `Deno.hostname()` (uname's nodename, needs only `--allow-sys`) when the file cannot
 * be read or is empty; throws `failed to obtain hostname: ...` when neither works.
 */
export async function readHostname(source: Source): Promise<string> {
  if (watchesFromOutside(source)) {
    const name = await readEtcHostname(source);
    if (name !== undefined) return name;
  }
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
    throw new Error(
      `failed to obtain hostname: ${errorMessage(error)} (and ${errorMessage(procError)})`,
      { cause: error },
    );
  }
}

/** The name in `<etc>/hostname` (hostname(5): the first line that is not a comment), if any. */
async function readEtcHostname(source: Source): Promise<string | undefined> {
  let text: string;
  try {
    text = await source.readEtc("hostname");
  } catch {
    return undefined;
  }
  const name = text.split("\n").map((line) => line.trim())
    .find((line) => line !== "" && !line.startsWith("#"));
  return name;
}
