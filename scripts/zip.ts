/**
 * Zip archives, as much as the release needs: reading one file out of a downloaded archive, and
 * writing the Windows archive of the agent and its service wrapper. Deflate comes from
 * `node:zlib`; entries get a fixed date so the same files give the same archive.
 *
 * @module
 */
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";

/** A zip that cannot be read, or lacks the file asked for. */
export class ZipError extends Error {}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const STORED = 0;
const DEFLATED = 8;
/** 1980-01-01 00:00, the earliest MS-DOS date. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** The names of the files in `zip`, in its central directory's order. */
export function zipNames(zip: Uint8Array): string[] {
  return centralEntries(zip).map((entry) => entry.name);
}

/** The content of the file `name` in `zip`, checked against its CRC-32. */
export function zipEntry(zip: Uint8Array, name: string): Uint8Array {
  const entry = centralEntries(zip).find((e) => e.name === name);
  if (!entry) throw new ZipError(`no ${name} in the archive`);
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const at = entry.localOffset;
  if (at + 30 > zip.length || view.getUint32(at, true) !== LOCAL_HEADER) {
    throw new ZipError(`${name}: no local header where the directory says`);
  }
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const raw = zip.subarray(start, start + entry.compressedSize);
  if (raw.length !== entry.compressedSize) throw new ZipError(`${name}: the archive is cut short`);
  let data: Uint8Array;
  if (entry.method === STORED) data = raw;
  else if (entry.method === DEFLATED) {
    try {
      data = new Uint8Array(inflateRawSync(raw));
    } catch (error) {
      throw new ZipError(`${name}: ${(error as Error).message}`);
    }
  } else throw new ZipError(`${name}: compression method ${entry.method} is not supported`);
  if (data.length !== entry.size || crc32(data) !== entry.crc) {
    throw new ZipError(`${name}: its content does not match its size and CRC-32`);
  }
  return data;
}

/** One file to put in an archive. */
export interface ZipInput {
  /** Its path inside the archive, `/`-separated. */
  readonly name: string;
  readonly data: Uint8Array;
}

/** A zip archive of `files`, each deflated. */
export function writeZip(files: readonly ZipInput[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const file of files) {
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(file.name) || file.name.includes("\\")) {
      throw new RangeError(
        `a zip entry name must be printable ASCII with / separators: ${file.name}`,
      );
    }
    const name = new TextEncoder().encode(file.name);
    const compressed = new Uint8Array(deflateRawSync(file.data));
    const crc = crc32(file.data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, LOCAL_HEADER, true);
    local.setUint16(4, 20, true); // version needed: 2.0 (deflate)
    local.setUint16(8, DEFLATED, true);
    local.setUint16(12, DOS_DATE, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, compressed.length, true);
    local.setUint32(22, file.data.length, true);
    local.setUint16(26, name.length, true);
    parts.push(new Uint8Array(local.buffer), name, compressed);

    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, CENTRAL_HEADER, true);
    entry.setUint16(4, 20, true); // made by: MS-DOS, 2.0
    entry.setUint16(6, 20, true);
    entry.setUint16(10, DEFLATED, true);
    entry.setUint16(14, DOS_DATE, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, compressed.length, true);
    entry.setUint32(24, file.data.length, true);
    entry.setUint16(28, name.length, true);
    entry.setUint32(42, offset, true);
    central.push(new Uint8Array(entry.buffer), name);
    offset += 30 + name.length + compressed.length;
  }
  const centralSize = central.reduce((n, part) => n + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, END_OF_CENTRAL, true);
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of all) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

interface CentralEntry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

/** The central directory's entries; throws {@linkcode ZipError} on anything unreadable. */
function centralEntries(zip: Uint8Array): CentralEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // The end record is the last 22 bytes, followed by a comment of at most 64 KiB.
  let end = -1;
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new ZipError("not a zip archive (no end of central directory)");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries: CentralEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL_HEADER) {
      throw new ZipError("the central directory is damaged");
    }
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    entries.push({
      name: new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength)),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
