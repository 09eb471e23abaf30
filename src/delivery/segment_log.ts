/**
 * The spool's files: a directory of numbered segments (`0000000001.seg` ...), each the segment
 * magic followed by frames (./frame.ts). New frames are appended to the newest segment, the head;
 * past a size the head is closed and the next append starts a new one. This module knows files and
 * frames only; which frames are live is the spool's business (./spool.ts).
 *
 * Replay reads every segment oldest first and hands each valid frame to a visitor. Nothing on disk
 * is trusted and nothing is lost silently: damage in the middle of a segment costs only the damaged
 * frames (the reader resynchronises on the next valid one) and is reported with what it may have
 * held; an empty segment, one without the magic, a directory, FIFO or link where a segment should
 * be, and a number too large to read are each reported. Segment numbers continue after every name
 * seen, whatever its type, and a name taken since is skipped, so a new segment never collides.
 *
 * @module
 */
import { join } from "../file_path.ts";
import {
  decodeFrameAt,
  encodeFrame,
  FRAME_HEADER_BYTES,
  guessDamagedPayloads,
  hasSegmentMagic,
  scanFrames,
  SEGMENT_MAGIC,
} from "./frame.ts";
import { errorMessage } from "../log.ts";

/** Where a frame is: its segment, the offset of its header and its length, header included. */
export interface FramePlace {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

/** A segment file and its size. */
export interface SegmentInfo {
  readonly no: number;
  readonly path: string;
  readonly bytes: number;
}

/** Bytes of a segment that held no valid frame. */
export interface DamageReport {
  readonly segment: number;
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  /** Runs to the end of the file: the write under way when the process or machine died. */
  readonly tail: boolean;
  /** The payloads the bytes may have held (their checksums fail): for saying what was lost. */
  readonly guesses: readonly Uint8Array[];
  /**
   * The file is shorter than when it was closed (its successor's first frame says how long it
   * was): the bytes at its end are missing, with at most this many frames.
   */
  readonly missingFrames?: number;
  /** The whole file is missing (deleted out of turn). */
  readonly gone?: true;
}

/** What a replay tells its caller, in file order. */
export interface ReplayVisitor {
  /** A valid frame and its payload (a view, valid during the call only). */
  frame(place: FramePlace, payload: Uint8Array): void;
  /** Bytes that could not be read. */
  damage(report: DamageReport): void;
  /** A file that is not a readable segment, and what was done with it. */
  problem(path: string, message: string): void;
}

/** Options of {@linkcode openSegmentLog}. */
export interface SegmentLogOptions {
  readonly dir: string;
  /** The head is closed once it is this large. */
  readonly segmentBytes: number;
  /** At most this much of one segment is read at replay; the rest is reported as damage. */
  readonly readLimitBytes: number;
  /** The bytes every payload starts with: how a reader finds the next frame after damage. */
  readonly payloadPrefix: Uint8Array;
  /** `fdatasync` after a synced append and a new segment; default true. */
  readonly fsync?: boolean;
}

/** The segment files of one spool directory. */
export interface SegmentLog {
  readonly dir: string;
  /** Reads every segment, oldest first; call once, before the first append. */
  replay(visitor: ReplayVisitor): Promise<void>;
  /** Appends one payload as a frame; `sync` waits for `fdatasync`. Throws when the disk fails. */
  append(payload: Uint8Array, options: { readonly sync: boolean }): Promise<FramePlace>;
  /** The payload of the frame at `place`; throws {@linkcode FrameGone} when it cannot be had. */
  read(place: FramePlace): Promise<Uint8Array>;
  /** Every segment, oldest first. */
  segments(): readonly SegmentInfo[];
  /** The segment new frames go to, if one is open. */
  head(): number | undefined;
  /** Closes the head: the next append starts a new segment. */
  rotate(): void;
  /** `fdatasync` of the head. */
  sync(): Promise<void>;
  /** Deletes a segment (gone already is fine). */
  remove(no: number): Promise<void>;
  /** Segment files in the directory that this log did not read or write (another writer's). */
  unknownSegments(): Promise<string[]>;
  /** Closes the head. */
  close(): void;
}

/** A frame that is gone for good: its segment deleted or cut short, or its bytes damaged. */
export class FrameGone extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameGone";
  }
}

/** A segment file as the log keeps it. */
interface SegmentFile {
  readonly no: number;
  readonly path: string;
  /** Size of the file (an upper bound after a failed write). */
  bytes: number;
  /** End of the last frame written whole. */
  good: number;
  /** Frames in it. */
  frames: number;
}

/** What replay read of a segment. */
interface ReadSegment {
  readonly no: number;
  readonly path: string;
  readonly size: number;
  /** Records read whole. */
  readonly frames: number;
  /** Its torn tail, not told yet. */
  readonly tail?: DamageReport;
}

/** A segment's first frame: what the segment before it held when it was closed. */
interface PrevClaim {
  readonly no: number;
  readonly bytes: number;
  readonly frames: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PREV_PREFIX = encoder.encode('{"op":"prev"');

/** The payload of a segment's first frame, describing `previous`. */
function encodePrev(previous: SegmentFile): Uint8Array {
  const claim = { op: "prev", no: previous.no, bytes: previous.good, frames: previous.frames };
  return encoder.encode(JSON.stringify(claim) + "\n");
}

/** The claim of a first frame, or undefined when it is a record (or not a claim we can read). */
function decodePrev(payload: Uint8Array): PrevClaim | undefined {
  if (!PREV_PREFIX.every((b, i) => payload[i] === b)) return undefined;
  try {
    const value = JSON.parse(decoder.decode(payload));
    const ok = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
    return ok(value.no) && ok(value.bytes) && ok(value.frames)
      ? { no: value.no, bytes: value.bytes, frames: value.frames }
      : undefined;
  } catch {
    return undefined;
  }
}

/** A segment's name: its number, any count of digits (written with at least ten). */
const SEGMENT_NAME = /^(\d+)\.seg$/;
/** New names tried when one is taken before giving up. */
const NAME_ATTEMPTS = 100;

/** The file name of segment `no`. */
export function segmentName(no: number): string {
  return `${String(no).padStart(10, "0")}.seg`;
}

/** Everything one log keeps; the functions below work on it. */
interface LogState {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly readLimitBytes: number;
  readonly payloadPrefix: Uint8Array;
  readonly fsync: boolean;
  /** Every segment, oldest first. */
  readonly files: SegmentFile[];
  head?: { readonly file: Deno.FsFile; readonly segment: SegmentFile };
  nextNo: number;
}

/** Opens the segment files of `options.dir` (nothing is read until {@linkcode SegmentLog.replay}). */
export function openSegmentLog(options: SegmentLogOptions): SegmentLog {
  const { dir, segmentBytes, readLimitBytes } = options;
  if (!(segmentBytes >= 1)) throw new RangeError(`segmentBytes must be >= 1, got ${segmentBytes}`);
  if (!(readLimitBytes >= 1)) {
    throw new RangeError(`readLimitBytes must be >= 1, got ${readLimitBytes}`);
  }
  const state: LogState = {
    dir,
    segmentBytes,
    readLimitBytes,
    payloadPrefix: options.payloadPrefix,
    fsync: options.fsync ?? true,
    files: [],
    nextNo: 1,
  };
  return {
    dir,
    replay: (visitor) => replay(state, visitor),
    append: (payload, { sync }) => append(state, payload, sync),
    read: (place) => read(state, place),
    segments: () => state.files,
    head: () => state.head?.segment.no,
    rotate: () => closeHead(state),
    async sync() {
      if (state.head && state.fsync) await state.head.file.syncData();
    },
    remove: (no) => remove(state, no),
    async unknownSegments() {
      const known = new Set(state.files.map((f) => f.path));
      const unknown: string[] = [];
      for await (const entry of Deno.readDir(state.dir)) {
        const path = join(state.dir, entry.name);
        if (entry.isFile && SEGMENT_NAME.test(entry.name) && !known.has(path)) unknown.push(path);
      }
      return unknown.sort();
    },
    close: () => closeHead(state),
  };
}

function closeHead(state: LogState): void {
  try {
    state.head?.file.close();
  } catch {
    // Closed already.
  }
  state.head = undefined;
}

/** Starts a new segment: the magic, then a frame saying what the one before held when closed. */
async function openHead(state: LogState): Promise<NonNullable<LogState["head"]>> {
  const { dir, files } = state;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0;; attempt++) {
    const no = state.nextNo++;
    const path = join(dir, segmentName(no));
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true, append: true, mode: 0o600 });
    } catch (error) {
      // Taken since the replay (a stray file, a copy): the next number will do.
      if (error instanceof Deno.errors.AlreadyExists && attempt < NAME_ATTEMPTS) continue;
      throw error;
    }
    // What the segment before this one held when it was closed: a replay tells a truncated one.
    const previous = files.at(-1);
    const prev = previous === undefined ? undefined : encodeFrame(encodePrev(previous));
    try {
      writeAllSync(file, SEGMENT_MAGIC);
      if (prev) writeAllSync(file, prev);
      if (state.fsync) {
        await file.syncData();
        await syncDir(dir);
      }
    } catch (error) {
      file.close();
      // A full disk must not leave one empty file per retry behind.
      await Deno.remove(path).catch(() => {});
      throw error;
    }
    const start = SEGMENT_MAGIC.length + (prev?.length ?? 0);
    const segment: SegmentFile = { no, path, bytes: start, good: start, frames: 0 };
    files.push(segment);
    return { file, segment };
  }
}

/** Appends one payload as a frame to the head; a failure closes the head. */
async function append(state: LogState, payload: Uint8Array, sync: boolean): Promise<FramePlace> {
  const frame = encodeFrame(payload);
  if (!state.head) state.head = await openHead(state);
  const current = state.head;
  const offset = current.segment.bytes;
  try {
    // Only the fdatasync, which waits for the disk, leaves the agent's thread.
    writeAllSync(current.file, frame);
    current.segment.bytes += frame.length;
    current.segment.good = current.segment.bytes;
    current.segment.frames++;
    if (sync && state.fsync) await current.file.syncData();
  } catch (error) {
    current.segment.bytes += frame.length; // an upper bound of what reached the file
    closeHead(state); // nothing may follow a torn frame in this file
    throw error;
  }
  if (current.segment.bytes >= state.segmentBytes) closeHead(state);
  return { segment: current.segment.no, offset, length: frame.length };
}

/** The payload of the frame at `place`, its checksum verified. */
async function read(state: LogState, place: FramePlace): Promise<Uint8Array> {
  const segment = state.files.find((f) => f.no === place.segment);
  if (!segment) throw new FrameGone(`segment ${place.segment} is gone`);
  let bytes: Uint8Array;
  try {
    bytes = await readAt(segment.path, place.offset, place.length);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new FrameGone(`${segment.path} is gone`);
    throw error;
  }
  const payload = decodeFrameAt(bytes);
  if (payload === undefined) {
    throw new FrameGone(`${segment.path} at ${place.offset}: the frame is damaged`);
  }
  return payload;
}

async function remove(state: LogState, no: number): Promise<void> {
  const at = state.files.findIndex((f) => f.no === no);
  if (at < 0) return;
  if (state.head?.segment.no === no) closeHead(state);
  try {
    await Deno.remove(state.files[at].path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  state.files.splice(at, 1);
}

/** Reads every segment oldest first; then says which ones are shorter than when they were closed. */
async function replay(state: LogState, visitor: ReplayVisitor): Promise<void> {
  await Deno.mkdir(state.dir, { recursive: true, mode: 0o700 });
  const found = await listSegments(state, visitor);
  // One buffer serves every segment: memory stays at one segment, not the backlog.
  const buffer = { bytes: new Uint8Array(0) };
  const read = new Map<number, ReadSegment>();
  const claims: PrevClaim[] = [];
  for (const [i, { no, path }] of found.entries()) {
    const replayed = await replayFile(state, { no, path, newest: i === found.length - 1 }, {
      visitor,
      buffer,
    });
    if (replayed.read) read.set(no, replayed.read);
    if (replayed.prev) claims.push(replayed.prev);
  }
  reportTruncated(state.dir, read, claims, visitor);
}

/** The segment files of the directory, by number; anything else named as one is reported. */
async function listSegments(
  state: LogState,
  visitor: ReplayVisitor,
): Promise<{ no: number; path: string }[]> {
  const found: { no: number; path: string }[] = [];
  for await (const entry of Deno.readDir(state.dir)) {
    const match = SEGMENT_NAME.exec(entry.name);
    if (!match) continue;
    const path = join(state.dir, entry.name);
    const no = Number(match[1]);
    if (!Number.isSafeInteger(no)) {
      visitor.problem(path, "has a segment number too large to read: left alone");
      continue;
    }
    // New segments come after every name seen, whatever it is.
    state.nextNo = Math.max(state.nextNo, no + 1);
    if (!entry.isFile) {
      const what = entry.isDirectory ? "a directory" : entry.isSymlink ? "a link" : "not a file";
      visitor.problem(path, `is ${what}, not a segment: left alone`);
      continue;
    }
    found.push({ no, path });
  }
  return found.sort((a, b) => a.no - b.no || a.path.localeCompare(b.path));
}

/** Reads one segment; what its first frame says of the segment before it, if anything. */
async function replayFile(
  state: LogState,
  { no, path, newest }: { readonly no: number; readonly path: string; readonly newest: boolean },
  { visitor, buffer }: { readonly visitor: ReplayVisitor; readonly buffer: { bytes: Uint8Array } },
): Promise<{ read?: ReadSegment; prev?: PrevClaim }> {
  let read: { data: Uint8Array; fileSize: number };
  try {
    read = await readPrefix(path, state.readLimitBytes, buffer);
  } catch (error) {
    // One unreadable file must not stop the replay of the others, nor hold back the deletion of
    // newer segments: it is set aside for a person to look at.
    const aside = await setAside(path);
    visitor.problem(path, `cannot be read (${errorMessage(error)}); set aside as ${aside}`);
    return {};
  }
  const { data, fileSize } = read;
  if (fileSize === 0) {
    await Deno.remove(path).catch(() => {});
    // The newest may be one whose header a crash cut off: it never held a record. Any other one
    // was truncated: what its successor says it held is reported after the replay.
    if (!newest) visitor.problem(path, "is empty: the records it held are lost");
    return { read: { no, path, size: 0, frames: 0 } };
  }
  const { frames, skipped } = scanFrames(data, {
    start: SEGMENT_MAGIC.length,
    payloadPrefix: state.payloadPrefix,
  });
  if (!hasSegmentMagic(data)) {
    if (frames.length === 0) {
      const aside = await setAside(path);
      visitor.problem(
        path,
        `does not start with a spool segment header and holds no record: its ${fileSize} ` +
          `bytes are not read (set aside as ${aside})`,
      );
      return {};
    }
    visitor.problem(path, "has a damaged segment header; the records after it are read");
  }
  let prev: PrevClaim | undefined;
  let tail: DamageReport | undefined;
  // Frames and damage in the order of the file, so a reader knows what stood around the damage.
  const events = [
    ...frames.map((f) => ({ offset: f.offset, frame: f })),
    ...skipped.map((range) => ({ offset: range.offset, range })),
  ].sort((a, b) => a.offset - b.offset);
  for (const event of events) {
    if ("frame" in event) {
      const { offset, payload } = event.frame;
      const claim = offset === SEGMENT_MAGIC.length ? decodePrev(payload) : undefined;
      const place = { segment: no, offset, length: FRAME_HEADER_BYTES + payload.length };
      if (claim) prev = claim;
      else visitor.frame(place, payload);
      continue;
    }
    const range = event.range;
    const report: DamageReport = {
      segment: no,
      path,
      offset: range.offset,
      length: range.length + (range.tail ? fileSize - data.length : 0),
      tail: range.tail,
      guesses: guessDamagedPayloads(data, range),
    };
    // A torn tail is told after the replay, with what the next segment says was there.
    if (range.tail) tail = report;
    else visitor.damage(report);
  }
  if (fileSize > data.length && (skipped.length === 0 || !skipped.at(-1)!.tail)) {
    tail = {
      segment: no,
      path,
      offset: data.length,
      length: fileSize - data.length,
      tail: true,
      guesses: [],
    };
  }
  const good = frames.length === 0
    ? SEGMENT_MAGIC.length
    : frames.at(-1)!.offset + FRAME_HEADER_BYTES + frames.at(-1)!.payload.length;
  // Records only: the first frame describing the segment before is not one.
  const records = frames.length - (prev ? 1 : 0);
  state.files.push({ no, path, bytes: fileSize, good, frames: records });
  return { read: { no, path, size: fileSize, frames: records, tail }, prev };
}

/** What the segments' first frames say of their predecessors, against what was read of them. */
function reportTruncated(
  dir: string,
  read: ReadonlyMap<number, ReadSegment>,
  claims: readonly PrevClaim[],
  visitor: ReplayVisitor,
): void {
  const oldest = Math.min(...read.keys());
  const claimed = new Map(claims.map((c) => [c.no, c]));
  for (const claim of claims) {
    // Segments are deleted oldest first: one missing after an older one that is still there was
    // removed by something else.
    if (read.has(claim.no) || claim.no < oldest || claim.frames === 0) continue;
    visitor.damage({
      segment: claim.no,
      path: join(dir, segmentName(claim.no)),
      offset: 0,
      length: claim.bytes,
      tail: true,
      guesses: [],
      missingFrames: claim.frames,
      gone: true,
    });
  }
  for (const segment of read.values()) {
    const claim = claimed.get(segment.no);
    if (claim === undefined || segment.size >= claim.bytes) {
      if (segment.tail) visitor.damage(segment.tail);
      continue;
    }
    // Shorter than when it was closed: one report, with what a torn tail still shows.
    const start = segment.tail?.offset ?? segment.size;
    visitor.damage({
      segment: segment.no,
      path: segment.path,
      offset: start,
      length: claim.bytes - start,
      tail: true,
      guesses: segment.tail?.guesses ?? [],
      missingFrames: Math.max(0, claim.frames - segment.frames),
    });
  }
}

/** Renames a file out of the way (`<path>.unreadable`); where it went, or why it stayed. */
async function setAside(path: string): Promise<string> {
  const aside = `${path}.unreadable`;
  try {
    await Deno.rename(path, aside);
    return aside;
  } catch (error) {
    return `nowhere: ${errorMessage(error)}`;
  }
}

/**
 * Writes all of `bytes` on this thread: a segment's header or a frame is a few kB into the page
 * cache, where an asynchronous write costs a pool thread and a wake-up.
 */
function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

async function syncDir(dir: string): Promise<void> {
  // Windows opens no directory as a file (and NTFS makes a new name durable with the file).
  if (Deno.build.os === "windows") return;
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/** Reads at most `limit` bytes of a file, and its full size. */
async function readPrefix(
  path: string,
  limit: number,
  buffer: { bytes: Uint8Array },
): Promise<{ data: Uint8Array; fileSize: number }> {
  const file = await Deno.open(path, { read: true });
  try {
    const fileSize = (await file.stat()).size;
    const size = Math.min(fileSize, limit);
    if (buffer.bytes.length < size) buffer.bytes = new Uint8Array(size);
    const data = buffer.bytes.subarray(0, size);
    let got = 0;
    while (got < data.length) {
      const n = await file.read(data.subarray(got));
      if (n === null) break;
      got += n;
    }
    return { data: data.subarray(0, got), fileSize };
  } finally {
    file.close();
  }
}

/** Reads `length` bytes at `offset`; a file that ends sooner is a {@linkcode FrameGone}. */
async function readAt(path: string, offset: number, length: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    const data = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await file.read(data.subarray(got));
      if (n === null) throw new FrameGone(`${path} ends before the record does`);
      got += n;
    }
    return data;
  } finally {
    file.close();
  }
}
