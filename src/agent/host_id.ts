/**
 * The host id file, `<root>/id` (docs/upstream.md, "Host id file").
 *
 * @module
 */
import { join } from "node:path";
import { logger } from "../log.ts";
import { describeBadHostId, isHostId } from "../mackerel/host_id.ts";

/** Path of the id file under `root`. */
export function hostIdPath(root: string): string {
  return join(root, "id");
}

/** Reads the saved host id; `undefined` when the file is missing or empty. */
export async function readHostId(root: string): Promise<string | undefined> {
  let content: string;
  try {
    content = await Deno.readTextFile(hostIdPath(root));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const id = content.replace(/[\r\n]+$/, "");
  if (id === "") {
    logger("command").warn("HostIDFile found, but the content is empty");
    return undefined;
  }
  if (!isHostId(id)) {
    throw new Error(
      `${hostIdPath(root)} does not hold a host id: ${describeBadHostId(id)}; ` +
        "delete it to register this host again",
    );
  }
  return id;
}

/**
 * Saves the host id atomically: a temporary file beside it, then a rename, so a crash never
 * leaves a half-written id that would register the host a second time.
 */
export async function writeHostId(root: string, id: string): Promise<void> {
  if (!isHostId(id)) throw new RangeError(`not a host id: ${describeBadHostId(id)}`);
  await Deno.mkdir(root, { recursive: true, mode: 0o755 });
  const temp = await Deno.makeTempFile({ dir: root, prefix: ".id-" });
  try {
    await Deno.writeTextFile(temp, id);
    // As a plain create would: 0666 less the umask (makeTempFile starts at 0600).
    await Deno.chmod(temp, 0o666 & ~Deno.umask());
    await Deno.rename(temp, hostIdPath(root));
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** Deletes the id file (after `retire`). */
export async function removeHostId(root: string): Promise<void> {
  await Deno.remove(hostIdPath(root));
}
