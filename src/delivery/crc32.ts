/**
 * CRC-32 (IEEE 802.3, the one of zlib, gzip and PNG) of the spool's frames, in JavaScript.
 *
 * `node:zlib` has it natively, but importing it makes Deno load its zlib polyfills into every
 * running agent, some MBs of resident memory for a checksum of a few kB a minute. Four bytes a
 * step through four tables ("slicing by 4") keep a replay of a full spool to a fraction of a
 * second even in V8's lite mode.
 *
 * @module
 */

/** The reflected IEEE polynomial. */
const POLYNOMIAL = 0xedb88320;

/** `TABLES[k][b]`: the CRC of byte `b` followed by `k` zero bytes. */
const TABLES: readonly Uint32Array[] = makeTables();

function makeTables(): Uint32Array[] {
  const tables = [0, 1, 2, 3].map(() => new Uint32Array(256));
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[0][b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 4; k++) {
      const prev = tables[k - 1][b];
      tables[k][b] = (prev >>> 8) ^ tables[0][prev & 0xff];
    }
  }
  return tables;
}

/** The CRC-32 of `bytes`, as an unsigned 32-bit integer (what `zlib.crc32` returns). */
export function crc32(bytes: Uint8Array): number {
  const [t0, t1, t2, t3] = TABLES;
  let crc = 0xffffffff;
  let i = 0;
  const end4 = bytes.length - (bytes.length % 4);
  for (; i < end4; i += 4) {
    crc ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    crc = t3[crc & 0xff] ^ t2[(crc >>> 8) & 0xff] ^ t1[(crc >>> 16) & 0xff] ^ t0[crc >>> 24];
  }
  for (; i < bytes.length; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
