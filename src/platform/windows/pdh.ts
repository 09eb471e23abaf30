/**
 * Performance counters through pdh.dll (Deno FFI), as upstream reads its processor, interface and
 * queue counters, and the pure decoders of the values PDH fills: `PDH_FMT_COUNTERVALUE` and the
 * `PDH_FMT_COUNTERVALUE_ITEM_W` array of a wildcard counter (`\LogicalDisk(*)\Disk Reads/sec`).
 *
 * A rate counter needs two collections: PDH computes it between the last two
 * `PdhCollectQueryData` calls, so a collector that collects once per round gets the rate over the
 * window since the previous round (none on the first). Counters are added by their English names
 * (`PdhAddEnglishCounterW`), so a Japanese or German Windows finds them too.
 *
 * @module
 */
import type { Platform } from "../platform.ts";
import { wide, wideAt } from "./utf16.ts";

/** pdh.dll. */
export const PDH = "pdh.dll";

/** The symbols used, with their C signatures. */
export const PDH_SYMBOLS = {
  /** `PDH_STATUS PdhOpenQueryW(LPCWSTR dataSource, DWORD_PTR userData, PDH_HQUERY* query)`. */
  PdhOpenQueryW: { parameters: ["pointer", "usize", "buffer"], result: "u32" },
  /**
   * `PDH_STATUS PdhAddEnglishCounterW(PDH_HQUERY, LPCWSTR path, DWORD_PTR userData,
   * PDH_HCOUNTER* counter)`.
   */
  PdhAddEnglishCounterW: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  /** `PDH_STATUS PdhCollectQueryData(PDH_HQUERY)`. */
  PdhCollectQueryData: { parameters: ["pointer"], result: "u32" },
  /**
   * `PDH_STATUS PdhGetFormattedCounterValue(PDH_HCOUNTER, DWORD format, LPDWORD type,
   * PPDH_FMT_COUNTERVALUE value)`.
   */
  PdhGetFormattedCounterValue: {
    parameters: ["pointer", "u32", "buffer", "buffer"],
    result: "u32",
  },
  /**
   * `PDH_STATUS PdhGetFormattedCounterArrayW(PDH_HCOUNTER, DWORD format, LPDWORD bufferSize,
   * LPDWORD itemCount, PPDH_FMT_COUNTERVALUE_ITEM_W items)`.
   */
  PdhGetFormattedCounterArrayW: {
    parameters: ["pointer", "u32", "buffer", "buffer", "buffer"],
    result: "u32",
  },
  /** `PDH_STATUS PdhCloseQuery(PDH_HQUERY)`. */
  PdhCloseQuery: { parameters: ["pointer"], result: "u32" },
} as const;

/** The pdh.dll symbols as {@linkcode PDH_SYMBOLS} describes them. */
export type Pdh = Deno.DynamicLibrary<typeof PDH_SYMBOLS>["symbols"];

/** `PDH_FMT_DOUBLE`. */
export const PDH_FMT_DOUBLE = 0x200;
/** `ERROR_SUCCESS`. */
export const ERROR_SUCCESS = 0;
/** `PDH_MORE_DATA`: the array needs a larger buffer. */
export const PDH_MORE_DATA = 0x800007d2;
/** `PDH_INVALID_DATA`: no valid value yet (a rate after one collection). */
export const PDH_INVALID_DATA = 0xc0000bc6;
/** `PDH_CSTATUS_VALID_DATA` and `PDH_CSTATUS_NEW_DATA`: the value can be used. */
const VALID_STATUSES: ReadonlySet<number> = new Set([0, 1]);

/** `sizeof(PDH_FMT_COUNTERVALUE)` on 64-bit Windows: status, padding, 8-byte union. */
export const COUNTER_VALUE_SIZE = 16;
/** `sizeof(PDH_FMT_COUNTERVALUE_ITEM_W)`: a name pointer, then a counter value. */
export const COUNTER_ITEM_SIZE = 8 + COUNTER_VALUE_SIZE;

/** A formatted value and its `CStatus`. */
export interface CounterValue {
  readonly status: number;
  readonly value: number;
}

/** Decodes a `PDH_FMT_COUNTERVALUE` formatted as a double, at `offset` of `bytes`. */
export function decodeCounterValue(bytes: Uint8Array, offset = 0): CounterValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { status: view.getUint32(offset, true), value: view.getFloat64(offset + 8, true) };
}

/** One instance of a wildcard counter. */
export interface CounterItem extends CounterValue {
  /** The instance name: `C:`, `_Total`, `Intel[R] Ethernet Connection`. */
  readonly name: string;
}

/**
 * Decodes `count` `PDH_FMT_COUNTERVALUE_ITEM_W`s at the start of `bytes`, whose name pointers point
 * into `bytes` itself (PDH puts the strings after the items); `base` is the address of `bytes`.
 *
 * @throws {RangeError} when a name points outside the buffer.
 */
export function decodeCounterArray(bytes: Uint8Array, count: number, base: bigint): CounterItem[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: CounterItem[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * COUNTER_ITEM_SIZE;
    if (at + COUNTER_ITEM_SIZE > bytes.byteLength) {
      throw new RangeError(`counter item ${i} past the end of a ${bytes.byteLength}-byte buffer`);
    }
    const offset = Number(view.getBigUint64(at, true) - base);
    if (!(offset >= 0 && offset < bytes.byteLength)) {
      throw new RangeError(`counter item ${i}: its name is outside the buffer`);
    }
    const name = wideAt(bytes, offset, (bytes.byteLength - offset) >> 1);
    items.push({ name, ...decodeCounterValue(bytes, at + 8) });
  }
  return items;
}

/** A counter added to a {@linkcode PdhQuery}. */
export interface PdhCounter {
  readonly path: string;
  /** The counter's value after the last collection; `undefined` while it has none. */
  value(): number | undefined;
  /** Each instance of a wildcard counter with a valid value after the last collection. */
  items(): { readonly name: string; readonly value: number }[];
}

/** A PDH query: counters, collected together. */
export interface PdhQuery {
  /** Adds a counter by its English path. */
  add(path: string): PdhCounter;
  /** Samples every counter of the query. */
  collect(): void;
}

/** A PDH status in hex, as Microsoft documents them. */
function hex(status: number): string {
  return `0x${status.toString(16).padStart(8, "0")}`;
}

/** Opens pdh.dll through the platform (lazily). */
export function pdh(platform: Pick<Platform, "open">): Pdh {
  return platform.open(PDH, PDH_SYMBOLS);
}

/**
 * Opens a query on the local machine.
 *
 * @throws {Error} naming the call and status when PDH refuses.
 */
export function openPdhQuery(lib: Pdh): PdhQuery {
  const handle = new BigUint64Array(1);
  const opened = lib.PdhOpenQueryW(null, 0n, handle);
  if (opened !== ERROR_SUCCESS) throw new Error(`PdhOpenQuery failed: ${hex(opened)}`);
  const query = Deno.UnsafePointer.create(handle[0]);
  return {
    add(path) {
      const out = new BigUint64Array(1);
      const status = lib.PdhAddEnglishCounterW(query, wide(path), 0n, out);
      if (status !== ERROR_SUCCESS) {
        throw new Error(`PdhAddCounter(${path}) failed: ${hex(status)}`);
      }
      return counterOf(lib, path, Deno.UnsafePointer.create(out[0]));
    },
    collect() {
      const status = lib.PdhCollectQueryData(query);
      if (status !== ERROR_SUCCESS) throw new Error(`PdhCollectQueryData failed: ${hex(status)}`);
    },
  };
}

function counterOf(lib: Pdh, path: string, counter: Deno.PointerValue): PdhCounter {
  return {
    path,
    value() {
      const bytes = new Uint8Array(COUNTER_VALUE_SIZE);
      const status = lib.PdhGetFormattedCounterValue(counter, PDH_FMT_DOUBLE, null, bytes);
      if (status === PDH_INVALID_DATA) return undefined;
      if (status !== ERROR_SUCCESS) {
        throw new Error(`PdhGetFormattedCounterValue(${path}) failed: ${hex(status)}`);
      }
      const { status: cstatus, value } = decodeCounterValue(bytes);
      return VALID_STATUSES.has(cstatus) ? value : undefined;
    },
    items() {
      const size = new Uint32Array(1);
      const count = new Uint32Array(1);
      let bytes: Uint8Array | null = null;
      // Sized by a first call; an instance that appears in between asks for more once more.
      for (let attempt = 0; attempt < 3; attempt++) {
        const status = lib.PdhGetFormattedCounterArrayW(
          counter,
          PDH_FMT_DOUBLE,
          size,
          count,
          bytes,
        );
        if (status === PDH_INVALID_DATA) return [];
        if (status === PDH_MORE_DATA) {
          bytes = new Uint8Array(size[0]);
          continue;
        }
        if (status !== ERROR_SUCCESS) {
          throw new Error(`PdhGetFormattedCounterArray(${path}) failed: ${hex(status)}`);
        }
        if (bytes === null || count[0] === 0) return [];
        const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes));
        return decodeCounterArray(bytes, count[0], BigInt(base))
          .filter((item) => VALID_STATUSES.has(item.status))
          .map(({ name, value }) => ({ name, value }));
      }
      throw new Error(`PdhGetFormattedCounterArray(${path}): the instances kept changing`);
    },
  };
}
