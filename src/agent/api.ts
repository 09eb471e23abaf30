/**
 * The Mackerel API client for a configuration, with upstream's process environment
 * (docs/upstream.md, "Process environment", "Proxies").
 *
 * @module
 */
import { proxyEnvironment } from "../config/overrides.ts";
import type { Config } from "../config/schema.ts";
import { createMackerelClient, type MackerelClient } from "../mackerel/client.ts";
import { REVISION, VERSION } from "../version.ts";

/**
 * Exports the config's proxies (call once, after the config is resolved) as `HTTP_PROXY`/`HTTPS_PROXY`, as upstream does, so plugins inherit
 * them and the client follows them; cloud metadata requests bypass them on their own.
 */
export function exportProxyEnvironment(config: Config): void {
  for (const [name, value] of Object.entries(proxyEnvironment(config))) Deno.env.set(name, value);
}

/** Creates the API client a command talks to Mackerel with. */
export function clientFor(config: Config): MackerelClient {
  return createMackerelClient({
    apibase: config.apibase,
    apikey: config.apikey,
    version: VERSION,
    revision: REVISION,
    disableKeepAlive: config.disableHttpKeepAlive,
  });
}
