/**
 * The host id file, `<root>/id` (docs/upstream.md, "Host id file").
 *
 * @module
 */
import { join } from "../file_path.ts";
import { logger } from "../log.ts";
import { readSmallFile } from "../small_file.ts";
import { describeBadHostId, isHostId } from "../mackerel/host_id.ts";

/** Path of the id file under `root`. */
export function hostIdPath(root: string): string {
  return join(root, "id");
}

/** Reads the saved host id; `undefined` when the file is missing or empty. */
export function readHostId(root: string): Promise<string | undefined> {
  const path = hostIdPath(root);
  // Bounded: a host id is at most 128 characters; a FIFO or /dev/zero there must not hang us.
  const file = readSmallFile(path, MAX_ID_FILE_BYTES);
  if (file.kind === "missing") return Promise.resolve(undefined);
  if (file.kind === "unreadable") return Promise.reject(new Error(file.message));
  if (file.kind === "bad") {
    return Promise.reject(
      new Error(`${path} does not hold a host id: ${file.problem}; delete it to register again`),
    );
  }
  const id = file.text.replace(/[\r\n]+$/, "");
  if (id === "") {
    logger("command").warn("HostIDFile found, but the content is empty");
    return Promise.resolve(undefined);
  }
  if (!isHostId(id)) {
    return Promise.reject(
      new Error(
        `${path} does not hold a host id: ${describeBadHostId(id)}; ` +
          "delete it to register this host again",
      ),
    );
  }
  return Promise.resolve(id);
}

/** An id file is one id (at most 128 characters) and maybe a newline; a kilobyte is ample. */
const MAX_ID_FILE_BYTES = 1024;

/**
 * Saves the host id atomically: a temporary file beside it, then a rename, so a crash never
 * leaves a half-written id that would register the host a second time.
 */
export async function writeHostId(root: string, id: string): Promise<void> {
  if (!isHostId(id)) throw new RangeError(`not a host id: ${describeBadHostId(id)}`);
  await Deno.mkdir(root, { recursive: true, mode: 0o755 });
  // Created new, so 0666 less the umask as a plain create is. Reading the umask would set it to 0
  // for a moment under every thread of the process: a file created then would be world-writable.
  const temp = join(root, `.id-${crypto.randomUUID()}`);
  try {
    await Deno.writeTextFile(temp, id, { createNew: true });
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
