/**
 * The interface table of iphlpapi (`GetIfTable2`, Deno FFI) and the pure decoder of its
 * `MIB_IF_ROW2` rows: the description and MAC of each interface by its alias. Deno names an
 * interface by its alias (`Ethernet`), upstream by its description
 * (`Intel(R) 82574L Gigabit Network Connection`).
 *
 * @module
 */
import type { Platform } from "../platform.ts";
import { wideAt } from "./utf16.ts";

/** iphlpapi.dll. */
export const IPHLPAPI = "iphlpapi.dll";

/** The symbols used, with their C signatures. */
export const IPHLPAPI_SYMBOLS = {
  /** `NETIOAPI_API GetIfTable2(PMIB_IF_TABLE2* table)`: the table is allocated by the call. */
  GetIfTable2: { parameters: ["buffer"], result: "u32" },
  /** `VOID FreeMibTable(PVOID memory)`. */
  FreeMibTable: { parameters: ["pointer"], result: "void" },
} as const;

/** The iphlpapi symbols as {@linkcode IPHLPAPI_SYMBOLS} describes them. */
export type Iphlpapi = Deno.DynamicLibrary<typeof IPHLPAPI_SYMBOLS>["symbols"];

/** `sizeof(MIB_IF_ROW2)`. */
export const MIB_IF_ROW2_SIZE = 1352;
/** Offset of the first row in `MIB_IF_TABLE2` (a 4-byte count, padded to the rows' alignment). */
export const MIB_IF_TABLE2_ROWS = 8;

/** `IF_TYPE_SOFTWARE_LOOPBACK`. */
export const IF_TYPE_SOFTWARE_LOOPBACK = 24;

/** The fields of one `MIB_IF_ROW2` the agent uses. */
export interface IfRow {
  readonly index: number;
  /** `Alias`: the name users see and Deno reports (`Ethernet`). */
  readonly alias: string;
  /** `Description`: upstream's name (`Intel(R) 82574L Gigabit Network Connection`). */
  readonly description: string;
  /** `aa:bb:cc:dd:ee:ff`, empty when the interface has none. */
  readonly mac: string;
  readonly type: number;
  /** `InterfaceAndOperStatusFlags.FilterInterface`: a filter driver's view of another interface. */
  readonly filter: boolean;
  readonly inOctets: number;
  readonly outOctets: number;
}

/** Byte offsets in `MIB_IF_ROW2` (netioapi.h; x64 and arm64 alike). */
const ROW = {
  index: 8,
  alias: 28,
  description: 542,
  physicalAddressLength: 1056,
  physicalAddress: 1060,
  type: 1128,
  flags: 1152,
  inOctets: 1208,
  outOctets: 1280,
} as const;
/** `IF_MAX_STRING_SIZE + 1` UTF-16 units of the alias and the description. */
const STRING_UNITS = 257;

/** Decodes one `MIB_IF_ROW2` at `offset` of `bytes`. */
export function decodeIfRow(bytes: Uint8Array, offset = 0): IfRow {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const macLength = Math.min(view.getUint32(offset + ROW.physicalAddressLength, true), 32);
  const mac = [...bytes.subarray(
    offset + ROW.physicalAddress,
    offset + ROW.physicalAddress + macLength,
  )].map((b) => b.toString(16).padStart(2, "0")).join(":");
  return {
    index: view.getUint32(offset + ROW.index, true),
    alias: wideAt(bytes, offset + ROW.alias, STRING_UNITS),
    description: wideAt(bytes, offset + ROW.description, STRING_UNITS),
    mac,
    type: view.getUint32(offset + ROW.type, true),
    filter: (view.getUint8(offset + ROW.flags) & 0b10) !== 0,
    inOctets: Number(view.getBigUint64(offset + ROW.inOctets, true)),
    outOctets: Number(view.getBigUint64(offset + ROW.outOctets, true)),
  };
}

/**
 * Decodes a `MIB_IF_TABLE2`: `NumEntries`, then the rows.
 *
 * @throws {RangeError} when the buffer is shorter than its count of rows.
 */
export function decodeIfTable(bytes: Uint8Array): IfRow[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (MIB_IF_TABLE2_ROWS + count * MIB_IF_ROW2_SIZE > bytes.byteLength) {
    throw new RangeError(`MIB_IF_TABLE2 of ${count} rows in ${bytes.byteLength} bytes`);
  }
  return Array.from(
    { length: count },
    (_, i) => decodeIfRow(bytes, MIB_IF_TABLE2_ROWS + i * MIB_IF_ROW2_SIZE),
  );
}

/** Opens iphlpapi through the platform (lazily). */
export function iphlpapi(platform: Pick<Platform, "open">): Iphlpapi {
  return platform.open(IPHLPAPI, IPHLPAPI_SYMBOLS);
}

/**
 * GetIfTable2: every interface, copied out of the table the call allocates, which is freed.
 *
 * @throws {Error} with the status when the call fails.
 */
export function interfaceTable(lib: Iphlpapi): IfRow[] {
  const out = new BigUint64Array(1);
  const status = lib.GetIfTable2(out);
  if (status !== 0) throw new Error(`GetIfTable2 failed: ${status}`);
  const table = Deno.UnsafePointer.create(out[0]);
  if (table === null) return [];
  try {
    const view = new Deno.UnsafePointerView(table);
    const length = MIB_IF_TABLE2_ROWS + view.getUint32(0) * MIB_IF_ROW2_SIZE;
    return decodeIfTable(new Uint8Array(view.getArrayBuffer(length)));
  } finally {
    lib.FreeMibTable(table);
  }
}
