/**
 * Plugin configurations that run the scripts of `tests/fixtures/plugins/`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { MetricPluginConfig } from "../../src/config/schema.ts";

/** The directory of the plugin fixtures (`dice.sh`, `runtime/…`), with a trailing slash. */
export const PLUGIN_FIXTURES = fileURLToPath(new URL("../fixtures/plugins/", import.meta.url));

/**
 * A metric plugin `name` running the fixture `script` (relative to {@linkcode PLUGIN_FIXTURES})
 * as a shell line, with the config's defaults (no env, 10 s timeout, the agent's timestamps)
 * unless `extra` says otherwise.
 */
export function metricPlugin(
  name: string,
  script: string,
  extra: Partial<MetricPluginConfig> = {},
): MetricPluginConfig {
  return {
    name,
    command: { kind: "shell", line: PLUGIN_FIXTURES + script },
    env: [],
    timeoutSeconds: 10,
    usePluginTimestamp: false,
    ...extra,
  };
}
