/**
 * The libSystem calls of the macOS memory collector, through Deno FFI: the numbers `vm_stat` and
 * `sysctl vm.swapusage` print, without spawning either (a spawn costs milliseconds of CPU, a call
 * microseconds). The library is opened at the first call, never when this module is imported.
 *
 * @module
 */
import type { Platform } from "../platform.ts";
import {
  decodeSwapUsage,
  decodeVmStatistics64,
  HOST_VM_INFO64_COUNT,
  type SwapUsage,
  VM_STATISTICS64_SIZE,
  type VmStatistics64,
  XSW_USAGE_SIZE,
} from "./vm_statistics.ts";

/** libSystem; since macOS 11 it lives in the dyld shared cache, which `dlopen` serves by name. */
export const LIBSYSTEM = "/usr/lib/libSystem.B.dylib";

/** The symbols used, with their C signatures. */
export const LIBSYSTEM_SYMBOLS = {
  /** `mach_port_t mach_host_self(void)`: a send right to the host port. */
  mach_host_self: { parameters: [], result: "u32" },
  /**
   * `kern_return_t host_statistics64(host_t, host_flavor_t, host_info64_t, mach_msg_type_number_t*)`.
   */
  host_statistics64: { parameters: ["u32", "i32", "buffer", "buffer"], result: "i32" },
  /** `int sysctlbyname(const char*, void* oldp, size_t* oldlenp, void* newp, size_t newlen)`. */
  sysctlbyname: {
    parameters: ["buffer", "buffer", "buffer", "pointer", "usize"],
    result: "i32",
  },
  /** `vm_size_t vm_kernel_page_size`: the page size of the counts, as `vm_stat` prints it. */
  vm_kernel_page_size: { type: "usize" },
} as const;

/** The libSystem symbols as {@linkcode LIBSYSTEM_SYMBOLS} describes them. */
export type LibSystem = Deno.DynamicLibrary<typeof LIBSYSTEM_SYMBOLS>["symbols"];

/** `HOST_VM_INFO64` of `mach/host_info.h`. */
const HOST_VM_INFO64 = 4;

/** Opens libSystem through the platform (lazily). */
export function libSystem(platform: Pick<Platform, "open">): LibSystem {
  return platform.open(LIBSYSTEM, LIBSYSTEM_SYMBOLS);
}

/**
 * `host_statistics64(HOST_VM_INFO64)` on `host`.
 *
 * @throws {Error} with the kern_return_t when the call fails.
 */
export function hostVmStatistics(lib: LibSystem, host: number): VmStatistics64 {
  const info = new Uint8Array(VM_STATISTICS64_SIZE);
  const count = new Uint32Array([HOST_VM_INFO64_COUNT]);
  const status = lib.host_statistics64(host, HOST_VM_INFO64, info, count);
  if (status !== 0) {
    throw new Error(`host_statistics64(HOST_VM_INFO64) failed: kern_return ${status}`);
  }
  return decodeVmStatistics64(info);
}

/**
 * The raw value of sysctl `name`, at most `size` bytes.
 *
 * @throws {Error} when the call fails.
 */
export function sysctlByName(lib: LibSystem, name: string, size: number): Uint8Array {
  const value = new Uint8Array(size);
  const length = new BigUint64Array([BigInt(size)]);
  if (lib.sysctlbyname(new TextEncoder().encode(`${name}\0`), value, length, null, 0n) !== 0) {
    throw new Error(`sysctl ${name} failed`);
  }
  return value.subarray(0, Number(length[0]));
}

/** `sysctl vm.swapusage`. */
export function swapUsage(lib: LibSystem): SwapUsage {
  return decodeSwapUsage(sysctlByName(lib, "vm.swapusage", XSW_USAGE_SIZE));
}

/** The kernel's page size, the unit of every count of `host_statistics64`. */
export function kernelPageSize(lib: LibSystem): number {
  return Number(lib.vm_kernel_page_size);
}
