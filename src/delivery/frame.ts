/**
 * The spool's record format: each record is a frame of `length (u32 LE) | CRC-32 (u32 LE) |
 * payload`, and a segment file is an 8-byte magic followed by frames.
 *
 * A reader stops at the first frame that is incomplete (a torn write: the process or the machine
 * died mid-append) or whose checksum does not match (a corrupt block), and keeps every frame
 * before it: the valid prefix. Nothing here throws on bad bytes.
 *
 * @module
 */
import { crc32 } from "node:zlib";

/** The first bytes of every segment: the format's name and version. */
export const SEGMENT_MAGIC: Uint8Array = new TextEncoder().encode("MKSPOOL1");
/** Bytes of a frame header: length and checksum. */
export const FRAME_HEADER_BYTES = 8;
/** No frame is longer than this (a length beyond it is corruption, not a record). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Encodes one payload as a frame. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_BYTES) {
    throw new RangeError(
      `frame payload must be at most ${MAX_FRAME_BYTES} bytes, got ${payload.length}`,
    );
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** The frames of a byte range: each payload with its offset, and where the valid prefix ends. */
export interface DecodedFrames {
  /** Payloads in order; each is a view into the input. */
  readonly frames: readonly { readonly offset: number; readonly payload: Uint8Array }[];
  /** Offset just past the last valid frame; `bytes.length` when every byte was read. */
  readonly end: number;
}

/** Decodes frames from `start` until the bytes end or a frame is torn or corrupt. */
export function decodeFrames(bytes: Uint8Array, start = 0): DecodedFrames {
  const frames: { offset: number; payload: Uint8Array }[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = start;
  while (bytes.length - offset >= FRAME_HEADER_BYTES) {
    const length = view.getUint32(offset, true);
    const body = offset + FRAME_HEADER_BYTES;
    if (length > MAX_FRAME_BYTES || length > bytes.length - body) break;
    const payload = bytes.subarray(body, body + length);
    if (crc32(payload) !== view.getUint32(offset + 4, true)) break;
    frames.push({ offset, payload });
    offset = body + length;
  }
  return { frames, end: offset };
}

/** Whether `bytes` starts with the segment magic. */
export function hasSegmentMagic(bytes: Uint8Array): boolean {
  if (bytes.length < SEGMENT_MAGIC.length) return false;
  return SEGMENT_MAGIC.every((b, i) => bytes[i] === b);
}
