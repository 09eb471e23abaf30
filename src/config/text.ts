/**
 * The bytes of a config file -> its text, as BurntSushi/toml 1.6 (upstream's parser) reads them.
 *
 * @module
 */

/** A file whose bytes are not TOML text; `line` is where (1-based), for `toml: line N: ...`. */
export class TextError extends Error {
  override readonly name = "TextError";
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes a config file: one leading byte-order mark is skipped (UTF-8, or a UTF-16 one, which is
 * then caught by the NUL check), NUL bytes near the start mean UTF-16, and invalid UTF-8 is an
 * error naming the line and the byte, in BurntSushi's words. Throws {@linkcode TextError}.
 */
export function decodeTomlBytes(bytes: Uint8Array): string {
  let data = bytes;
  if ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff)) {
    data = data.subarray(2);
  } else if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
  if (data.subarray(0, 6).includes(0)) {
    throw new TextError(
      "files cannot contain NULL bytes; probably using UTF-16; TOML files must be UTF-8",
      1,
    );
  }
  try {
    return UTF8.decode(data);
  } catch {
    const at = firstInvalidByte(data);
    const line = data.subarray(0, at).filter((b) => b === 0x0a).length + 1;
    const hex = data[at].toString(16).padStart(2, "0");
    throw new TextError(`invalid UTF-8 byte: 0x${hex}`, line);
  }
}

/** The offset of the first byte that does not start a valid UTF-8 sequence (Go's rules). */
function firstInvalidByte(data: Uint8Array): number {
  for (let i = 0; i < data.length;) {
    const b = data[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // The lead byte gives the length and the range of the first continuation byte.
    const [n, lo, hi] = b >= 0xc2 && b <= 0xdf
      ? [2, 0x80, 0xbf]
      : b === 0xe0
      ? [3, 0xa0, 0xbf]
      : b === 0xed
      ? [3, 0x80, 0x9f]
      : b >= 0xe1 && b <= 0xef
      ? [3, 0x80, 0xbf]
      : b === 0xf0
      ? [4, 0x90, 0xbf]
      : b >= 0xf1 && b <= 0xf3
      ? [4, 0x80, 0xbf]
      : b === 0xf4
      ? [4, 0x80, 0x8f]
      : [0, 0, 0];
    if (n === 0 || i + n > data.length || data[i + 1] < lo || data[i + 1] > hi) return i;
    for (let k = 2; k < n; k++) if (data[i + k] < 0x80 || data[i + k] > 0xbf) return i;
    i += n;
  }
  return data.length - 1;
}
