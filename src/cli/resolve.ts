/**
 * Resolves the configuration a command runs with: the file (if any), then the flags (§2.1).
 *
 * @module
 */
import { loadConfigFile } from "../config/load.ts";
import { applyOverrides } from "../config/overrides.ts";
import { type Config, defaultConfig } from "../config/schema.ts";
import type { CommonOptions } from "./options.ts";

/** Loads `-conf` and applies the explicit flags over it. Throws the loader's `ConfigError`. */
export async function resolveConfig(options: CommonOptions): Promise<Config> {
  const file = await loadConfigFile(options.conf);
  return applyOverrides(file, options.overrides, { child: options.child });
}

/**
 * Like {@linkcode resolveConfig}, but a config that cannot be read is not fatal: the defaults are
 * used instead. Returns the reason the file was not used, if any, for the caller to log.
 */
export async function resolveConfigOrDefaults(
  options: CommonOptions,
): Promise<{ config: Config; problem?: unknown }> {
  try {
    return { config: await resolveConfig(options) };
  } catch (problem) {
    const config = applyOverrides(defaultConfig(), options.overrides, { child: options.child });
    const missingDefault = !options.confExplicit && !(await exists(options.conf));
    return { config, problem: missingDefault ? undefined : problem };
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}
