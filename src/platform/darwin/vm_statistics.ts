/**
 * macOS memory: the `vm_statistics64` structure `host_statistics64(HOST_VM_INFO64)` fills (what
 * `vm_stat` prints), the `xsw_usage` of `sysctl vm.swapusage`, and upstream's `memory.*` formula
 * (go-osstat's `memory` package for darwin). Pure decoders: the calls are in `libsystem.ts`.
 *
 * @module
 */

/** `sizeof(struct vm_statistics64)`: 4-byte counts and 8-byte event counters, 8-aligned. */
export const VM_STATISTICS64_SIZE = 152;
/** `HOST_VM_INFO64_COUNT`: the structure's size in `integer_t`s. */
export const HOST_VM_INFO64_COUNT = VM_STATISTICS64_SIZE / 4;
/** `sizeof(struct xsw_usage)`. */
export const XSW_USAGE_SIZE = 32;

/** The page counts of `vm_statistics64` upstream's formula uses (pages, not bytes). */
export interface VmStatistics64 {
  /** `free_count`: includes the speculative pages (`vm_stat`'s "Pages free" does not). */
  readonly free: number;
  readonly active: number;
  readonly inactive: number;
  /** `wire_count`: "Pages wired down". */
  readonly wired: number;
  readonly purgeable: number;
  readonly speculative: number;
  /** `compressor_page_count`: "Pages occupied by compressor". */
  readonly compressor: number;
  /** `external_page_count`: "File-backed pages". */
  readonly external: number;
  /** `internal_page_count`: "Anonymous pages". */
  readonly internal: number;
}

/** Byte offsets in `struct vm_statistics64` (xnu `osfmk/mach/vm_statistics.h`). */
const OFFSET = {
  free: 0,
  active: 4,
  inactive: 8,
  wired: 12,
  purgeable: 88,
  speculative: 92,
  compressor: 128,
  external: 136,
  internal: 140,
} as const;

/**
 * Decodes the counts of a `vm_statistics64` buffer (little endian, as on every Mac).
 *
 * @throws {RangeError} when the buffer is shorter than the structure.
 */
export function decodeVmStatistics64(bytes: Uint8Array): VmStatistics64 {
  if (bytes.byteLength < VM_STATISTICS64_SIZE) {
    throw new RangeError(
      `vm_statistics64 is ${VM_STATISTICS64_SIZE} bytes, got ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (offset: number) => view.getUint32(offset, true);
  return {
    free: read(OFFSET.free),
    active: read(OFFSET.active),
    inactive: read(OFFSET.inactive),
    wired: read(OFFSET.wired),
    purgeable: read(OFFSET.purgeable),
    speculative: read(OFFSET.speculative),
    compressor: read(OFFSET.compressor),
    external: read(OFFSET.external),
    internal: read(OFFSET.internal),
  };
}

/** `struct xsw_usage`: swap in bytes. */
export interface SwapUsage {
  readonly total: number;
  readonly avail: number;
  readonly used: number;
  readonly pageSize: number;
  readonly encrypted: boolean;
}

/**
 * Decodes `sysctl vm.swapusage`'s 32 bytes.
 *
 * @throws {RangeError} when the length is not the structure's, as upstream refuses it.
 */
export function decodeSwapUsage(bytes: Uint8Array): SwapUsage {
  if (bytes.byteLength !== XSW_USAGE_SIZE) {
    throw new RangeError(
      `unexpected output of sysctl vm.swapusage: ${bytes.byteLength} bytes, not ${XSW_USAGE_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (offset: number) => Number(view.getBigUint64(offset, true));
  return {
    total: u64(0),
    avail: u64(8),
    used: u64(16),
    pageSize: view.getUint32(24, true),
    encrypted: view.getUint8(28) !== 0,
  };
}

/**
 * Upstream's `memory.*` of macOS (go-osstat), in bytes:
 *
 * - free: "Pages free" (`free_count` - speculative);
 * - cached: purgeable + file-backed;
 * - used: wired + compressor + active + inactive + speculative - cached;
 * - total: used + cached + free (the pages the VM accounts for, a little below `hw.memsize`);
 * - swap_total and swap_free: `vm.swapusage`'s total and available.
 *
 * `used` is never sent negative (upstream's unsigned arithmetic would wrap instead); file-backed
 * pages are a part of the active, inactive and speculative ones, so it does not happen on a Mac.
 */
export function darwinMemoryValues(
  vm: VmStatistics64,
  pageSize: number,
  swap: SwapUsage,
): { readonly name: string; readonly value: number }[] {
  const bytes = (pages: number) => pages * pageSize;
  const free = bytes(Math.max(0, vm.free - vm.speculative));
  const cached = bytes(vm.purgeable + vm.external);
  const used = Math.max(
    0,
    bytes(vm.wired + vm.compressor + vm.active + vm.inactive + vm.speculative) - cached,
  );
  return [
    { name: "memory.total", value: used + cached + free },
    { name: "memory.used", value: used },
    { name: "memory.cached", value: cached },
    { name: "memory.free", value: free },
    { name: "memory.swap_total", value: swap.total },
    { name: "memory.swap_free", value: swap.avail },
  ];
}
