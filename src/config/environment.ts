/**
 * Environment variables that override the config file, for containers (the file, then these, then
 * the command-line flags). The names are those of Mackerel's container agent
 * (mackerel-container-agent), whose users already set them.
 *
 * @module
 */
import { apikeyFrom } from "./header_value.ts";
import type { Config } from "./schema.ts";

/** Reads one environment variable; `undefined` when unset. */
export type EnvReader = (name: string) => string | undefined;

/** Each variable and how it sets the config; an empty value counts as unset. */
export const ENVIRONMENT_OVERRIDES: ReadonlyArray<
  readonly [name: string, apply: (config: Config, value: string) => Config]
> = [
  [
    "MACKEREL_APIKEY",
    (c, v) => ({ ...c, apikey: apikeyFrom("the environment variable MACKEREL_APIKEY", v) }),
  ],
  ["MACKEREL_APIBASE", (c, apibase) => ({ ...c, apibase })],
  // `service:role,service:role`, spaces around each trimmed (as the container agent does).
  [
    "MACKEREL_ROLES",
    (c, v) => ({ ...c, roles: v.split(",").map((r) => r.trim()).filter(Boolean) }),
  ],
  ["MACKEREL_DISPLAY_NAME", (c, displayName) => ({ ...c, displayName })],
  ["MACKEREL_HOST_STATUS_ON_START", (c, onStart) => ({
    ...c,
    hostStatus: { ...c.hostStatus, onStart },
  })],
];

/**
 * The process environment, read only where Deno already allows it: without `--allow-env` the
 * variables count as unset rather than prompting or failing.
 */
export const processEnv: EnvReader = (name) =>
  Deno.permissions.querySync({ name: "env", variable: name }).state === "granted"
    ? Deno.env.get(name)
    : undefined;

/** Applies the variables that are set; returns the config and the names used (never the values). */
export function applyEnvironment(
  config: Config,
  env: EnvReader = processEnv,
): { readonly config: Config; readonly used: readonly string[] } {
  const used: string[] = [];
  for (const [name, apply] of ENVIRONMENT_OVERRIDES) {
    const value = env(name);
    if (value === undefined || value === "") continue;
    config = apply(config, value);
    used.push(name);
  }
  return { config, used };
}
