/**
 * `init`: writes the API key into the config file (docs/upstream.md, "What each command does").
 *
 * @module
 */
import { initConfig } from "../config/init.ts";
import { DEFAULT_CONFFILE } from "../config/schema.ts";
import { logger } from "../log.ts";
import type { ParsedFlags } from "./flags.ts";

/** Runs `init` and returns the exit code. */
export async function runInit(parsed: ParsedFlags): Promise<number> {
  const path = (parsed.values.get("conf") as string | undefined) ?? DEFAULT_CONFFILE;
  const apikey = (parsed.values.get("apikey") as string | undefined) ?? "";
  const apibase = parsed.values.get("apibase") as string | undefined;
  // A ConfigError (no -apikey, a broken file) is printed by the dispatcher with exit 1.
  const result = await initConfig({ path, apikey, apibase });
  if (result === "already-set") {
    logger("main").info(`apikey already set in "${path}". Skip initializing`);
  }
  return 0;
}
