/**
 * What the environment and the command line do to a loaded config (docs/upstream.md,
 * "Config resolution", steps 7-12, and "Proxies").
 *
 * @module
 */
import { logger } from "../log.ts";
import { applyEnvironment, type EnvReader } from "./environment.ts";
import { ConfigError } from "./errors.ts";
import { apikeyFrom } from "./header_value.ts";
import type { Config } from "./schema.ts";

/** Flags that override the file; a field is set only when the flag was given explicitly. */
export interface FlagOverrides {
  readonly conf?: string;
  readonly apibase?: string;
  readonly apikey?: string;
  readonly root?: string;
  readonly pidfile?: string;
  readonly verbose?: boolean;
  readonly diagnostic?: boolean;
  /** Each `-role` value as given; split on `,` here. */
  readonly roles?: readonly string[];
}

const ROLE_FULLNAME = /^[a-zA-Z0-9][-_a-zA-Z0-9]*:[\t\n\f\r ]*[a-zA-Z0-9][-_a-zA-Z0-9]*$/;

/**
 * Applies the environment (`MACKEREL_APIKEY` ..., ./environment.ts), then explicit flags, over a
 * config; forces no pidfile for a supervised child, drops malformed roles (ERROR each) and warns
 * when both `verbose` and `silent` are set (verbose wins).
 */
export function applyOverrides(
  config: Config,
  flags: FlagOverrides,
  opts: { readonly child?: boolean; readonly env?: EnvReader } = {},
): Config {
  // upstream logs these from its main package, under the `main` tag.
  const log = logger("main");
  const fromEnv = applyEnvironment(config, opts.env);
  if (fromEnv.used.length > 0) {
    // Names only: a value may be the API key.
    logger("config").debug(`from the environment: ${fromEnv.used.join(", ")}`);
  }
  const merged: Config = {
    ...fromEnv.config,
    ...(flags.conf === undefined ? {} : { conffile: flags.conf }),
    ...(flags.apibase === undefined ? {} : { apibase: flags.apibase }),
    ...(flags.apikey === undefined ? {} : { apikey: apikeyFrom("the flag -apikey", flags.apikey) }),
    ...(flags.root === undefined ? {} : { root: flags.root }),
    ...(flags.pidfile === undefined ? {} : { pidfile: flags.pidfile }),
    ...(flags.verbose === undefined ? {} : { verbose: flags.verbose }),
    ...(flags.diagnostic === undefined ? {} : { diagnostic: flags.diagnostic }),
    ...(flags.roles === undefined ? {} : { roles: flags.roles.flatMap((r) => r.split(",")) }),
    ...(opts.child ? { pidfile: "" } : {}),
  };
  const roles = merged.roles.filter((role) => {
    if (ROLE_FULLNAME.test(role)) return true;
    log.error(
      "Bad format for role fullname (expecting <service>:<role>. Alphabet, numbers, hyphens and " +
        "underscores are acceptable, but the first character must not be a hyphen or an " +
        "underscore.): '{role}'",
      { role },
    );
    return false;
  });
  if (merged.verbose && merged.silent) {
    log.warn(
      "both of `verbose` and `silent` option are specified. In this case, `verbose` get " +
        "preference over `silent`",
    );
  }
  return { ...merged, roles };
}

/**
 * Throws upstream's error (a `ConfigError`) when no API key is configured (docs/upstream.md,
 * "Config resolution", step 11).
 */
export function requireApikey(config: Config): void {
  if (config.apikey === "") {
    throw new ConfigError(
      "apikey must be specified in the config file (or by the DEPRECATED command-line flag)",
      { file: config.conffile, key: "apikey" },
    );
  }
}

/**
 * The proxy variables to export for the config (docs/upstream.md, "Proxies"): `http_proxy` and
 * `https_proxy` unless empty
 * or `direct`; a usable `http_proxy` with an empty `https_proxy` serves HTTPS too. `direct` never
 * unsets an inherited variable.
 */
export function proxyEnvironment(config: Config): Record<string, string> {
  const usable = (v: string) => v !== "" && v !== "direct";
  const env: Record<string, string> = {};
  if (usable(config.httpProxy)) env.HTTP_PROXY = config.httpProxy;
  if (usable(config.httpsProxy)) env.HTTPS_PROXY = config.httpsProxy;
  else if (config.httpsProxy === "" && usable(config.httpProxy)) env.HTTPS_PROXY = config.httpProxy;
  return env;
}
