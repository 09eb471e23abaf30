/**
 * Resolves the `custom_identifier` of metric and check plugins to host ids, once at startup
 * (docs/upstream.md: "Retry rules", "Startup and registration" step 6, "Metric plugins",
 * "Check plugins").
 *
 * Upstream looks each identifier up once; one that cannot be resolved keeps its data from being
 * sent for the whole run. Upstream drops that data silently; here each drop says how much was lost,
 * so a typo in `custom_identifier` is visible in the log.
 *
 * @module
 */
import type { MackerelClient } from "../mackerel/client.ts";
import { errorMessage, logger } from "../log.ts";

/** Where the data of a plugin goes. */
export interface HostResolver {
  /** The agent's own host id (data without a custom identifier). */
  readonly hostId: string;
  /** The host id for `customIdentifier` (own host when undefined); undefined when unresolved. */
  hostIdFor(customIdentifier?: string): string | undefined;
  /**
   * Like {@linkcode HostResolver.hostIdFor}, and when unresolved logs a WARNING counting the
   * `count` `what` (e.g. "metric values") dropped for that identifier.
   */
  hostIdOrDrop(
    customIdentifier: string | undefined,
    count: number,
    what: string,
  ): string | undefined;
}

/** Options of {@linkcode resolveCustomIdentifiers}. */
export interface ResolveCustomIdentifiersOptions {
  readonly client: Pick<MackerelClient, "findHostByCustomIdentifier">;
  /** The agent's own host id. */
  readonly hostId: string;
  /** Identifiers to look up; duplicates are looked up once. */
  readonly identifiers: readonly string[];
  readonly signal?: AbortSignal;
}

const log = logger("command");

/** The distinct custom identifiers of metric and check plugins, in configuration order. */
export function listCustomIdentifiers(
  ...pluginLists: readonly (readonly { readonly customIdentifier?: string }[])[]
): string[] {
  const seen = new Set<string>();
  for (const plugins of pluginLists) {
    for (const p of plugins) if (p.customIdentifier !== undefined) seen.add(p.customIdentifier);
  }
  return [...seen];
}

/** Looks every identifier up once (no retry); failures are logged and stay unresolved all run. */
export async function resolveCustomIdentifiers(
  options: ResolveCustomIdentifiersOptions,
): Promise<HostResolver> {
  const identifiers = [...new Set(options.identifiers)];
  const lookups = await Promise.all(identifiers.map(async (ci) => {
    try {
      const host = await options.client.findHostByCustomIdentifier(ci, options.signal);
      if (host) return { ci, id: host.id };
      return { ci, error: `no host was found for the custom identifier: ${ci}` };
    } catch (e) {
      return { ci, error: errorMessage(e) };
    }
  }));
  const hosts = new Map<string, string>();
  // Logged after all lookups finish so the lines come in configuration order.
  for (const lookup of lookups) {
    if (lookup.id !== undefined) hosts.set(lookup.ci, lookup.id);
    else {
      log.warn`Failed to retrieve the host of custom_identifier: ${lookup.ci}, ${lookup.error}`;
    }
  }
  return createHostResolver(options.hostId, hosts);
}

/** A resolver over known lookups (`once` and tests build one without the API). */
export function createHostResolver(
  hostId: string,
  hosts: ReadonlyMap<string, string>,
): HostResolver {
  const hostIdFor = (ci?: string) => ci === undefined ? hostId : hosts.get(ci);
  return {
    hostId,
    hostIdFor,
    hostIdOrDrop(ci, count, what) {
      const id = hostIdFor(ci);
      if (id === undefined && count > 0) {
        log
          .warn`Dropped ${count} ${what} for custom_identifier ${ci}: its host was not found at startup`;
      }
      return id;
    },
  };
}
