/**
 * The parts of a macOS host's description, as upstream's `spec/darwin` builds them: kernel (`uname`,
 * `sw_vers`), cpu (`sysctl machdep.cpu`, one entry per logical CPU), memory (`hw.memsize`),
 * filesystems (`df`, as the metrics) and interfaces (`ifconfig -a`). No block devices, as upstream.
 * The description is built at start and every hour, so a few commands cost nothing that matters.
 *
 * @module
 */
import { errorMessage } from "../../log.ts";
import type { CpuSpec, FilesystemSpec, InterfaceSpec, KernelSpec } from "../../mackerel/types.ts";
import type { Platform } from "../../platform/platform.ts";
import { IFCONFIG, SW_VERS, SYSCTL, UNAME } from "../../platform/darwin/commands.ts";
import { listDarwinFilesystems } from "../darwin_df.ts";
import { parseIfconfig } from "../../platform/darwin/ifconfig.ts";
import { cpuSpecFromSysctl, parseSysctlInteger } from "../../platform/darwin/sysctl.ts";
import { parseSwVers } from "../../platform/darwin/sw_vers.ts";
import { parseUnameA } from "../../platform/darwin/uname.ts";

/**
 * The kernel part: `uname`'s release, version, machine and name (also `os`), `sw_vers`'s product
 * name and version as the platform. A command that fails only leaves its fields out, as upstream
 * skips a field whose command fails.
 */
export async function darwinKernel(platform: Pick<Platform, "run">): Promise<KernelSpec> {
  const [uname, swVers] = await Promise.all([
    platform.run(UNAME, ["-a"]).then(parseUnameA).catch(() => undefined),
    platform.run(SW_VERS, []).then(parseSwVers).catch(() => undefined),
  ]);
  if (uname === undefined && swVers === undefined) throw new Error("uname and sw_vers failed");
  return {
    ...(uname
      ? {
        name: uname.sysname,
        release: uname.release,
        version: uname.version,
        machine: uname.machine,
        os: uname.sysname,
      }
      : {}),
    ...(swVers?.productName !== undefined ? { platform_name: swVers.productName } : {}),
    ...(swVers?.productVersion !== undefined ? { platform_version: swVers.productVersion } : {}),
  };
}

/** The cpu part: `sysctl machdep.cpu`'s keys, repeated for each of `hw.logicalcpu`'s CPUs. */
export async function darwinCpu(platform: Pick<Platform, "run">): Promise<CpuSpec[]> {
  const [cpu, count] = await Promise.all([
    platform.run(SYSCTL, ["machdep.cpu"]),
    platform.run(SYSCTL, ["-n", "hw.logicalcpu"]),
  ]);
  const spec = cpuSpecFromSysctl(cpu);
  return Array.from({ length: parseSysctlInteger(count, "hw.logicalcpu") }, () => ({ ...spec }));
}

/** The memory part: `hw.memsize` in KiB (`"16777216kB"`). */
export async function darwinMemory(
  platform: Pick<Platform, "run">,
): Promise<Record<string, string>> {
  const bytes = parseSysctlInteger(await platform.run(SYSCTL, ["-n", "hw.memsize"]), "hw.memsize");
  return { total: `${Math.floor(bytes / 1024)}kB` };
}

/** The filesystem part: every filesystem `df -Pkl` lists after upstream's macOS rules. */
export async function darwinFilesystems(
  platform: Pick<Platform, "run">,
): Promise<Record<string, FilesystemSpec>> {
  const spec: Record<string, FilesystemSpec> = {};
  for (const fs of await listDarwinFilesystems(platform)) {
    spec[fs.name] = {
      kb_size: fs.kbSize,
      kb_used: fs.kbUsed,
      kb_available: fs.kbAvailable,
      percent_used: `${fs.percentUsed}%`,
      mount: fs.mount,
    };
  }
  return spec;
}

/**
 * The interfaces: those of `ifconfig -a` with an address that is not only loopback.
 *
 * @throws {Error} `failed to collect interfaces: ...` when ifconfig fails, as upstream aborts.
 */
export async function darwinInterfaces(
  platform: Pick<Platform, "run">,
  isLoopback: (iface: InterfaceSpec) => boolean,
): Promise<InterfaceSpec[] | null> {
  let text: string;
  try {
    text = await platform.run(IFCONFIG, ["-a"]);
  } catch (error) {
    const reason = errorMessage(error);
    throw new Error(`failed to collect interfaces: ${reason}`, { cause: error });
  }
  const kept = parseIfconfig(text).filter((iface) =>
    iface.ipv4Addresses.length + iface.ipv6Addresses.length > 0 && !isLoopback(iface)
  );
  return kept.length > 0 ? kept : null;
}

/** The description's parts on macOS, by `meta` key, and its interfaces. */
export function darwinHostParts(
  platform: Pick<Platform, "run">,
  isLoopback: (iface: InterfaceSpec) => boolean,
) {
  return {
    parts: {
      cpu: () => darwinCpu(platform),
      filesystem: () => darwinFilesystems(platform),
      kernel: () => darwinKernel(platform),
      memory: () => darwinMemory(platform),
    },
    interfaces: () => darwinInterfaces(platform, isLoopback),
  };
}
