/**
 * UTF-16LE strings as the Windows `W` functions take and return them.
 *
 * @module
 */

/** `text` as a NUL-terminated UTF-16LE buffer (`LPCWSTR`). */
export function wide(text: string): Uint16Array {
  const buffer = new Uint16Array(text.length + 1);
  for (let i = 0; i < text.length; i++) buffer[i] = text.charCodeAt(i);
  return buffer;
}

/** The string at the start of `units`, up to its first NUL (or the end). */
export function fromWide(units: Uint16Array): string {
  const end = units.indexOf(0);
  return utf16(end < 0 ? units : units.subarray(0, end));
}

/** The NUL-separated strings of a double-NUL-terminated list (`GetLogicalDriveStringsW`). */
export function fromWideList(units: Uint16Array): string[] {
  const strings: string[] = [];
  let start = 0;
  for (let i = 0; i < units.length; i++) {
    if (units[i] !== 0) continue;
    if (i === start) break;
    strings.push(utf16(units.subarray(start, i)));
    start = i + 1;
  }
  return strings;
}

/** The string of `length` UTF-16 units at byte `offset` of `bytes`, stopping at a NUL. */
export function wideAt(bytes: Uint8Array, offset: number, length: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const units = new Uint16Array(length);
  for (let i = 0; i < length && offset + 2 * i + 1 < bytes.byteLength; i++) {
    units[i] = view.getUint16(offset + 2 * i, true);
  }
  return fromWide(units);
}

function utf16(units: Uint16Array): string {
  return new TextDecoder("utf-16le").decode(units);
}
