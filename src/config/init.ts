/**
 * `init`: puts an API key into the config file (docs/upstream.md, "What each command does").
 *
 * @module
 */
import { errorMessage } from "../log.ts";
import { dirname } from "../file_path.ts";
import { ConfigError, quoteString } from "./errors.ts";
import { apikeyFrom } from "./header_value.ts";
import { loadConfigFile } from "./load.ts";

/** Options of {@linkcode initConfig}. */
export interface InitOptions {
  /** The config file (`-conf`). */
  readonly path: string;
  /** `-apikey`; required. */
  readonly apikey: string;
  /** `-apibase`, written after the key when given. */
  readonly apibase?: string;
}

/**
 * Writes `apikey = "<key>"` (and `apibase = "<base>"`) in front of the config file's content,
 * creating the directory (0755) and the file (0644) as needed. A file that already has a non-empty
 * apikey is left untouched (`"already-set"`); a file that does not load is an error.
 */
export async function initConfig(options: InitOptions): Promise<"written" | "already-set"> {
  const { path, apikey, apibase } = options;
  if (apikey === "") throw new ConfigError("-apikey option is required", { key: "apikey" });
  apikeyFrom("the flag -apikey", apikey);
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o755 });
  let old: Uint8Array | undefined;
  if (await exists(path)) {
    let current;
    try {
      current = await loadConfigFile(path);
    } catch (error) {
      const cause = errorMessage(error);
      throw new ConfigError(`failed to load the config file: ${cause}`, {
        file: path,
        cause: error,
      });
    }
    if (current.apikey !== "") return "already-set";
    old = await Deno.readFile(path);
  }
  const head = `apikey = ${quoteString(apikey)}\n` +
    (apibase ? `apibase = ${quoteString(apibase)}\n` : "");
  const bytes = new TextEncoder().encode(head);
  const content = new Uint8Array(bytes.length + (old?.length ?? 0));
  content.set(bytes);
  if (old) content.set(old, bytes.length);
  // Like Go's os.WriteFile: the mode applies only to a file it creates.
  await Deno.writeFile(path, content, old ? {} : { mode: 0o644 });
  return "written";
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
