/**
 * Resolves the configuration a command runs with: the file (if any), then the flags
 * (docs/upstream.md, "Config resolution").
 *
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { loadConfigFile } from "../config/load.ts";
import { applyOverrides } from "../config/overrides.ts";
import { type Config, defaultConfig } from "../config/schema.ts";
import type { CommonOptions } from "./options.ts";

/** Loads `-conf` and applies the explicit flags over it. Throws the loader's `ConfigError`. */
export async function resolveConfig(options: CommonOptions): Promise<Config> {
  let file: Config;
  try {
    file = await loadConfigFile(options.conf);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Upstream's wording (docs/upstream.md, "Config resolution", step 6), which alerts match.
    throw new ConfigError(`failed to load the config file: ${error.message}`, {
      file: error.file,
      line: error.line,
      key: error.key,
      detail: error.detail,
      cause: error,
    });
  }
  return checkApibase(applyOverrides(file, options.overrides, { child: options.child }));
}

/** The defaults with the explicit flags over them, for when no config file is read. */
export function configFromFlags(options: CommonOptions): Config {
  return checkApibase(applyOverrides(defaultConfig(), options.overrides, { child: options.child }));
}

/** Rejects an `apibase` that is not an http(s) URL, naming the key, before any request is made. */
export function checkApibase(config: Config): Config {
  let url: URL | undefined;
  try {
    url = new URL(config.apibase);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    throw new ConfigError(`apibase: not an http(s) URL: "${config.apibase}"`, {
      file: config.conffile,
      key: "apibase",
    });
  }
  return config;
}

/**
 * Like {@linkcode resolveConfig}, but a config that cannot be read is not fatal: the defaults with
 * the flags over them are used instead. Returns why the file was not used (a missing default file
 * included, as upstream's `once` says so), for the caller to log.
 */
export async function resolveConfigOrDefaults(
  options: CommonOptions,
): Promise<{ config: Config; problem?: unknown }> {
  try {
    return { config: await resolveConfig(options) };
  } catch (problem) {
    return { config: configFromFlags(options), problem };
  }
}

/** Options of {@linkcode resolveDaemonConfig}. */
export interface DaemonConfigOptions {
  /**
   * Without `-conf`, a missing default file means the defaults (`-stdout` on a fresh machine);
   * false: the file must exist, as upstream's daemon requires. False by default.
   */
  readonly defaultsIfMissing?: boolean;
}

/**
 * The daemon's config (also supervise's): the config file must exist, and a missing one is
 * upstream's error (`failed to load the config file: open <path>: no such file or directory`).
 * With `defaultsIfMissing` and no `-conf`, a missing default file means the defaults instead, with
 * `missing` set for the caller to say so once logging is up.
 */
export async function resolveDaemonConfig(
  options: CommonOptions,
  { defaultsIfMissing = false }: DaemonConfigOptions = {},
): Promise<{ config: Config; missing: boolean }> {
  if (defaultsIfMissing && !options.confExplicit && !(await exists(options.conf))) {
    return { config: configFromFlags(options), missing: true };
  }
  return { config: await resolveConfig(options), missing: false };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}
