/**
 * Synthesized libSystem answers for the macOS tests: `vm_statistics64` and `xsw_usage` buffers
 * with known values, one made from a real `vm_stat` output, and fake libSystem symbols.
 *
 * @module
 */
import {
  HOST_VM_INFO64_COUNT,
  VM_STATISTICS64_SIZE,
  XSW_USAGE_SIZE,
} from "../../src/platform/darwin/vm_statistics.ts";

/** Page counts of `struct vm_statistics64`, by field name, with their byte offsets. */
export const VM_FIELDS = {
  free_count: 0,
  active_count: 4,
  inactive_count: 8,
  wire_count: 12,
  purgeable_count: 88,
  speculative_count: 92,
  compressor_page_count: 128,
  throttled_count: 132,
  external_page_count: 136,
  internal_page_count: 140,
} as const;

/** The 8-byte event counters (zero_fill_count ... purges, then decompressions ... swapouts). */
const VM_COUNTERS = {
  zero_fill_count: 16,
  reactivations: 24,
  pageins: 32,
  pageouts: 40,
  faults: 48,
  cow_faults: 56,
  lookups: 64,
  hits: 72,
  purges: 80,
  decompressions: 96,
  compressions: 104,
  swapins: 112,
  swapouts: 120,
  total_uncompressed_pages_in_compressor: 144,
} as const;

export type VmCounts = Partial<Record<keyof typeof VM_FIELDS | keyof typeof VM_COUNTERS, number>>;

/** A `vm_statistics64` with `counts` and every other field a distinct junk value. */
export function encodeVmStatistics64(counts: VmCounts): Uint8Array {
  const bytes = new Uint8Array(VM_STATISTICS64_SIZE);
  const view = new DataView(bytes.buffer);
  // Junk in every field first, so a decoder reading the wrong offset cannot pass by luck.
  for (let i = 0; i < VM_STATISTICS64_SIZE; i += 4) view.setUint32(i, 0x5a5a0000 + i, true);
  for (const [field, offset] of Object.entries(VM_FIELDS)) {
    const value = counts[field as keyof VmCounts];
    if (value !== undefined) view.setUint32(offset, value, true);
  }
  for (const [field, offset] of Object.entries(VM_COUNTERS)) {
    const value = counts[field as keyof VmCounts];
    if (value !== undefined) view.setBigUint64(offset, BigInt(value), true);
  }
  return bytes;
}

/** vm_stat's lines by the field they print (system_cmds `vm_stat.c`). */
const VM_STAT_LINES: Readonly<Record<string, keyof VmCounts>> = {
  "Pages active": "active_count",
  "Pages inactive": "inactive_count",
  "Pages speculative": "speculative_count",
  "Pages throttled": "throttled_count",
  "Pages wired down": "wire_count",
  "Pages purgeable": "purgeable_count",
  "File-backed pages": "external_page_count",
  "Anonymous pages": "internal_page_count",
  "Pages occupied by compressor": "compressor_page_count",
};

/**
 * The counts a `vm_stat` output was printed from: vm_stat prints `free_count - speculative_count`
 * as "Pages free", so free_count is the two added back.
 */
export function vmCountsOfVmStat(text: string): { counts: VmCounts; pageSize: number } {
  const pageSize = Number(/page size of (\d+) bytes/.exec(text)?.[1]);
  const lines = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(.+?):\s+(\d+)\.$/.exec(line);
    if (match) lines.set(match[1], Number(match[2]));
  }
  const counts: Record<string, number> = {};
  for (const [label, field] of Object.entries(VM_STAT_LINES)) counts[field] = lines.get(label) ?? 0;
  counts.free_count = (lines.get("Pages free") ?? 0) + counts.speculative_count;
  return { counts, pageSize };
}

/** go-osstat's formula applied to a `vm_stat` text directly (its `collectMemoryStats`). */
export function goOsstatMemory(text: string): Record<string, number> {
  const { counts, pageSize } = vmCountsOfVmStat(text);
  const page = (n: number | undefined) => (n ?? 0) * pageSize;
  const free = page(counts.free_count! - counts.speculative_count!);
  const cached = page(counts.purgeable_count) + page(counts.external_page_count);
  const used = page(counts.wire_count) + page(counts.compressor_page_count) +
    page(counts.active_count) + page(counts.inactive_count) + page(counts.speculative_count) -
    cached;
  return { total: used + cached + free, used, cached, free };
}

/** An `xsw_usage`. */
export function encodeSwapUsage(
  swap: { total: number; avail: number; used: number; pageSize: number; encrypted: boolean },
): Uint8Array {
  const bytes = new Uint8Array(XSW_USAGE_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(swap.total), true);
  view.setBigUint64(8, BigInt(swap.avail), true);
  view.setBigUint64(16, BigInt(swap.used), true);
  view.setUint32(24, swap.pageSize, true);
  view.setUint32(28, swap.encrypted ? 1 : 0, true);
  return bytes;
}

/** Upstream's own `vm.swapusage` test bytes (go-osstat `memory_darwin_test.go`). */
export const UPSTREAM_SWAPUSAGE = new Uint8Array([
  0x00,
  0x00,
  0x00,
  0x40,
  0x01,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x3c,
  0x56,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0xc4,
  0xe9,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x10,
  0x00,
  0x00,
  0x01,
  0x00,
  0x00,
  0x00,
]);

/** Options of {@linkcode fakeLibSystem}. */
export interface FakeLibSystemOptions {
  /** The `vm_statistics64` of each call, in turn (the last repeats). */
  readonly vm: readonly Uint8Array[];
  readonly swap: Uint8Array;
  readonly pageSize: number;
}

/** Fake libSystem symbols, checking their arguments as the kernel would. */
export function fakeLibSystem(options: FakeLibSystemOptions) {
  let calls = 0;
  const hostPorts: number[] = [];
  return {
    hostPorts,
    symbols: {
      mach_host_self: () => {
        hostPorts.push(0x103);
        return 0x103;
      },
      host_statistics64: (host: number, flavor: number, info: Uint8Array, count: Uint32Array) => {
        if (host !== 0x103 || flavor !== 4) return 4; // KERN_INVALID_ARGUMENT
        if (count[0] < HOST_VM_INFO64_COUNT || info.byteLength < VM_STATISTICS64_SIZE) return 4;
        info.set(options.vm[Math.min(calls++, options.vm.length - 1)]);
        count[0] = HOST_VM_INFO64_COUNT;
        return 0;
      },
      sysctlbyname: (
        name: Uint8Array,
        old: Uint8Array,
        length: BigUint64Array,
        _new: Deno.PointerValue,
        _newLength: bigint,
      ) => {
        const key = new TextDecoder().decode(name.subarray(0, name.indexOf(0)));
        if (key !== "vm.swapusage" || length[0] < BigInt(options.swap.byteLength)) return -1;
        old.set(options.swap);
        length[0] = BigInt(options.swap.byteLength);
        return 0;
      },
      vm_kernel_page_size: options.pageSize,
    },
  };
}
