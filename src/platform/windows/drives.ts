/**
 * The fixed drives of a Windows host and their sizes, as upstream lists them
 * (`util/windows/filesystem.go`): for the `filesystem.*` metrics and the host's `filesystem` and
 * `block_device` parts.
 *
 * @module
 */
import type { Kernel32 } from "./kernel32.ts";
import { fromWide, fromWideList, wide } from "./utf16.ts";

/** `GetDriveType` answers. */
export const DRIVE_REMOVABLE = 2;
export const DRIVE_FIXED = 3;

/** One drive letter's facts. */
export interface Drive {
  /** `C:`. */
  readonly name: string;
  readonly driveType: number;
}

/** A fixed drive's filesystem, as upstream's `FilesystemInfo`. */
export interface DriveFilesystem {
  /** `C:`, also its mount. */
  readonly name: string;
  /** `QueryDosDevice`'s target: `\Device\HarddiskVolume3`. */
  readonly label: string;
  readonly volumeName: string;
  /** Lower-cased: `ntfs`, `refs`. */
  readonly fsType: string;
  /** Bytes of the volume and bytes available to this process (quota-aware). */
  readonly totalBytes: number;
  readonly availableBytes: number;
}

/**
 * The drive letters of a `GetLogicalDriveStringsW` list (`C:\`, `D:\` ...): each root's first
 * character, when it is a capital letter as upstream requires.
 */
export function driveLetters(roots: readonly string[]): string[] {
  return roots.map((root) => root[0]).filter((c) => c !== undefined && c >= "A" && c <= "Z");
}

/** Size of the root list buffer in UTF-16 units: 26 drives of `X:\` and a NUL each, and a NUL. */
const ROOTS_UNITS = 26 * 4 + 1;
/** `MAX_PATH`-sized outputs of QueryDosDevice and GetVolumeInformation. */
const NAME_UNITS = 261;

/** Every drive letter with its `GetDriveType`. */
export function listDrives(lib: Kernel32): Drive[] {
  const roots = new Uint16Array(ROOTS_UNITS);
  const length = lib.GetLogicalDriveStringsW(roots.length, roots);
  if (length === 0 || length > roots.length) throw new Error("GetLogicalDriveStringsW failed");
  return driveLetters(fromWideList(roots)).map((letter) => ({
    name: `${letter}:`,
    driveType: lib.GetDriveTypeW(wide(`${letter}:\\`)),
  }));
}

/** GetDiskFreeSpaceExW of `drive` (`C:`): available to the caller, total and free bytes. */
export function diskFreeSpace(
  lib: Kernel32,
  drive: string,
): { available: number; total: number; free: number } | undefined {
  const available = new BigUint64Array(1);
  const total = new BigUint64Array(1);
  const free = new BigUint64Array(1);
  if (lib.GetDiskFreeSpaceExW(wide(drive), available, total, free) === 0) return undefined;
  return { available: Number(available[0]), total: Number(total[0]), free: Number(free[0]) };
}

/**
 * The filesystems of the fixed drives, as upstream lists them: a drive whose DOS device, volume
 * information or free space cannot be read is skipped with one line through `warn`.
 */
export function listDriveFilesystems(
  lib: Kernel32,
  warn: (message: string) => void = () => {},
): DriveFilesystem[] {
  const filesystems: DriveFilesystem[] = [];
  for (const drive of listDrives(lib)) {
    if (drive.driveType !== DRIVE_FIXED) continue;
    const target = new Uint16Array(NAME_UNITS);
    if (lib.QueryDosDeviceW(wide(drive.name), target, target.length) === 0) {
      warn(`do not get DosDevice of ${drive.name}`);
      continue;
    }
    const volume = new Uint16Array(NAME_UNITS);
    const fsName = new Uint16Array(NAME_UNITS);
    const found = lib.GetVolumeInformationW(
      wide(`${drive.name}\\`),
      volume,
      volume.length,
      null,
      null,
      null,
      fsName,
      fsName.length,
    );
    if (found === 0) {
      warn(`do not get volume information of ${drive.name}`);
      continue;
    }
    const space = diskFreeSpace(lib, drive.name);
    if (space === undefined) {
      warn(`do not get disk free space of ${drive.name}`);
      continue;
    }
    filesystems.push({
      name: drive.name,
      label: fromWide(target),
      volumeName: fromWide(volume),
      fsType: fromWide(fsName).toLowerCase(),
      totalBytes: space.total,
      availableBytes: space.available,
    });
  }
  return filesystems;
}

/** Upstream's KiB figures of a drive: whole KiB, rounded down, as its integer division does. */
export function driveKiB(fs: Pick<DriveFilesystem, "totalBytes" | "availableBytes">): {
  kbSize: number;
  kbUsed: number;
  kbAvailable: number;
  percentUsed: number;
} {
  const used = fs.totalBytes - fs.availableBytes;
  return {
    kbSize: Math.floor(fs.totalBytes / 1024),
    kbUsed: Math.floor(used / 1024),
    kbAvailable: Math.floor(fs.availableBytes / 1024),
    percentUsed: fs.totalBytes > 0 ? Math.floor(100 * used / fs.totalBytes) : 0,
  };
}
