/**
 * The kernel32 calls of the Windows collectors and host parts, through Deno FFI, and the pure
 * decoders of what they fill: `MEMORYSTATUSEX` (GlobalMemoryStatusEx) and `SYSTEM_INFO`
 * (GetSystemInfo). The library is opened at the first call, never when this module is imported.
 *
 * @module
 */
import type { Platform } from "../platform.ts";

/** kernel32, which every Windows process has loaded. */
export const KERNEL32 = "kernel32.dll";

/** The symbols used, with their C signatures. */
export const KERNEL32_SYMBOLS = {
  /** `BOOL GlobalMemoryStatusEx(LPMEMORYSTATUSEX)`. */
  GlobalMemoryStatusEx: { parameters: ["buffer"], result: "i32" },
  /** `void GetSystemInfo(LPSYSTEM_INFO)`. */
  GetSystemInfo: { parameters: ["buffer"], result: "void" },
  /** `DWORD GetLogicalDriveStringsW(DWORD nBufferLength, LPWSTR lpBuffer)`. */
  GetLogicalDriveStringsW: { parameters: ["u32", "buffer"], result: "u32" },
  /** `UINT GetDriveTypeW(LPCWSTR lpRootPathName)`. */
  GetDriveTypeW: { parameters: ["buffer"], result: "u32" },
  /** `DWORD QueryDosDeviceW(LPCWSTR lpDeviceName, LPWSTR lpTargetPath, DWORD ucchMax)`. */
  QueryDosDeviceW: { parameters: ["buffer", "buffer", "u32"], result: "u32" },
  /**
   * `BOOL GetVolumeInformationW(LPCWSTR root, LPWSTR volumeName, DWORD size, LPDWORD serial,
   * LPDWORD maxComponentLength, LPDWORD flags, LPWSTR fileSystemName, DWORD size)`.
   */
  GetVolumeInformationW: {
    parameters: ["buffer", "buffer", "u32", "buffer", "buffer", "buffer", "buffer", "u32"],
    result: "i32",
  },
  /**
   * `BOOL GetDiskFreeSpaceExW(LPCWSTR directory, PULARGE_INTEGER freeBytesAvailableToCaller,
   * PULARGE_INTEGER totalNumberOfBytes, PULARGE_INTEGER totalNumberOfFreeBytes)`.
   */
  GetDiskFreeSpaceExW: {
    parameters: ["buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const;

/** The kernel32 symbols as {@linkcode KERNEL32_SYMBOLS} describes them. */
export type Kernel32 = Deno.DynamicLibrary<typeof KERNEL32_SYMBOLS>["symbols"];

/** Opens kernel32 through the platform (lazily). */
export function kernel32(platform: Pick<Platform, "open">): Kernel32 {
  return platform.open(KERNEL32, KERNEL32_SYMBOLS);
}

/** `sizeof(MEMORYSTATUSEX)`. */
export const MEMORYSTATUSEX_SIZE = 64;

/** The fields of `MEMORYSTATUSEX`, in bytes (memory load in percent). */
export interface MemoryStatus {
  readonly memoryLoad: number;
  readonly totalPhys: number;
  readonly availPhys: number;
  readonly totalPageFile: number;
  readonly availPageFile: number;
  readonly totalVirtual: number;
  readonly availVirtual: number;
}

/**
 * Decodes a `MEMORYSTATUSEX`: `dwLength` and `dwMemoryLoad` (4 bytes each), then seven 8-byte
 * sizes from offset 8.
 *
 * @throws {RangeError} when the buffer is shorter than the structure.
 */
export function decodeMemoryStatus(bytes: Uint8Array): MemoryStatus {
  if (bytes.byteLength < MEMORYSTATUSEX_SIZE) {
    throw new RangeError(`MEMORYSTATUSEX is ${MEMORYSTATUSEX_SIZE} bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (offset: number) => Number(view.getBigUint64(offset, true));
  return {
    memoryLoad: view.getUint32(4, true),
    totalPhys: u64(8),
    availPhys: u64(16),
    totalPageFile: u64(24),
    availPageFile: u64(32),
    totalVirtual: u64(40),
    availVirtual: u64(48),
  };
}

/**
 * GlobalMemoryStatusEx.
 *
 * @throws {Error} when the call fails.
 */
export function globalMemoryStatus(lib: Kernel32): MemoryStatus {
  const bytes = new Uint8Array(MEMORYSTATUSEX_SIZE);
  new DataView(bytes.buffer).setUint32(0, MEMORYSTATUSEX_SIZE, true);
  if (lib.GlobalMemoryStatusEx(bytes) === 0) throw new Error("GlobalMemoryStatusEx failed");
  return decodeMemoryStatus(bytes);
}

/** `sizeof(SYSTEM_INFO)` on 64-bit Windows. */
export const SYSTEM_INFO_SIZE = 48;

/** The fields of `SYSTEM_INFO` upstream uses. */
export interface SystemInfo {
  /** `wProcessorArchitecture`: 9 amd64, 12 arm64, 0 x86 ... */
  readonly processorArchitecture: number;
  readonly pageSize: number;
  /** `dwNumberOfProcessors`: the logical processors of the current processor group. */
  readonly numberOfProcessors: number;
  readonly processorLevel: number;
  readonly processorRevision: number;
}

/**
 * Decodes a 64-bit `SYSTEM_INFO`: architecture (2 bytes) at 0, page size at 4, two pointers and
 * the active processor mask (8 bytes each) from 8, the processor count at 32, level and revision
 * (2 bytes each) at 44.
 *
 * @throws {RangeError} when the buffer is shorter than the structure.
 */
export function decodeSystemInfo(bytes: Uint8Array): SystemInfo {
  if (bytes.byteLength < SYSTEM_INFO_SIZE) {
    throw new RangeError(`SYSTEM_INFO is ${SYSTEM_INFO_SIZE} bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    processorArchitecture: view.getUint16(0, true),
    pageSize: view.getUint32(4, true),
    numberOfProcessors: view.getUint32(32, true),
    processorLevel: view.getUint16(44, true),
    processorRevision: view.getUint16(46, true),
  };
}

/** GetSystemInfo. */
export function systemInfo(lib: Kernel32): SystemInfo {
  const bytes = new Uint8Array(SYSTEM_INFO_SIZE);
  lib.GetSystemInfo(bytes);
  return decodeSystemInfo(bytes);
}
