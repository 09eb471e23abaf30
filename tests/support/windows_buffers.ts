/**
 * Synthesized Windows structures and fake kernel32, pdh, advapi32 and iphlpapi symbols, for the
 * decoders' tests and the Windows fixture round. The fakes behave as the documented calls do
 * (sizes, two-call protocols, statuses), so the FFI glue runs on Linux as it would on Windows.
 *
 * @module
 */
import { MIB_IF_ROW2_SIZE, MIB_IF_TABLE2_ROWS } from "../../src/platform/windows/iphlpapi.ts";
import {
  COUNTER_ITEM_SIZE,
  PDH_INVALID_DATA,
  PDH_MORE_DATA,
} from "../../src/platform/windows/pdh.ts";
import { addressOf, handleValue, wideArgument } from "./fixture_platform.ts";

/** A `MEMORYSTATUSEX` as GlobalMemoryStatusEx fills it. */
export function encodeMemoryStatus(status: {
  memoryLoad: number;
  totalPhys: number;
  availPhys: number;
  totalPageFile: number;
  availPageFile: number;
  totalVirtual: number;
  availVirtual: number;
}): Uint8Array {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 64, true);
  view.setUint32(4, status.memoryLoad, true);
  const sizes = [
    status.totalPhys,
    status.availPhys,
    status.totalPageFile,
    status.availPageFile,
    status.totalVirtual,
    status.availVirtual,
    0,
  ];
  sizes.forEach((size, i) => view.setBigUint64(8 + 8 * i, BigInt(size), true));
  return bytes;
}

/** A 64-bit `SYSTEM_INFO`, its pointers and mask filled with junk. */
export function encodeSystemInfo(info: {
  processorArchitecture: number;
  numberOfProcessors: number;
}): Uint8Array {
  const bytes = new Uint8Array(48);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, info.processorArchitecture, true);
  view.setUint32(4, 4096, true);
  view.setBigUint64(8, 0x10000n, true);
  view.setBigUint64(16, 0x7ffffffeffffn, true);
  view.setBigUint64(24, 0xffffn, true);
  view.setUint32(32, info.numberOfProcessors, true);
  view.setUint32(36, 8664, true);
  view.setUint32(40, 65536, true);
  view.setUint16(44, 6, true);
  view.setUint16(46, 0x9e0a, true);
  return bytes;
}

/** One interface row to synthesize. */
export interface IfRowFixture {
  readonly index: number;
  readonly alias: string;
  readonly description: string;
  readonly mac: readonly number[];
  readonly type: number;
  readonly filter?: boolean;
  readonly inOctets?: number;
  readonly outOctets?: number;
}

function writeWide(view: DataView, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) view.setUint16(offset + 2 * i, text.charCodeAt(i), true);
}

/** A `MIB_IF_TABLE2` of `rows`, every other byte of each row junk. */
export function encodeIfTable(rows: readonly IfRowFixture[]): Uint8Array {
  const bytes = new Uint8Array(MIB_IF_TABLE2_ROWS + rows.length * MIB_IF_ROW2_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, rows.length, true);
  rows.forEach((row, i) => {
    const at = MIB_IF_TABLE2_ROWS + i * MIB_IF_ROW2_SIZE;
    bytes.fill(0xa5, at, at + MIB_IF_ROW2_SIZE);
    view.setBigUint64(at, 0x6000000000000n + BigInt(row.index), true);
    view.setUint32(at + 8, row.index, true);
    // The strings end at a NUL; what follows it stays junk, which a decoder must not read.
    writeWide(view, at + 28, `${row.alias}\0`);
    writeWide(view, at + 542, `${row.description}\0`);
    view.setUint32(at + 1056, row.mac.length, true);
    row.mac.forEach((b, j) => view.setUint8(at + 1060 + j, b));
    view.setUint32(at + 1128, row.type, true);
    view.setUint8(at + 1152, row.filter ? 0b11 : 0b01);
    view.setBigUint64(at + 1208, BigInt(row.inOctets ?? 0), true);
    view.setBigUint64(at + 1280, BigInt(row.outOctets ?? 0), true);
  });
  return bytes;
}

/** A formatted counter array as PDH lays it out: items, then their names, at `bytes`' address. */
export function encodeCounterArray(
  bytes: Uint8Array,
  items: readonly { name: string; status: number; value: number }[],
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const base = addressOf(bytes);
  let names = items.length * COUNTER_ITEM_SIZE;
  items.forEach((item, i) => {
    const at = i * COUNTER_ITEM_SIZE;
    view.setBigUint64(at, base + BigInt(names), true);
    view.setUint32(at + 8, item.status, true);
    view.setUint32(at + 12, 0xdeadbeef, true);
    view.setFloat64(at + 16, item.value, true);
    writeWide(view, names, item.name);
    view.setUint16(names + 2 * item.name.length, 0, true);
    names += 2 * (item.name.length + 1);
  });
}

/** The size of a counter array of `items`. */
export function counterArraySize(items: readonly { name: string }[]): number {
  return items.reduce((size, item) => size + COUNTER_ITEM_SIZE + 2 * (item.name.length + 1), 0);
}

/**
 * What a fake PDH answers after the `n`th collection (1 for the first) for a counter path: one
 * value, or instances of a wildcard counter; `undefined` when it has no valid data yet.
 */
export type PdhScript = (
  path: string,
  collection: number,
) => number | readonly { name: string; value: number }[] | undefined;

/** Fake pdh.dll symbols driven by `script`, with the calls they got. */
export function fakePdh(script: PdhScript) {
  const queries = new Map<bigint, { collections: number }>();
  const counters = new Map<bigint, { query: bigint; path: string }>();
  let next = 0x1000n;
  const out = (buffer: BigUint64Array, handle: bigint) => void (buffer[0] = handle);
  const state = (counter: Deno.PointerValue) => {
    const found = counters.get(handleValue(counter));
    if (!found) throw new Error("unknown counter handle");
    return { ...found, collections: queries.get(found.query)!.collections };
  };
  const symbols = {
    PdhOpenQueryW: (_source: Deno.PointerValue, _user: bigint, handle: BigUint64Array) => {
      const id = next += 0x10n;
      queries.set(id, { collections: 0 });
      out(handle, id);
      return 0;
    },
    PdhAddEnglishCounterW: (
      query: Deno.PointerValue,
      path: Uint16Array,
      _user: bigint,
      handle: BigUint64Array,
    ) => {
      const id = next += 0x10n;
      counters.set(id, { query: handleValue(query), path: wideArgument(path) });
      out(handle, id);
      return 0;
    },
    PdhCollectQueryData: (query: Deno.PointerValue) => {
      const found = queries.get(handleValue(query));
      if (!found) return 0xc0000bbc; // PDH_INVALID_HANDLE
      found.collections++;
      return 0;
    },
    PdhGetFormattedCounterValue: (
      counter: Deno.PointerValue,
      format: number,
      _type: Uint32Array | null,
      value: Uint8Array,
    ) => {
      const { path, collections } = state(counter);
      const answer = script(path, collections);
      const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
      if (format !== 0x200 || typeof answer !== "number") {
        view.setUint32(0, 0xc0000bba, true); // PDH_CSTATUS_INVALID_DATA
        return PDH_INVALID_DATA;
      }
      view.setUint32(0, 0, true);
      view.setFloat64(8, answer, true);
      return 0;
    },
    PdhGetFormattedCounterArrayW: (
      counter: Deno.PointerValue,
      format: number,
      size: Uint32Array,
      count: Uint32Array,
      items: Uint8Array | null,
    ) => {
      const { path, collections } = state(counter);
      const answer = script(path, collections);
      if (format !== 0x200 || answer === undefined || typeof answer === "number") {
        return PDH_INVALID_DATA;
      }
      const entries = answer.map((a) => ({ ...a, status: 0 }));
      const needed = counterArraySize(entries);
      if (items === null || size[0] < needed) {
        size[0] = needed;
        count[0] = entries.length;
        return PDH_MORE_DATA;
      }
      encodeCounterArray(items, entries);
      count[0] = entries.length;
      return 0;
    },
    PdhCloseQuery: () => 0,
  };
  return { symbols, counters };
}

/** One drive of a fake kernel32. */
export interface DriveFixture {
  readonly letter: string;
  readonly type: number;
  readonly device?: string;
  readonly volumeName?: string;
  readonly fsName?: string;
  readonly total?: number;
  readonly available?: number;
  readonly free?: number;
}

/** Fake kernel32 symbols: memory, system info and drives. */
export function fakeKernel32(options: {
  memory: () => Uint8Array;
  systemInfo: Uint8Array;
  drives: readonly DriveFixture[];
}) {
  const drive = (name: string) => options.drives.find((d) => d.letter === name[0]);
  const put = (target: Uint16Array, text: string) => {
    for (let i = 0; i < text.length; i++) target[i] = text.charCodeAt(i);
    target[text.length] = 0;
  };
  return {
    GlobalMemoryStatusEx: (bytes: Uint8Array) => {
      if (new DataView(bytes.buffer).getUint32(0, true) !== 64) return 0;
      bytes.set(options.memory());
      return 1;
    },
    GetSystemInfo: (bytes: Uint8Array) => void bytes.set(options.systemInfo),
    GetLogicalDriveStringsW: (length: number, buffer: Uint16Array) => {
      const list = options.drives.map((d) => `${d.letter}:\\\0`).join("") + "\0";
      if (list.length > length) return list.length;
      put(buffer, list.slice(0, -1));
      return list.length - 1;
    },
    GetDriveTypeW: (root: Uint16Array) => drive(wideArgument(root))?.type ?? 1,
    QueryDosDeviceW: (name: Uint16Array, target: Uint16Array, _size: number) => {
      const found = drive(wideArgument(name));
      if (found?.device === undefined) return 0;
      put(target, `${found.device}\0`);
      return found.device.length + 2;
    },
    GetVolumeInformationW: (
      root: Uint16Array,
      volume: Uint16Array,
      _volumeSize: number,
      _serial: null,
      _component: null,
      _flags: null,
      fsName: Uint16Array,
      _fsNameSize: number,
    ) => {
      const found = drive(wideArgument(root));
      if (found?.fsName === undefined) return 0;
      put(volume, found.volumeName ?? "");
      put(fsName, found.fsName);
      return 1;
    },
    GetDiskFreeSpaceExW: (
      name: Uint16Array,
      available: BigUint64Array,
      total: BigUint64Array,
      free: BigUint64Array,
    ) => {
      const found = drive(wideArgument(name));
      if (found?.total === undefined) return 0;
      available[0] = BigInt(found.available ?? 0);
      total[0] = BigInt(found.total);
      free[0] = BigInt(found.free ?? 0);
      return 1;
    },
  };
}

/** Fake advapi32 over a map of `key\value` to a string or a number. */
export function fakeAdvapi32(values: Readonly<Record<string, string | number>>) {
  return {
    RegGetValueW: (
      hkey: Deno.PointerValue,
      subKey: Uint16Array,
      value: Uint16Array,
      flags: number,
      _type: null,
      data: Uint16Array | Uint32Array,
      size: Uint32Array,
    ) => {
      if (handleValue(hkey) !== 0xffffffff80000002n) return 6; // ERROR_INVALID_HANDLE
      const found = values[`${wideArgument(subKey)}\\${wideArgument(value)}`];
      if (found === undefined) return 2; // ERROR_FILE_NOT_FOUND
      if (typeof found === "number") {
        if (flags !== 0x10) return 13; // ERROR_INVALID_DATA
        data[0] = found;
        size[0] = 4;
        return 0;
      }
      if (flags !== 0x2) return 13;
      const needed = 2 * (found.length + 1);
      if (size[0] < needed) {
        size[0] = needed;
        return 234; // ERROR_MORE_DATA
      }
      for (let i = 0; i < found.length; i++) data[i] = found.charCodeAt(i);
      data[found.length] = 0;
      size[0] = needed;
      return 0;
    },
  };
}

/** Fake iphlpapi handing out a table allocated here, and counting the frees. */
export function fakeIphlpapi(rows: readonly IfRowFixture[]) {
  const tables: Uint8Array[] = [];
  const freed: bigint[] = [];
  return {
    freed,
    symbols: {
      GetIfTable2: (out: BigUint64Array) => {
        const table = encodeIfTable(rows);
        tables.push(table);
        out[0] = addressOf(table);
        return 0;
      },
      FreeMibTable: (memory: Deno.PointerValue) => void freed.push(handleValue(memory)),
    },
  };
}
