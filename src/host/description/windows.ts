/**
 * The parts of a Windows host's description, as upstream's `spec/windows` builds them, through
 * FFI: kernel (the registry's product name and version, `GetSystemInfo`'s architecture), cpu (one
 * entry per processor from the registry), memory (`GlobalMemoryStatusEx`), block devices and
 * filesystems (the drives), interfaces (Deno's list, named by description as upstream names them).
 *
 * @module
 */
import type {
  FilesystemSpec,
  InterfaceSpec,
  KernelSpec,
  WindowsCpuSpec,
} from "../../mackerel/types.ts";
import type { Platform } from "../../platform/platform.ts";
import { advapi32, registryDword, registryString } from "../../platform/windows/advapi32.ts";
import {
  diskFreeSpace,
  DRIVE_REMOVABLE,
  driveKiB,
  listDriveFilesystems,
  listDrives,
} from "../../platform/windows/drives.ts";
import { interfaceTable, iphlpapi } from "../../platform/windows/iphlpapi.ts";
import { globalMemoryStatus, kernel32, systemInfo } from "../../platform/windows/kernel32.ts";

/** `SYSTEM_INFO.wProcessorArchitecture` as upstream names it (and arm64, which it does not). */
const MACHINES: Readonly<Record<number, string>> = {
  0: "x86",
  1: "mips",
  2: "alpha",
  3: "ppc",
  4: "shx",
  5: "arm",
  6: "ia64",
  7: "alpha64",
  8: "msil",
  9: "amd64",
  10: "ia32_on_win64",
  12: "arm64",
};

const CURRENT_VERSION = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";

/**
 * The caption WMI's `Win32_OperatingSystem` gives, from the registry's product name: Windows 11
 * still calls itself "Windows 10" there, and is told apart by its build (22000 and later).
 */
export function windowsCaption(productName: string, build: number): string {
  const name = build >= 22000 && productName.startsWith("Windows 10 ")
    ? `Windows 11 ${productName.slice("Windows 10 ".length)}`
    : productName;
  return `Microsoft ${name}`;
}

/**
 * The kernel part: `name` "Microsoft Windows", `os` the caption, `version` `major.minor.build`,
 * `release` the service pack (empty since Windows 10), `machine` the architecture.
 */
export function windowsKernel(platform: Pick<Platform, "open">): KernelSpec {
  const reg = advapi32(platform);
  const build = Number(registryString(reg, CURRENT_VERSION, "CurrentBuildNumber"));
  const major = registryDword(reg, CURRENT_VERSION, "CurrentMajorVersionNumber");
  const minor = registryDword(reg, CURRENT_VERSION, "CurrentMinorVersionNumber");
  let release = "";
  try {
    release = registryString(reg, CURRENT_VERSION, "CSDVersion");
  } catch {
    // No service pack: the value does not exist, and WMI's CSDVersion is empty.
  }
  const machine = MACHINES[systemInfo(kernel32(platform)).processorArchitecture];
  return {
    name: "Microsoft Windows",
    os: windowsCaption(registryString(reg, CURRENT_VERSION, "ProductName"), build),
    version: `${major}.${minor}.${build}`,
    release,
    ...(machine !== undefined ? { machine } : {}),
  };
}

/** The cpu part: each processor's name, speed and vendor from the registry. */
export function windowsCpu(platform: Pick<Platform, "open">): WindowsCpuSpec[] {
  const info = systemInfo(kernel32(platform));
  const reg = advapi32(platform);
  return Array.from({ length: info.numberOfProcessors }, (_, i) => {
    const key = `HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\${i}`;
    return {
      model_name: registryString(reg, key, "ProcessorNameString"),
      mhz: registryDword(reg, key, "~MHz"),
      model: info.processorArchitecture,
      vendor_id: registryString(reg, key, "VendorIdentifier"),
    };
  });
}

/** The memory part: total and available physical memory in KiB (`"16776756kb"`, upstream's case). */
export function windowsMemory(platform: Pick<Platform, "open">): Record<string, string> {
  const status = globalMemoryStatus(kernel32(platform));
  return {
    total: `${Math.floor(status.totalPhys / 1024)}kb`,
    free: `${Math.floor(status.availPhys / 1024)}kb`,
  };
}

/**
 * The block devices: every drive letter with `removable` and, as upstream sends it, the drive's
 * total free bytes as `size`.
 */
export function windowsBlockDevices(
  platform: Pick<Platform, "open">,
): Record<string, { size: number; removable: boolean }> {
  const lib = kernel32(platform);
  const devices: Record<string, { size: number; removable: boolean }> = {};
  for (const drive of listDrives(lib)) {
    const space = diskFreeSpace(lib, drive.name);
    if (space === undefined) continue;
    devices[drive.name[0]] = { size: space.free, removable: drive.driveType === DRIVE_REMOVABLE };
  }
  return devices;
}

/** The filesystem part: each fixed drive by its name (`C:`). */
export function windowsFilesystems(
  platform: Pick<Platform, "open">,
): Record<string, FilesystemSpec> {
  const spec: Record<string, FilesystemSpec> = {};
  for (const fs of listDriveFilesystems(kernel32(platform))) {
    const { kbSize, kbUsed, kbAvailable, percentUsed } = driveKiB(fs);
    spec[fs.name] = {
      percent_used: `${percentUsed}%`,
      kb_used: kbUsed,
      kb_size: kbSize,
      kb_available: kbAvailable,
      mount: fs.name,
      label: fs.label,
      volume_name: fs.volumeName,
      fs_type: fs.fsType,
    };
  }
  return spec;
}

/**
 * Renames the interfaces Deno lists (by alias, `Ethernet`) to upstream's names, their
 * descriptions, from the interface table; an alias the table lacks keeps its name.
 */
export function renameToDescriptions(
  interfaces: readonly InterfaceSpec[],
  descriptions: ReadonlyMap<string, string>,
): InterfaceSpec[] {
  return interfaces.map((iface) => ({
    ...iface,
    name: descriptions.get(iface.name) ?? iface.name,
  }));
}

/** Description by alias, of the interfaces that are not filter drivers' views. */
export function descriptionsByAlias(platform: Pick<Platform, "open">): Map<string, string> {
  const byAlias = new Map<string, string>();
  for (const row of interfaceTable(iphlpapi(platform))) {
    if (!row.filter && row.alias !== "" && !byAlias.has(row.alias)) {
      byAlias.set(row.alias, row.description);
    }
  }
  return byAlias;
}

/** The description's parts on Windows, by `meta` key, and its interfaces from `list`. */
export function windowsHostParts(
  platform: Pick<Platform, "open">,
  list: () => InterfaceSpec[] | null,
) {
  return {
    parts: {
      block_device: () => Promise.resolve().then(() => windowsBlockDevices(platform)),
      cpu: () => Promise.resolve().then(() => windowsCpu(platform)),
      filesystem: () => Promise.resolve().then(() => windowsFilesystems(platform)),
      kernel: () => Promise.resolve().then(() => windowsKernel(platform)),
      memory: () => Promise.resolve().then(() => windowsMemory(platform)),
    },
    interfaces: () =>
      Promise.resolve().then(() => {
        const interfaces = list();
        if (interfaces === null) return null;
        let descriptions: Map<string, string>;
        try {
          descriptions = descriptionsByAlias(platform);
        } catch {
          // Without the table the interfaces keep Deno's names (their aliases).
          return interfaces;
        }
        return renameToDescriptions(interfaces, descriptions);
      }),
  };
}
