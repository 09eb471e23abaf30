/**
 * The spool: the outbox's durable store. A record (one round of points, one check report, one
 * metadata value...) is on disk before it counts as queued, and leaves only when acknowledged, so
 * `kill -9`, an OOM kill, a reboot or an upgrade loses nothing.
 *
 * On disk, `<dir>/<segment number>.seg` files hold frames (./frame.ts). A frame's payload is a
 * one-line JSON header and, for a `put`, the record's body: `{"op":"put","id":7,"kind":"metrics",
 * "at":...,"n":40}\n<body>` or `{"op":"ack","ids":[5,6]}`. New frames go to the newest segment (the
 * head); a put is followed by `fdatasync`, an ack is not (after a power loss an ack may be lost,
 * and its record is posted twice rather than never). A segment is deleted once every record in it
 * and in every older segment is acknowledged, so an ack can never outlive the segment of its put.
 * Startup replays every segment, keeps each one's valid prefix and counts what is unreadable.
 *
 * Only an index stays in memory (id, kind, size, place); bodies are read back when posted, so
 * memory does not grow with a backlog. When the directory cannot be written (read-only, full,
 * missing permission) records are kept in memory instead, one WARNING says so, and the disk is
 * tried again a minute later; collection never stops. Both bounds - bytes and age - drop the
 * oldest records first, with a count.
 *
 * @module
 */
import { join } from "node:path";
import { type Clock, realClock } from "../async/clock.ts";
import { errorMessage, logger } from "../log.ts";
import {
  decodeFrames,
  encodeFrame,
  FRAME_HEADER_BYTES,
  hasSegmentMagic,
  SEGMENT_MAGIC,
} from "./frame.ts";

/**
 * What a record carries; `metadata` and `graphdefs` are states: the newest per key wins. `otlp`
 * is one round as an OTLP export request (protobuf), for the `[otlp]` endpoint.
 */
export type RecordKind = "metrics" | "checks" | "metadata" | "graphdefs" | "otlp";

/** A record the spool holds, as the senders see it (the body is read with {@linkcode Spool.read}). */
export interface SpoolEntry {
  /** Increases with every put, across restarts. */
  readonly id: number;
  readonly kind: RecordKind;
  /** For states: records with the same key supersede each other. */
  readonly key?: string;
  /** Epoch ms the data was collected; the age bound counts from here. */
  readonly at: number;
  /** Points or reports in the body. */
  readonly count: number;
  /** Size of the body in bytes. */
  readonly bytes: number;
}

/** What a new record is made of. */
export interface PutInput {
  readonly kind: RecordKind;
  readonly body: Uint8Array;
  readonly count: number;
  readonly key?: string;
  /** Collection time; now by default (a re-put part of an older record keeps its time). */
  readonly at?: number;
}

/** Why the spool gave records up without a sender acknowledging them. */
export type DropReason = "full" | "expired" | "unreadable";

/** Counts of records and of the points or reports in them. */
export interface Tally {
  readonly records: number;
  readonly count: number;
}

/** What the spool holds and has dropped, for the status file and logs. */
export interface SpoolStats {
  /** Where records go: the directory, or `undefined` while memory is used. */
  readonly dir?: string;
  /** New records go to disk. */
  readonly durable: boolean;
  readonly pending: Readonly<Record<RecordKind, Tally>>;
  readonly bytesOnDisk: number;
  readonly bytesInMemory: number;
  readonly dropped: Readonly<Record<DropReason, Tally>>;
  /** The last disk failure, if the disk is not in use. */
  readonly diskError?: string;
}

/** Options of {@linkcode openSpool}. */
export interface SpoolOptions {
  /** Directory of the segments; none keeps everything in memory (tests, stdout mode). */
  readonly dir?: string;
  /** Bytes held at most, on disk and in memory together. */
  readonly maxBytes: number;
  /** Age after which a record is dropped, in ms. */
  readonly maxAgeMs: number;
  /** A new segment starts past this size; default min(1 MiB, maxBytes / 8). */
  readonly segmentBytes?: number;
  /** After a disk failure, memory is used this long before the disk is tried again; 60 s. */
  readonly diskRetryMs?: number;
  /** `fdatasync` after each put; default true. */
  readonly fsync?: boolean;
  readonly clock?: Clock;
}

/** What startup found on disk. */
export interface Recovery {
  readonly records: Readonly<Record<RecordKind, Tally>>;
  /** Bytes that could not be read (torn or corrupt tails), and the files they were in. */
  readonly lostBytes: number;
  readonly lostFiles: readonly string[];
}

/** The durable store of the outbox. */
export interface Spool {
  /** Stores a record (on disk when possible) and resolves once it is safe there. */
  put(input: PutInput): Promise<SpoolEntry>;
  /**
   * The body of a live record; `undefined` once it is acknowledged, dropped or unreadable for good
   * - or when it cannot be read just now, in which case {@linkcode Spool.has} still holds it.
   */
  read(entry: SpoolEntry): Promise<Uint8Array | undefined>;
  /** Forgets delivered (or given-up) records for good. */
  ack(ids: readonly number[]): Promise<void>;
  /** Whether a record is still held. */
  has(id: number): boolean;
  /** Whether a record lives on disk (survives a restart). */
  isDurable(id: number): boolean;
  /** Live records of a kind (all kinds by default), oldest first. */
  entries(kind?: RecordKind): SpoolEntry[];
  stats(): SpoolStats;
  /** Waits for pending writes and closes the head segment. */
  close(): Promise<void>;
}

interface Stored extends SpoolEntry {
  /** Disk: the segment number and the body's offset in it. */
  readonly segment?: number;
  readonly offset: number;
  /** Memory: the body itself. */
  readonly body?: Uint8Array;
}

interface Segment {
  readonly no: number;
  readonly path: string;
  size: number;
  /** Records stored in it that are still live. */
  live: number;
}

const KINDS: readonly RecordKind[] = ["metrics", "checks", "metadata", "graphdefs", "otlp"];
const SEGMENT_NAME = /^(\d{10})\.seg$/;
const DEFAULT_DISK_RETRY_MS = 60_000;
/** Bytes of recent bodies kept in memory beside the disk copy: a few rounds of a busy host. */
const HOT_BYTES = 256 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const log = logger("spool");

/** Opens the spool, replaying what an earlier run left in `dir`. */
export async function openSpool(
  options: SpoolOptions,
): Promise<{ spool: Spool; recovery: Recovery }> {
  const { maxBytes, maxAgeMs } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`spool maxBytes must be a positive integer, got ${maxBytes}`);
  }
  if (!(maxAgeMs > 0)) throw new RangeError(`spool maxAgeMs must be positive, got ${maxAgeMs}`);
  const clock = options.clock ?? realClock;
  const segmentBytes = options.segmentBytes ?? Math.min(1 << 20, Math.ceil(maxBytes / 8));
  const diskRetryMs = options.diskRetryMs ?? DEFAULT_DISK_RETRY_MS;
  const fsync = options.fsync ?? true;
  const index = new Map<number, Stored>();
  const segments: Segment[] = [];
  const dropped = Object.fromEntries(
    (["full", "expired", "unreadable"] as const).map((r) => [r, { records: 0, count: 0 }]),
  ) as Record<DropReason, { records: number; count: number }>;
  let head: { segment: Segment; file: Deno.FsFile } | undefined;
  let nextId = 1;
  let nextSegment = 1;
  let bytesInMemory = 0;
  /**
   * Bodies of the newest records put on disk, so that the post a moment later need not read them
   * back: bounded, so a backlog still lives on disk and not here.
   */
  const hot = new Map<number, Uint8Array>();
  let hotBytes = 0;
  const dropHot = (id: number) => {
    const body = hot.get(id);
    if (body === undefined) return;
    hot.delete(id);
    hotBytes -= body.length;
  };
  let diskError: string | undefined;
  let diskFailedAt = 0;
  /** Serializes every write, so frames never interleave. */
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };

  /** The read buffer of a replay, grown to the largest segment. */
  const buffer = { bytes: new Uint8Array(0) };

  async function replay(dir: string): Promise<Recovery> {
    const lostFiles: string[] = [];
    let lostBytes = 0;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const names: [number, string][] = [];
      for await (const entry of Deno.readDir(dir)) {
        const m = entry.isFile ? SEGMENT_NAME.exec(entry.name) : null;
        if (m) names.push([Number(m[1]), entry.name]);
      }
      names.sort((a, b) => a[0] - b[0]);
      // New segments come after every file there, read or not.
      nextSegment = (names.at(-1)?.[0] ?? 0) + 1;
      for (const [no, name] of names) {
        const path = join(dir, name);
        let lost: number;
        try {
          lost = await replaySegment(no, path);
        } catch (error) {
          // One unreadable file must not stop the replay of the others, nor hold back the
          // deletion of newer segments: it is set aside for a person to look at.
          const aside = `${path}.unreadable`;
          await Deno.rename(path, aside).catch(() => {});
          log.warn(`cannot read ${path}: ${errorMessage(error)}; set aside as ${aside}`);
          continue;
        }
        if (lost > 0) {
          lostBytes += lost;
          lostFiles.push(path);
        }
      }
    } catch (error) {
      failDisk(error);
    }
    if (lostBytes > 0) {
      log.warn(
        `${lostBytes} bytes of ${lostFiles.join(", ")} could not be read (a torn or corrupt ` +
          `tail); the ${index.size} records before it are kept`,
      );
    }
    const records = tallyByKind([...index.values()]);
    await enforceBounds();
    return { records, lostBytes, lostFiles };
  }

  /** Indexes one segment's valid prefix; returns the bytes after it. */
  async function replaySegment(no: number, path: string): Promise<number> {
    const bytes = await readPrefix(path, maxBytes + segmentBytes + SEGMENT_MAGIC.length, buffer);
    const segment: Segment = { no, path, size: bytes.fileSize, live: 0 };
    segments.push(segment);
    if (!hasSegmentMagic(bytes.data)) return bytes.fileSize;
    const { frames } = decodeFrames(bytes.data, SEGMENT_MAGIC.length);
    let valid = SEGMENT_MAGIC.length;
    for (const { offset, payload } of frames) {
      const frame = parsePayload(payload);
      if (!frame) break; // a valid checksum over a header we cannot read: treat as corrupt
      if (frame.op === "put") {
        const bodyOffset = offset + FRAME_HEADER_BYTES + frame.headerBytes;
        forget(frame.id); // an id written twice (it cannot be, but never count a record twice)
        index.set(frame.id, {
          id: frame.id,
          kind: frame.kind,
          ...(frame.key === undefined ? {} : { key: frame.key }),
          at: frame.at,
          count: frame.n,
          bytes: payload.length - frame.headerBytes,
          segment: no,
          offset: bodyOffset,
        });
        segment.live++;
        nextId = Math.max(nextId, frame.id + 1);
      } else {
        for (const id of frame.ids) forget(id);
      }
      valid = offset + FRAME_HEADER_BYTES + payload.length;
    }
    return bytes.fileSize - valid;
  }

  /** Removes a record from the index; true when it was on disk. */
  function forget(id: number): Stored | undefined {
    const stored = index.get(id);
    if (!stored) return undefined;
    index.delete(id);
    dropHot(id);
    if (stored.body) bytesInMemory -= stored.bytes;
    else {
      const segment = segments.find((s) => s.no === stored.segment);
      if (segment) segment.live--;
    }
    return stored;
  }

  function failDisk(error: unknown): void {
    const message = errorMessage(error);
    if (diskError === undefined) {
      log.warn(
        `cannot write the spool in ${options.dir}: ${message}; keeping data in memory and ` +
          `trying the disk again in a minute`,
      );
    }
    diskError = message;
    diskFailedAt = clock.now();
  }

  const diskUsable = () =>
    options.dir !== undefined &&
    (diskError === undefined || clock.now() - diskFailedAt >= diskRetryMs);

  async function openHead(dir: string): Promise<{ segment: Segment; file: Deno.FsFile }> {
    const no = nextSegment++;
    const path = join(dir, `${String(no).padStart(10, "0")}.seg`);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = await Deno.open(path, { write: true, createNew: true, append: true, mode: 0o600 });
    try {
      await writeAll(file, SEGMENT_MAGIC);
      if (fsync) {
        await file.syncData();
        await syncDir(dir);
      }
    } catch (error) {
      file.close();
      // A full disk must not leave one empty file per retry behind.
      await Deno.remove(path).catch(() => {});
      throw error;
    }
    const segment: Segment = { no, path, size: SEGMENT_MAGIC.length, live: 0 };
    segments.push(segment);
    return { segment, file };
  }

  function closeHead(): void {
    if (!head) return;
    try {
      head.file.close();
    } catch {
      // Already closed.
    }
    head = undefined;
  }

  /** Appends one frame to the head; a failure closes the head so nothing follows a torn frame. */
  async function append(frame: Uint8Array, sync: boolean): Promise<Segment> {
    if (!head) head = await openHead(options.dir!);
    const current = head;
    try {
      await writeAll(current.file, frame);
      current.segment.size += frame.length;
      if (sync && fsync) await current.file.syncData();
    } catch (error) {
      current.segment.size += frame.length; // an upper bound of what reached the file
      closeHead();
      throw error;
    }
    if (current.segment.size >= segmentBytes) closeHead();
    return current.segment;
  }

  /** Appends a put frame for `entry`; where its body went, or undefined when the disk failed. */
  async function putOnDisk(entry: SpoolEntry, body: Uint8Array): Promise<Stored | undefined> {
    if (!diskUsable()) return undefined;
    const { id, kind, key, at, count } = entry;
    const header = encoder.encode(
      JSON.stringify({ op: "put", id, kind, key, at, n: count }) + "\n",
    );
    const payload = new Uint8Array(header.length + body.length);
    payload.set(header);
    payload.set(body, header.length);
    try {
      const before = head?.segment.size;
      const segment = await append(encodeFrame(payload), true);
      // The head may have been opened by this append: the frame then starts after the magic.
      const start = before ?? SEGMENT_MAGIC.length;
      segment.live++;
      if (diskError !== undefined) {
        log.info(`the spool is written to ${options.dir} again`);
        diskError = undefined;
      }
      return { ...entry, segment: segment.no, offset: start + FRAME_HEADER_BYTES + header.length };
    } catch (error) {
      failDisk(error);
      return undefined;
    }
  }

  async function enforceBounds(): Promise<void> {
    const now = clock.now();
    const gone: Stored[] = [];
    gone.push(...drop([...index.values()].filter((s) => now - s.at > maxAgeMs), "expired"));
    let over = totalBytes() - maxBytes;
    if (over > 0) {
      const victims: Stored[] = [];
      const live = [...index.values()].sort((a, b) => a.id - b.id);
      // Dropping the oldest frees their segments (oldest first); the newest record is always kept.
      for (const stored of live.slice(0, -1)) {
        if (over <= 0) break;
        victims.push(stored);
        over -= stored.bytes + FRAME_HEADER_BYTES;
      }
      gone.push(...drop(victims, "full"));
      if (head && totalBytes() > maxBytes) closeHead(); // let a head full of acks be deleted
    }
    await recordAcks(gone);
  }

  /** Forgets records the spool gives up on, counting and logging them. */
  function drop(victims: readonly Stored[], reason: DropReason): Stored[] {
    if (victims.length === 0) return [];
    for (const v of victims) forget(v.id);
    dropped[reason].records += victims.length;
    dropped[reason].count += victims.reduce((n, v) => n + v.count, 0);
    const what = describeRecords(victims);
    const why = reason === "full"
      ? `the spool is full (${maxBytes} bytes)`
      : reason === "expired"
      ? `they are older than ${Math.round(maxAgeMs / 60_000)} minutes`
      : "they could not be read back";
    log.warn(`dropped ${what}: ${why}`);
    return [...victims];
  }

  /**
   * Deletes what is fully acknowledged, then writes one ack frame for the forgotten records whose
   * put is still in a segment (without it they would come back after a restart).
   */
  async function recordAcks(forgotten: readonly Stored[]): Promise<void> {
    await cleanup();
    const ids = forgotten
      .filter((s) => !s.body && segments.some((seg) => seg.no === s.segment))
      .map((s) => s.id);
    if (ids.length > 0 && diskUsable()) {
      try {
        const header = JSON.stringify({ op: "ack", ids }) + "\n";
        await append(encodeFrame(encoder.encode(header)), false);
      } catch (error) {
        failDisk(error); // the records may come back after a restart: posted twice, never lost
      }
    }
    await cleanup();
  }

  function totalBytes(): number {
    return segments.reduce((n, s) => n + s.size, 0) + bytesInMemory;
  }

  /** Deletes fully acknowledged segments from the oldest end (never the head). */
  async function cleanup(): Promise<void> {
    while (segments.length > 0 && segments[0].live <= 0 && segments[0] !== head?.segment) {
      const segment = segments.shift()!;
      try {
        await Deno.remove(segment.path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) {
          log.warn(`cannot remove ${segment.path}: ${errorMessage(error)}`);
          segments.unshift(segment);
          return;
        }
      }
    }
  }

  const spool: Spool = {
    put(input) {
      return serial(async () => {
        const entry: SpoolEntry = {
          id: nextId++,
          kind: input.kind,
          ...(input.key === undefined ? {} : { key: input.key }),
          at: input.at ?? clock.now(),
          count: input.count,
          bytes: input.body.length,
        };
        let stored = await putOnDisk(entry, input.body);
        if (!stored) {
          stored = { ...entry, offset: 0, body: input.body };
          bytesInMemory += input.body.length;
        } else if (input.body.length <= HOT_BYTES) {
          hot.set(entry.id, input.body);
          hotBytes += input.body.length;
          // Oldest first: Map order is insertion order.
          for (const id of hot.keys()) {
            if (hotBytes <= HOT_BYTES) break;
            dropHot(id);
          }
        }
        index.set(entry.id, stored);
        await enforceBounds();
        return entryOf(stored);
      });
    },
    async read(entry) {
      const stored = index.get(entry.id);
      if (!stored) return undefined;
      if (stored.body) return stored.body;
      const cached = hot.get(stored.id);
      if (cached) return cached;
      const segment = segments.find((s) => s.no === stored.segment);
      try {
        if (!segment) throw new Deno.errors.NotFound("its segment is gone");
        return await readAt(segment.path, stored.offset, stored.bytes);
      } catch (error) {
        const gone = error instanceof Deno.errors.NotFound || error instanceof ShortRead;
        if (!gone) {
          // EMFILE, EIO ...: the record may read fine next time; it stays.
          log.warn(`cannot read record ${stored.id} now (will try again): ${errorMessage(error)}`);
          return undefined;
        }
        if (!index.has(stored.id)) return undefined; // acknowledged or dropped meanwhile
        log.warn(`cannot read record ${stored.id} back from the spool: ${errorMessage(error)}`);
        await serial(() => recordAcks(drop([stored], "unreadable")));
        return undefined;
      }
    },
    ack(ids) {
      return serial(() => recordAcks(ids.flatMap((id) => forget(id) ?? [])));
    },
    has: (id) => index.has(id),
    isDurable: (id) => {
      const stored = index.get(id);
      return stored !== undefined && stored.body === undefined;
    },
    entries(kind) {
      // The index is in insertion order, which is id order: ids only grow.
      const out: SpoolEntry[] = [];
      for (const stored of index.values()) {
        if (kind === undefined || stored.kind === kind) out.push(entryOf(stored));
      }
      return out;
    },
    stats: () => ({
      ...(options.dir !== undefined && diskError === undefined ? { dir: options.dir } : {}),
      durable: options.dir !== undefined && diskError === undefined,
      pending: tallyByKind([...index.values()]),
      bytesOnDisk: segments.reduce((n, s) => n + s.size, 0),
      bytesInMemory,
      dropped: structuredClone(dropped),
      ...(diskError === undefined ? {} : { diskError }),
    }),
    close() {
      return serial(() => {
        closeHead();
        return Promise.resolve();
      });
    },
  };

  const recovery = options.dir === undefined ? emptyRecovery() : await replay(options.dir);
  buffer.bytes = new Uint8Array(0);
  return { spool, recovery };
}

function entryOf(stored: Stored): SpoolEntry {
  return {
    id: stored.id,
    kind: stored.kind,
    ...(stored.key === undefined ? {} : { key: stored.key }),
    at: stored.at,
    count: stored.count,
    bytes: stored.bytes,
  };
}

function tallyByKind(records: readonly SpoolEntry[]): Record<RecordKind, Tally> {
  const out = Object.fromEntries(KINDS.map((k) => [k, { records: 0, count: 0 }])) as Record<
    RecordKind,
    { records: number; count: number }
  >;
  for (const r of records) {
    out[r.kind].records++;
    out[r.kind].count += r.count;
  }
  return out;
}

function emptyRecovery(): Recovery {
  return { records: tallyByKind([]), lostBytes: 0, lostFiles: [] };
}

/** "3 rounds (120 points) and 1 check report": what a set of records holds, for a log line. */
export function describeRecords(records: readonly SpoolEntry[]): string {
  const t = tallyByKind(records);
  const parts: string[] = [];
  if (t.metrics.records > 0) {
    parts.push(`${plural(t.metrics.records, "round")} (${plural(t.metrics.count, "point")})`);
  }
  if (t.checks.records > 0) parts.push(plural(t.checks.count, "check report"));
  if (t.metadata.records > 0) parts.push(plural(t.metadata.records, "metadata value"));
  if (t.graphdefs.records > 0) parts.push(plural(t.graphdefs.records, "graph definition post"));
  if (t.otlp.records > 0) {
    parts.push(`${plural(t.otlp.records, "OTLP export")} (${plural(t.otlp.count, "point")})`);
  }
  return parts.join(" and ");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

type Frame =
  | {
    readonly op: "put";
    readonly id: number;
    readonly kind: RecordKind;
    readonly key?: string;
    readonly at: number;
    readonly n: number;
    readonly headerBytes: number;
  }
  | { readonly op: "ack"; readonly ids: readonly number[] };

/** Reads a frame's header line; undefined when it is not one this format writes. */
function parsePayload(payload: Uint8Array): Frame | undefined {
  const newline = payload.indexOf(10);
  if (newline < 0) return undefined;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(decoder.decode(payload.subarray(0, newline)));
  } catch {
    return undefined;
  }
  if (header === null || typeof header !== "object") return undefined;
  const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
  if (header.op === "ack") {
    const ids = header.ids;
    return Array.isArray(ids) && ids.every(isId) ? { op: "ack", ids } : undefined;
  }
  if (
    header.op !== "put" || !isId(header.id) || !KINDS.includes(header.kind as RecordKind) ||
    typeof header.at !== "number" || !Number.isSafeInteger(header.n) ||
    (header.key !== undefined && typeof header.key !== "string")
  ) {
    return undefined;
  }
  return {
    op: "put",
    id: header.id,
    kind: header.kind as RecordKind,
    ...(header.key === undefined ? {} : { key: header.key as string }),
    at: header.at,
    n: header.n as number,
    headerBytes: newline + 1,
  };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

async function syncDir(dir: string): Promise<void> {
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
    // One buffer serves every segment of a replay: memory stays at one segment, not the backlog.
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

/** A segment shorter than the index says: the record is gone for good. */
class ShortRead extends Error {}

async function readAt(path: string, offset: number, length: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    const data = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await file.read(data.subarray(got));
      if (n === null) throw new ShortRead(`${path} ends before the record does`);
      got += n;
    }
    return data;
  } finally {
    file.close();
  }
}
