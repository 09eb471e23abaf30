/**
 * A probe for tests: resolves the config as the daemon does (file, environment, flags) from its
 * arguments and prints the resolved fields the environment can set, as one JSON line.
 *
 * @module
 */
import { COMMON_FLAGS, commonOptions } from "../../src/cli/options.ts";
import { parseFlags } from "../../src/cli/flags.ts";
import { resolveConfig } from "../../src/cli/resolve.ts";

if (import.meta.main) {
  const config = await resolveConfig(commonOptions(parseFlags(Deno.args, COMMON_FLAGS)));
  console.log(JSON.stringify({
    apikey: config.apikey,
    apibase: config.apibase,
    roles: config.roles,
    displayName: config.displayName,
    onStart: config.hostStatus.onStart,
  }));
}
