/**
 * The spool's record format: each record is a frame of `length (u32 LE) | CRC-32 (u32 LE) |
 * payload`, and a segment file is an 8-byte magic followed by frames.
 *
 * A reader keeps every frame whose length fits and whose checksum matches. After a frame that does
 * not (a flipped block, a torn write) it resynchronises: every payload starts with the same few
 * bytes (the spool's records begin `{"op":"`), so the next candidate frame is found by searching
 * for them, and its checksum decides. Damage in the middle of a segment then costs the damaged
 * frames only, not every frame after them. Nothing here throws on bad bytes.
 *
 * @module
 */
import { crc32 } from "./crc32.ts";

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

/** One valid frame: where it starts and its payload (a view into the input). */
export interface DecodedFrame {
  readonly offset: number;
  readonly payload: Uint8Array;
}

/** A stretch of bytes that holds no valid frame. */
export interface SkippedBytes {
  readonly offset: number;
  readonly length: number;
  /** Whether it runs to the end of the input: a torn last write rather than damage in between. */
  readonly tail: boolean;
}

/** The frames of a byte range and the stretches between them that could not be read. */
export interface ScannedFrames {
  readonly frames: readonly DecodedFrame[];
  readonly skipped: readonly SkippedBytes[];
}

/** Options of {@linkcode scanFrames}. */
export interface ScanOptions {
  /** Where the first frame starts; 0 by default. */
  readonly start?: number;
  /**
   * The bytes every payload starts with. A frame is only looked for where they are, which makes
   * resynchronising after damage a search rather than a checksum at every offset.
   */
  readonly payloadPrefix: Uint8Array;
}

/** Decodes every valid frame of `bytes`, resynchronising after each stretch of damage. */
export function scanFrames(bytes: Uint8Array, options: ScanOptions): ScannedFrames {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = options.payloadPrefix;
  const frames: DecodedFrame[] = [];
  const skipped: SkippedBytes[] = [];
  let offset = options.start ?? 0;
  let damaged = -1;
  const closeDamage = (end: number, tail: boolean) => {
    if (damaged >= 0 && end > damaged) {
      skipped.push({ offset: damaged, length: end - damaged, tail });
    }
    damaged = -1;
  };
  while (offset < bytes.length) {
    const length = frameLengthAt(bytes, view, offset, prefix);
    if (length !== undefined) {
      closeDamage(offset, false);
      frames.push({
        offset,
        payload: bytes.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length),
      });
      offset += FRAME_HEADER_BYTES + length;
      continue;
    }
    if (damaged < 0) damaged = offset;
    offset = nextCandidate(bytes, offset + 1, prefix);
  }
  closeDamage(bytes.length, true);
  return { frames, skipped };
}

/** The payload length of a valid frame at `offset`, or undefined when there is none. */
function frameLengthAt(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  prefix: Uint8Array,
): number | undefined {
  const body = offset + FRAME_HEADER_BYTES;
  if (body > bytes.length) return undefined;
  const length = view.getUint32(offset, true);
  if (length > MAX_FRAME_BYTES || length > bytes.length - body || length < prefix.length) {
    return undefined;
  }
  if (!startsWith(bytes, body, prefix)) return undefined;
  const payload = bytes.subarray(body, body + length);
  return crc32(payload) === view.getUint32(offset + 4, true) ? length : undefined;
}

/** The first offset at or after `from` where a frame could start: `bytes.length` when none. */
function nextCandidate(bytes: Uint8Array, from: number, prefix: Uint8Array): number {
  let at = from + FRAME_HEADER_BYTES;
  while (at < bytes.length) {
    const found = bytes.indexOf(prefix[0], at);
    if (found < 0) break;
    if (startsWith(bytes, found, prefix)) return found - FRAME_HEADER_BYTES;
    at = found + 1;
  }
  return bytes.length;
}

function startsWith(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * The payloads a damaged stretch may have held, found by following the length fields from its
 * start while they land inside it: for a log line that says what was lost ("1 round of 40
 * points"). Their checksums do not match, so their bytes are only a guess at what was there. A torn
 * tail's last frame is cut short: its payload is guessed as far as it goes.
 */
export function guessDamagedPayloads(bytes: Uint8Array, skipped: SkippedBytes): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = skipped.offset + skipped.length;
  const payloads: Uint8Array[] = [];
  let offset = skipped.offset;
  while (offset + FRAME_HEADER_BYTES <= end) {
    const length = view.getUint32(offset, true);
    const next = offset + FRAME_HEADER_BYTES + length;
    if (next > end) {
      if (!skipped.tail || length > MAX_FRAME_BYTES) break;
      payloads.push(bytes.subarray(offset + FRAME_HEADER_BYTES, end));
      return payloads;
    }
    payloads.push(bytes.subarray(offset + FRAME_HEADER_BYTES, next));
    offset = next;
  }
  return offset === end ? payloads : [];
}

/** Whether `bytes` starts with the segment magic. */
export function hasSegmentMagic(bytes: Uint8Array): boolean {
  if (bytes.length < SEGMENT_MAGIC.length) return false;
  return SEGMENT_MAGIC.every((b, i) => bytes[i] === b);
}

/** Reads the frame at the start of `bytes`: its payload when the checksum matches. */
export function decodeFrameAt(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < FRAME_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  if (length !== bytes.length - FRAME_HEADER_BYTES) return undefined;
  const payload = bytes.subarray(FRAME_HEADER_BYTES);
  return crc32(payload) === view.getUint32(4, true) ? payload : undefined;
}
