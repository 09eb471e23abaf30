/**
 * The host's create/update payload for a configuration: the spec, the cloud part and the checks.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { HostPayload } from "../mackerel/types.ts";
import { detectCloud } from "./description/cloud.ts";
import { collectHostSpec } from "./description/spec.ts";
import type { Source } from "./source.ts";

/** Options of {@linkcode describeHost}. */
export interface DescribeOptions {
  readonly config: Pick<Config, "cloudPlatform" | "displayName" | "roles" | "checkPlugins">;
  readonly source: Source;
  readonly signal?: AbortSignal;
}

/**
 * Collects the host payload (docs/upstream.md, "Host payload"). Cloud probing runs every time, as
 * upstream, so a host moved to another instance type is described correctly after the next refresh.
 */
export async function describeHost(options: DescribeOptions): Promise<HostPayload> {
  const { config, source } = options;
  const cloud = await detectCloud({
    platform: config.cloudPlatform,
    source,
    signal: options.signal,
  });
  return await collectHostSpec({
    source,
    displayName: config.displayName,
    roles: config.roles,
    // Checks reporting for another host (custom_identifier) are not this host's monitors.
    checks: config.checkPlugins
      .filter((check) => !check.customIdentifier)
      .map((check) => check.memo ? { name: check.name, memo: check.memo } : { name: check.name }),
    cloud: cloud.cloud,
    customIdentifier: cloud.customIdentifier,
  });
}
