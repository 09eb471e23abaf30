/**
 * The OpenTelemetry resource a host's metrics are sent under (semantic conventions: host, os,
 * service), and `mackerelio.host.id`, the host id Mackerel registered, so Mackerel ties the series
 * to the host it already knows.
 *
 * @module
 */
import type { HostPayload } from "../mackerel/types.ts";
import type { Attributes } from "./encode.ts";

/** The `service.name` every resource carries. */
export const SERVICE_NAME = "mackerel-agent";

/** The semantic conventions' `host.arch` of a Deno architecture. */
const ARCH: Readonly<Record<string, string>> = { x86_64: "amd64", aarch64: "arm64" };

/** Options of {@linkcode hostResource}. */
export interface HostResourceOptions {
  /** The host spec the agent registered (name, cloud metadata). */
  readonly payload: HostPayload;
  /** Mackerel's id of the host. */
  readonly hostId: string;
  readonly version: string;
  /** Deno.build's, by default. */
  readonly os?: string;
  readonly arch?: string;
}

/** `host.name`, `host.id` (the cloud instance id, when known), `os.type`, `host.arch`, `service.*`, `mackerelio.host.id`. */
export function hostResource(options: HostResourceOptions): Attributes {
  const arch = options.arch ?? Deno.build.arch;
  const instanceId = cloudInstanceId(options.payload);
  return {
    "host.name": options.payload.name,
    ...(instanceId ? { "host.id": instanceId } : {}),
    "os.type": options.os ?? Deno.build.os,
    "host.arch": ARCH[arch] ?? arch,
    "service.name": SERVICE_NAME,
    "service.version": options.version,
    "mackerelio.host.id": options.hostId,
  };
}

/** The resource of metrics sent for another host (a plugin's `custom_identifier`). */
export function otherHostResource(hostId: string, version: string): Attributes {
  return {
    "service.name": SERVICE_NAME,
    "service.version": version,
    "mackerelio.host.id": hostId,
  };
}

/** EC2's and GCE's `instance-id`, Azure's `vmID`. */
function cloudInstanceId(payload: HostPayload): string | undefined {
  const metadata = payload.meta.cloud?.metadata;
  return metadata?.["instance-id"] || metadata?.vmID || undefined;
}
