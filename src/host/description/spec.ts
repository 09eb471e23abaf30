/**
 * Assembles the host payload sent with `POST /api/v0/hosts` and `PUT /api/v0/hosts/<id>`.
 *
 * @module
 */
import { logger } from "../../log.ts";
import type {
  CheckConfigSpec,
  CloudSpec,
  HostMeta,
  HostPayload,
  InterfaceSpec,
} from "../../mackerel/types.ts";
import { darwinHostParts } from "./darwin.ts";
import { currentPlatform, type Platform } from "../../platform/platform.ts";
import { windowsHostParts } from "./windows.ts";
import { AGENT_NAME, REVISION, VERSION } from "../../version.ts";
import type { Source } from "../source.ts";
import { collectBlockDevices } from "./block_device.ts";
import { collectCpu } from "./cpu.ts";
import { collectFilesystemSpec, type ListFilesystems } from "./filesystem.ts";
import { readHostname } from "./hostname.ts";
import { collectInterfaces, isLoopback, type ListNetworkInterfaces } from "./interfaces.ts";
import { collectKernel } from "./kernel.ts";
import { collectMemorySpec } from "./memory.ts";

const log = logger("spec");

/** Options of {@linkcode collectHostSpec}. */
export interface HostSpecOptions {
  /** Where procfs, sysfs and etc are read. */
  readonly source: Source;
  /** `display_name` of the config; omitted from the payload when empty. */
  readonly displayName?: string;
  /** Role full names (`Service:role`), already validated. */
  readonly roles: readonly string[];
  /** Check monitors without a custom identifier. */
  readonly checks: readonly CheckConfigSpec[];
  /** The cloud's suggestion or the config's; omitted when empty. */
  readonly customIdentifier?: string;
  /** The cloud part, detected elsewhere (it needs the network). */
  readonly cloud?: CloudSpec;
  /** Injected filesystem listing (tests); `listFilesystems` of `src/host/filesystems.ts` if absent. */
  readonly listFilesystems?: ListFilesystems;
  /** Injected interface listing (tests); the platform's `Deno.networkInterfaces` if absent. */
  readonly networkInterfaces?: ListNetworkInterfaces;
  /** The OS's commands, libraries and built-ins; the one the agent runs on by default. */
  readonly platform?: Platform;
}

/** The meta parts gathered from the host, in serialized order. */
type HostParts = Pick<HostMeta, "block_device" | "cpu" | "filesystem" | "kernel" | "memory">;

/** How one OS describes itself: the meta parts it has, and its interfaces. */
interface HostDescriber {
  readonly parts: { readonly [K in keyof HostParts]?: () => Promise<HostParts[K]> };
  readonly interfaces: () => Promise<InterfaceSpec[] | null>;
}

/** The parts of the host's OS: procfs and sysfs, or macOS's commands, or Windows's calls. */
function describerFor(options: HostSpecOptions, platform: Platform): HostDescriber {
  const { source } = options;
  const list = options.networkInterfaces ?? platform.builtins.networkInterfaces;
  if (platform.os === "darwin") return darwinHostParts(platform, isLoopback);
  if (platform.os === "windows") return windowsHostParts(platform, () => collectInterfaces(list));
  return {
    parts: {
      block_device: () => collectBlockDevices(source),
      cpu: () => collectCpu(source),
      filesystem: () => collectFilesystemSpec(source, options.listFilesystems),
      kernel: () => collectKernel(source),
      memory: () => collectMemorySpec(source),
    },
    interfaces: () => Promise.resolve().then(() => collectInterfaces(list)),
  };
}

/**
 * Collects the host payload, running every part concurrently.
 *
 * A meta part whose generator fails is left out with a WARNING `Failed to collect meta in <part>
 * (skip this spec): <err>`, and so is an empty one. Rejects only where upstream aborts: when the
 * hostname cannot be obtained or the interfaces cannot be listed.
 */
export async function collectHostSpec(options: HostSpecOptions): Promise<HostPayload> {
  const { source } = options;
  const describer = describerFor(options, options.platform ?? currentPlatform);
  const [name, interfaces, parts] = await Promise.all([
    readHostname(source),
    describer.interfaces(),
    collectParts(describer.parts),
  ]);
  const meta: HostMeta = {
    "agent-revision": REVISION,
    "agent-version": VERSION,
    "agent-name": AGENT_NAME,
    ...parts,
    ...(options.cloud ? { cloud: options.cloud } : {}),
  };
  return {
    name,
    ...(options.displayName ? { displayName: options.displayName } : {}),
    meta,
    interfaces,
    roleFullnames: [...options.roles],
    checks: options.checks.map(({ name, memo }) => memo ? { name, memo } : { name }),
    ...(options.customIdentifier ? { customIdentifier: options.customIdentifier } : {}),
  };
}

async function collectParts(
  generators: Readonly<Record<string, (() => Promise<unknown>) | undefined>>,
): Promise<HostParts> {
  const keys = Object.keys(generators);
  const settled = await Promise.allSettled(keys.map((key) => generators[key]!()));
  const parts: Record<string, unknown> = {};
  settled.forEach((result, i) => {
    if (result.status === "rejected") {
      log.warn`Failed to collect meta in ${keys[i]} (skip this spec): ${result.reason}`;
    } else if (!isEmpty(result.value)) {
      parts[keys[i]] = result.value;
    }
  });
  return parts as HostParts;
}

/** Go's `omitempty`: no value, an empty list or an empty map is not sent. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
}
