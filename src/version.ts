/**
 * The agent's version and revision, as sent in the User-Agent and the host's `meta`.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** The version from `deno.json`, without a leading `v` and cut at the first `-` (as upstream). */
export const VERSION: string = denoJson.version.replace(/^v/, "").split("-")[0];

/**
 * The first 7 characters of the git revision the agent was built from; `unknown` when absent.
 *
 * The release build writes it into the environment of the compiled binary; a checkout run with
 * `deno run` reads `.git` beside the sources when it may.
 */
export const REVISION: string = readRevision();

function readRevision(): string {
  const baked = (globalThis as { MACKEREL_AGENT_REVISION?: string }).MACKEREL_AGENT_REVISION;
  if (baked) return baked.slice(0, 7);
  try {
    const gitDir = new URL("../.git/", import.meta.url);
    if (gitDir.protocol !== "file:") return "unknown";
    const head = Deno.readTextFileSync(new URL("HEAD", gitDir)).trim();
    const ref = head.match(/^ref: (.+)$/)?.[1];
    const sha = ref ? readRef(gitDir, ref) : head;
    return /^[0-9a-f]{7,}$/.test(sha) ? sha.slice(0, 7) : "unknown";
  } catch {
    return "unknown";
  }
}

/** A branch's commit: its loose ref file, else its line in `packed-refs` (after `git gc`). */
function readRef(gitDir: URL, ref: string): string {
  try {
    return Deno.readTextFileSync(new URL(ref, gitDir)).trim();
  } catch {
    const packed = Deno.readTextFileSync(new URL("packed-refs", gitDir));
    return packed.split("\n").find((line) => line.endsWith(` ${ref}`))?.split(" ")[0] ?? "";
  }
}

/** `mackerel-agent/<version> (Revision <rev>)`, the User-Agent and `agent-name`. */
export const AGENT_NAME = `mackerel-agent/${VERSION} (Revision ${REVISION})`;
