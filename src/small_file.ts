/**
 * Reading the small files the agent keeps for itself (the host id, the spool's lock, the status
 * file) as untrusted input: anything may stand there. Only a regular file is read (a FIFO would
 * block the read, `/dev/zero` would never end), and only up to a bound; the text must be UTF-8.
 *
 * @module
 */
import { errorMessage } from "./log.ts";

/**
 * What a small file held: its text; nothing (absent); an error reading it (`message`); or why it is
 * not a file to read (`problem`, worded about "it": `it is not a regular file`).
 */
export type SmallFile =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "missing" }
  | { readonly kind: "unreadable"; readonly message: string }
  | { readonly kind: "bad"; readonly problem: string };

/** Reads `path` (following links) if it is a regular file of at most `maxBytes` of UTF-8. */
export function readSmallFile(path: string, maxBytes: number): SmallFile {
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${maxBytes}`);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { kind: "missing" };
    return { kind: "unreadable", message: errorMessage(error) };
  }
  if (!info.isFile) return { kind: "bad", problem: "it is not a regular file" };
  if (info.size > maxBytes) {
    return { kind: "bad", problem: `it has ${info.size} bytes, more than ${maxBytes}` };
  }
  let bytes: Uint8Array;
  try {
    bytes = readAtMost(path, maxBytes + 1);
  } catch (error) {
    return { kind: "unreadable", message: errorMessage(error) };
  }
  // It may have grown since the stat.
  if (bytes.length > maxBytes) {
    return { kind: "bad", problem: `it has more than ${maxBytes} bytes` };
  }
  try {
    return { kind: "text", text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { kind: "bad", problem: "it is not UTF-8 text" };
  }
}

/** Reads up to `max` bytes of a regular file. */
function readAtMost(path: string, max: number): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    const buffer = new Uint8Array(max);
    let length = 0;
    while (length < max) {
      const n = file.readSync(buffer.subarray(length));
      if (n === null || n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } finally {
    file.close();
  }
}
