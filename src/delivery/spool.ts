/**
 * The spool: the outbox's durable store. A record (one round of points, one check report, one
 * metadata value...) is on disk before it counts as kept, and leaves only when acknowledged, so
 * `kill -9`, an OOM kill, a reboot or an upgrade loses nothing.
 *
 * It sits over a segment log (./segment_log.ts: the files, replay and resynchronisation) and an
 * index (./spool_index.ts: what is live where). A put appends one frame and waits for `fdatasync`;
 * an ack appends one frame without waiting (after a power loss an ack may be lost, and its record
 * is posted twice rather than never). A segment is deleted once every record in it and in every
 * older segment is acknowledged, so an ack can never outlive the segment of its put; when
 * acknowledged records pile up behind an unacknowledged one (one kind of data failing while the
 * others flow), the oldest segment's live records are copied forward and the segment deleted.
 *
 * Bounds: `maxBytes` is what the files may take; records are dropped one at a time, oldest first,
 * as a new one needs room (two segments of it are kept for acknowledged records not yet deleted).
 * `maxAgeMs` drops what is older. Every drop is a WARNING with a count, and in the status.
 *
 * When the directory cannot be written (read-only, full, missing permission) records are kept in
 * memory instead, one WARNING says so, and the disk is tried again a minute later; once it works,
 * what memory holds is written to it. Collection never stops.
 *
 * @module
 */
import { type Clock, realClock } from "../async/clock.ts";
import { errorMessage, logger } from "../log.ts";
import { type BodyCache, createBodyCache } from "./body_cache.ts";
import {
  describeRecords,
  encodeAck,
  encodePut,
  parseHeader,
  PAYLOAD_PREFIX,
  plural,
  type PutHeader,
  type RecordKind,
  type Tally,
  tallyByKind,
} from "./record.ts";
import {
  type DamageReport,
  FrameGone,
  type FramePlace,
  openSegmentLog,
  type SegmentLog,
} from "./segment_log.ts";
import {
  createSpoolIndex,
  type Held,
  sizeOf,
  type SpoolEntry,
  type SpoolIndex,
} from "./spool_index.ts";
import { lockSpool, type SpoolLock, SpoolLockedError, type Unlockable } from "./spool_lock.ts";

export type { SpoolEntry } from "./spool_index.ts";

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
export type DropReason = "full" | "expired" | "unreadable" | "damaged";

const DROP_REASONS: readonly DropReason[] = ["full", "expired", "unreadable", "damaged"];

/** What the spool holds and has dropped, for the status file and logs. */
export interface SpoolStats {
  /** Where records go: the directory, or `undefined` while memory is used. */
  readonly dir?: string;
  /** New records go to disk. */
  readonly durable: boolean;
  readonly pending: Readonly<Record<RecordKind, Tally>>;
  /** Bytes of the records held (frames on disk, bodies in memory): what the size bound counts. */
  readonly bytesHeld: number;
  /** Size of the segment files. */
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
  /** Bytes the spool may take (its files, or memory). */
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
  /**
   * The lock of `dir` as the daemon took it (./spool_lock.ts): held, or not takeable then (a
   * read-only root). In the second case the spool takes it before it writes there, so that an
   * agent that could not lock at start never becomes a second writer. None: no locking (tests).
   */
  readonly owner?: SpoolLock | Unlockable;
}

/** What startup found on disk. */
export interface Recovery {
  readonly records: Readonly<Record<RecordKind, Tally>>;
  /** Bytes that could not be read (damage, torn tails, files set aside), and their files. */
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

const DEFAULT_DISK_RETRY_MS = 60_000;
/** The least dead bytes worth a compaction. */
const MIN_DEAD_BUDGET = 64 * 1024;
/** Bytes of recent bodies kept in memory beside the disk copy: a few rounds of a busy host. */
const HOT_BYTES = 256 * 1024;
const log = logger("spool");

/** Everything one spool keeps; the functions below work on it. */
interface State {
  readonly dir?: string;
  readonly log?: SegmentLog;
  readonly index: SpoolIndex;
  readonly cache: BodyCache;
  readonly clock: Clock;
  readonly maxBytes: number;
  /** Bytes the records may take: the bound, less the room kept for dead bytes. */
  readonly capacity: number;
  /** Dead bytes (acknowledged records, acks) the files may hold before compaction. */
  readonly deadBudget: number;
  readonly maxAgeMs: number;
  readonly diskRetryMs: number;
  readonly dropped: Record<DropReason, { records: number; count: number }>;
  /** The last disk failure and when it happened, while memory is used. */
  disk?: { readonly error: string; readonly at: number };
  nextId: number;
  /** Locking: the lock once held; undefined when the spool does not lock (no `owner`). */
  owner?: {
    lock?: SpoolLock;
    readonly tookItself: boolean;
    /** Another agent holds the lock: said once. */
    conflict?: boolean;
  };
}

/** Opens the spool, replaying what an earlier run left in `dir`. */
export async function openSpool(
  options: SpoolOptions,
): Promise<{ spool: Spool; recovery: Recovery }> {
  const { maxBytes, maxAgeMs } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`spool maxBytes must be a positive integer, got ${maxBytes}`);
  }
  if (!(maxAgeMs > 0)) throw new RangeError(`spool maxAgeMs must be positive, got ${maxAgeMs}`);
  const segmentBytes = options.segmentBytes ?? Math.min(1 << 20, Math.ceil(maxBytes / 8));
  // Compaction rewrites live records to free dead ones: never for less than this at a time.
  const deadBudget = Math.max(2 * segmentBytes, MIN_DEAD_BUDGET);
  const state: State = {
    dir: options.dir,
    log: options.dir === undefined ? undefined : openSegmentLog({
      dir: options.dir,
      segmentBytes,
      readLimitBytes: maxBytes + segmentBytes,
      payloadPrefix: PAYLOAD_PREFIX,
      fsync: options.fsync,
    }),
    index: createSpoolIndex(),
    cache: createBodyCache(HOT_BYTES),
    clock: options.clock ?? realClock,
    maxBytes,
    capacity: options.dir === undefined
      ? maxBytes
      : Math.max(maxBytes - deadBudget, Math.ceil(maxBytes / 2)),
    deadBudget,
    maxAgeMs,
    diskRetryMs: options.diskRetryMs ?? DEFAULT_DISK_RETRY_MS,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, { records: 0, count: 0 }])) as Record<
      DropReason,
      { records: number; count: number }
    >,
    nextId: 1,
    ...(options.owner === undefined ? {} : {
      owner: "release" in options.owner
        ? { lock: options.owner, tookItself: false }
        : { tookItself: true },
    }),
  };
  const recovery = await replay(state);
  const serial = createSerial();
  const spool: Spool = {
    put: (input) => serial(() => put(state, input)),
    async read(entry) {
      const held = state.index.get(entry.id);
      if (!held) return undefined;
      const body = await readBody(state, held);
      if (body !== "gone") return body;
      await serial(async () => {
        // Acknowledged or dropped meanwhile: nothing to say.
        if (state.index.get(held.id) === held) {
          await recordAcks(state, drop(state, [held], "unreadable"));
        }
      });
      return undefined;
    },
    ack: (ids) => serial(() => recordAcks(state, ids.flatMap((id) => forget(state, id) ?? []))),
    has: (id) => state.index.get(id) !== undefined,
    isDurable: (id) => state.index.get(id)?.place !== undefined,
    entries: (kind) => state.index.list(kind).map(entryOf),
    stats: () => stats(state),
    close: () =>
      serial(() => {
        state.log?.close();
        if (state.owner?.tookItself) state.owner.lock?.release();
        return Promise.resolve();
      }),
  };
  return { spool, recovery };
}

/** Runs operations one after another, so frames never interleave. */
function createSerial(): <T>(fn: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };
}

/** Damage found by the replay, with the ids of the records read just before and after it. */
interface Damage {
  readonly report: DamageReport;
  readonly before?: number;
  after?: number;
}

/** Reads what the directory holds into the index, reporting every loss. */
async function replay(state: State): Promise<Recovery> {
  const lostFiles = new Set<string>();
  const damage: Damage[] = [];
  /** Ids acknowledged by the frames read: a damaged put among them was delivered already. */
  const acked = new Set<number>();
  /** The last put read in the segment being read, and the damage after it still waiting for the next. */
  let last: { segment: number; id?: number; waiting: Damage[] } = { segment: -1, waiting: [] };
  if (state.log) {
    try {
      await state.log.replay({
        frame: (place, payload) => {
          const id = indexFrame(state, place, payload, acked);
          if (place.segment !== last.segment) last = { segment: place.segment, waiting: [] };
          if (id === undefined) return;
          for (const d of last.waiting) d.after = id;
          last = { segment: place.segment, id, waiting: [] };
        },
        damage: (report) => {
          lostFiles.add(report.path);
          if (report.segment !== last.segment) last = { segment: report.segment, waiting: [] };
          const d: Damage = { report, ...(last.id === undefined ? {} : { before: last.id }) };
          damage.push(d);
          if (!report.tail) last.waiting.push(d);
        },
        problem: (path, message) => {
          lostFiles.add(path);
          log.warn(`${path} ${message}`);
        },
      });
    } catch (error) {
      failDisk(state, error);
    }
  }
  for (const d of damage) reportDamage(state, d, acked);
  const records = tallyByKind(state.index.list());
  await recordAcks(state, enforceBounds(state));
  return {
    records,
    lostBytes: damage.reduce((n, d) => n + d.report.length, 0),
    lostFiles: [...lostFiles],
  };
}

/**
 * Indexes one frame read back at start: a put adds its record, an ack removes records. The put's
 * id, if it was one.
 */
function indexFrame(
  state: State,
  place: FramePlace,
  payload: Uint8Array,
  acked: Set<number>,
): number | undefined {
  const header = parseHeader(payload);
  if (!header) {
    // A valid checksum over a header this format never writes: not ours to read.
    log.warn(
      `a record of ${payload.length} bytes in segment ${place.segment} is not one this agent ` +
        `writes (${describeForeign(payload)}); skipped`,
    );
    state.dropped.damaged.records++;
    return undefined;
  }
  if (header.op === "ack") {
    for (const id of header.ids) {
      state.index.remove(id);
      acked.add(id);
    }
    return undefined;
  }
  state.index.add({
    id: header.id,
    kind: header.kind,
    ...(header.key === undefined ? {} : { key: header.key }),
    at: header.at,
    count: header.n,
    bytes: payload.length - header.headerBytes,
    place,
  });
  state.nextId = Math.max(state.nextId, header.id + 1);
  return header.id;
}

/** What a record this agent does not read seems to be, from its header as far as it goes. */
function describeForeign(payload: Uint8Array): string {
  const line = new TextDecoder().decode(
    payload.subarray(0, Math.min(payload.indexOf(10) >>> 0, 200)),
  );
  const kind = /"kind":"(\w+)"/.exec(line)?.[1];
  const n = /"n":(\d+)/.exec(line)?.[1];
  return kind && n ? `a ${kind} record of ${n} items, by its header` : "its header cannot be read";
}

/**
 * One WARNING for bytes replay could not read, saying what they held as far as their headers
 * tell - or, when none can be read, how many records are missing between the ids around them:
 * records neither acknowledged nor copied elsewhere are lost, and counted as dropped.
 */
function reportDamage(state: State, damage: Damage, acked: ReadonlySet<number>): void {
  const { report } = damage;
  const headers = report.guesses.map(parseHeader);
  const unknown = (id: number) => !acked.has(id) && state.index.get(id) === undefined;
  const lost = headers
    .filter((h): h is PutHeader & { headerBytes: number } => h?.op === "put")
    .filter((h) => unknown(h.id))
    .map((h) => ({ kind: h.kind, count: h.n }));
  const acks = headers.filter((h) => h?.op === "ack").length;
  const told = headers.filter((h) => h !== undefined).length;
  let between = 0;
  if (told === 0 && damage.before !== undefined && damage.after !== undefined) {
    for (let id = damage.before + 1; id < damage.after; id++) if (unknown(id)) between++;
  }
  const missing = report.missingFrames;
  state.dropped.damaged.records += lost.length + between + (missing ?? 0);
  state.dropped.damaged.count += lost.reduce((n, r) => n + r.count, 0);
  const what = missing !== undefined
    ? `up to ${plural(missing, "record")} lost`
    : told === 0
    ? between > 0
      ? `${plural(between, "record")} lost, by the ids of the records around them`
      : "records that cannot be told"
    : [
      lost.length > 0 ? `${describeRecords(lost)} lost` : "no record lost",
      ...(acks > 0 ? [`${plural(acks, "acknowledgement")} (its records may be posted again)`] : []),
      ...(told < headers.length ? ["records that cannot be told"] : []),
    ].join(", ");
  log.warn(
    missing !== undefined
      ? `${report.path}: its last ${report.length} bytes are missing (it is shorter than when it ` +
        `was closed): ${what}; the records before them are kept`
      : report.tail
      ? `${report.path}: its last ${report.length} bytes are an incomplete write (cut off when ` +
        `the agent or the machine stopped): ${what}; the records before them are kept`
      : `${report.path}: ${report.length} damaged bytes at offset ${report.offset} are skipped: ` +
        `${what}; the records around them are kept`,
  );
}

/** Stores a record, on disk when it can; then applies the bounds. */
async function put(state: State, input: PutInput): Promise<SpoolEntry> {
  const entry: SpoolEntry = {
    id: state.nextId++,
    kind: input.kind,
    ...(input.key === undefined ? {} : { key: input.key }),
    at: input.at ?? state.clock.now(),
    count: input.count,
    bytes: input.body.length,
  };
  const held = await writeToDisk(state, entry, input.body) ?? { ...entry, body: input.body };
  state.index.add(held);
  await recordAcks(state, enforceBounds(state));
  return entry;
}

/** Appends a put frame; the record as held on disk, or undefined when memory must do. */
async function writeToDisk(
  state: State,
  entry: SpoolEntry,
  body: Uint8Array,
): Promise<Held | undefined> {
  if (!await claimDisk(state)) return undefined;
  try {
    const place = await state.log!.append(encodePut(headerOf(entry), body), { sync: true });
    state.cache.set(entry.id, body);
    if (state.disk) {
      log.info(`the spool is written to ${state.dir} again`);
      state.disk = undefined;
      await moveMemoryToDisk(state);
    }
    return { ...entry, place };
  } catch (error) {
    failDisk(state, error);
    return undefined;
  }
}

/** Writes the records memory held while the disk failed, so they too survive a restart. */
async function moveMemoryToDisk(state: State): Promise<void> {
  const inMemory = state.index.list().filter((h) => h.body !== undefined);
  if (inMemory.length === 0) return;
  try {
    for (const held of inMemory) {
      const place = await state.log!.append(encodePut(headerOf(held), held.body!), {
        sync: false,
      });
      state.index.add({ ...entryOf(held), place });
    }
    await state.log!.sync();
    log.info(`${describeRecords(inMemory)} kept in memory meanwhile are on disk now`);
  } catch (error) {
    failDisk(state, error);
  }
}

const headerOf = (entry: SpoolEntry) => ({
  id: entry.id,
  kind: entry.kind,
  ...(entry.key === undefined ? {} : { key: entry.key }),
  at: entry.at,
  n: entry.count,
});

function failDisk(state: State, error: unknown): void {
  const message = errorMessage(error);
  if (state.disk === undefined) {
    log.warn(
      `cannot write the spool in ${state.dir}: ${message}; keeping data in memory and trying ` +
        "the disk again in a minute",
    );
  }
  state.disk = { error: message, at: state.clock.now() };
}

/**
 * Whether the disk may be written now: it is not failing (or a minute has passed), and this agent
 * owns the directory - taking the lock first when it could not at start.
 */
async function claimDisk(state: State): Promise<boolean> {
  if (!diskUsable(state)) return false;
  const owner = state.owner;
  if (owner === undefined || owner.lock !== undefined) return true;
  try {
    const taken = await lockSpool(state.dir!, { waitMs: 0 });
    if ("unlockable" in taken) {
      failDisk(state, new Error(taken.unlockable));
      return false;
    }
    owner.lock = taken;
    return true;
  } catch (error) {
    if (error instanceof SpoolLockedError && !owner.conflict) {
      owner.conflict = true;
      log.error(
        `${error.message}: this agent could not write its spool when it started and another one ` +
          "writes there now; it keeps its data in memory (lost if it stops): stop one of them",
      );
    }
    failDisk(state, error);
    return false;
  }
}

function diskUsable(state: State): boolean {
  return state.log !== undefined &&
    (state.disk === undefined || state.clock.now() - state.disk.at >= state.diskRetryMs);
}

/** A record's body: from memory, the cache or its frame; "gone" when it is lost for good. */
async function readBody(state: State, held: Held): Promise<Uint8Array | undefined | "gone"> {
  if (held.body) return held.body;
  const cached = state.cache.get(held.id);
  if (cached) return cached;
  try {
    const payload = await state.log!.read(held.place);
    const header = parseHeader(payload);
    if (header?.op !== "put" || header.id !== held.id) {
      throw new FrameGone(
        `segment ${held.place.segment} holds another record where ${held.id} was`,
      );
    }
    return payload.subarray(header.headerBytes);
  } catch (error) {
    if (error instanceof FrameGone) {
      log.warn(`cannot read record ${held.id} back from the spool: ${errorMessage(error)}`);
      return "gone";
    }
    // EMFILE, EIO ...: the record may read fine next time; it stays.
    log.warn(`cannot read record ${held.id} now (will try again): ${errorMessage(error)}`);
    return undefined;
  }
}

/** Forgets a record that was delivered or given up. */
function forget(state: State, id: number): Held | undefined {
  state.cache.delete(id);
  return state.index.remove(id);
}

/** Drops what is too old, then the oldest records while the spool is over its size. */
function enforceBounds(state: State): Held[] {
  const now = state.clock.now();
  const records = state.index.list();
  const expired = records.filter((r) => now - r.at > state.maxAgeMs);
  const gone = drop(state, expired, "expired");
  let over = state.index.heldBytes() - state.capacity;
  if (over <= 0) return gone;
  const victims: Held[] = [];
  // The newest record is always kept, however large.
  for (const record of state.index.list().slice(0, -1)) {
    if (over <= 0) break;
    victims.push(record);
    over -= sizeOf(record);
  }
  return [...gone, ...drop(state, victims, "full")];
}

/** Forgets records the spool gives up on, counting and logging them. */
function drop(state: State, victims: readonly Held[], reason: DropReason): Held[] {
  if (victims.length === 0) return [];
  for (const v of victims) forget(state, v.id);
  const tally = state.dropped[reason];
  tally.records += victims.length;
  tally.count += victims.reduce((n, v) => n + v.count, 0);
  const why = reason === "full"
    ? `the spool is full (${state.maxBytes} bytes)`
    : reason === "expired"
    ? `they are older than ${describeMinutes(state.maxAgeMs / 60_000)}`
    : "they could not be read back";
  log.warn(`dropped ${describeRecords(victims)}: ${why}`);
  return [...victims];
}

/** "1 minute", "90 minutes", "6 hours". */
export function describeMinutes(minutes: number): string {
  const whole = Math.round(minutes);
  return whole >= 60 && whole % 60 === 0 ? plural(whole / 60, "hour") : plural(whole, "minute");
}

/**
 * Deletes what is fully acknowledged, then writes one ack frame for the forgotten records whose
 * put is still in a segment (without it they would come back after a restart), then compacts when
 * acknowledged bytes pile up.
 */
async function recordAcks(state: State, forgotten: readonly Held[]): Promise<void> {
  const spoolLog = state.log;
  if (!spoolLog) return;
  await deleteDeadSegments(state);
  const present = new Set(spoolLog.segments().map((s) => s.no));
  const ids = forgotten.filter((h) => h.place && present.has(h.place.segment)).map((h) => h.id);
  if (ids.length > 0 && await claimDisk(state)) {
    try {
      await spoolLog.append(encodeAck(ids), { sync: false });
    } catch (error) {
      failDisk(state, error); // the records may come back after a restart: posted twice, never lost
    }
  }
  await deleteDeadSegments(state);
  await compact(state);
}

/** Deletes segments from the oldest end while they hold no live record (never the head). */
async function deleteDeadSegments(state: State): Promise<void> {
  const spoolLog = state.log!;
  for (const segment of [...spoolLog.segments()]) {
    if (state.index.use(segment.no).records > 0 || segment.no === spoolLog.head()) return;
    try {
      await spoolLog.remove(segment.no);
    } catch (error) {
      log.warn(`cannot remove ${segment.path}: ${errorMessage(error)}`);
      return;
    }
  }
}

/** Bytes of the files that no live record needs. */
function deadBytes(state: State): number {
  return state.log!.segments().reduce((n, s) => n + s.bytes - state.index.use(s.no).bytes, 0);
}

/**
 * While dead bytes are over their budget, copies the live records of the oldest segment to the
 * head and deletes it. The copies are synced before the original goes; a crash in between leaves
 * both, and the replay keeps one.
 */
async function compact(state: State): Promise<void> {
  const spoolLog = state.log!;
  if (!await claimDisk(state)) return;
  const headAtStart = spoolLog.head() ?? Infinity;
  while (deadBytes(state) > state.deadBudget) {
    const oldest = spoolLog.segments()[0];
    if (!oldest || oldest.no >= headAtStart || oldest.no === spoolLog.head()) return;
    const live = state.index.list().filter((h) => h.place?.segment === oldest.no);
    try {
      for (const held of live) {
        const payload = await spoolLog.read(held.place!);
        const place = await spoolLog.append(payload, { sync: false });
        state.index.add({ ...entryOf(held), place });
      }
      await spoolLog.sync();
    } catch (error) {
      if (error instanceof FrameGone) {
        log.warn(`compacting ${oldest.path}: ${errorMessage(error)}`);
      } else failDisk(state, error);
      return;
    }
    await deleteDeadSegments(state);
    if (spoolLog.segments()[0]?.no === oldest.no) return; // could not be deleted
  }
}

function stats(state: State): SpoolStats {
  const durable = state.log !== undefined && state.disk === undefined;
  return {
    ...(durable ? { dir: state.dir } : {}),
    durable,
    pending: tallyByKind(state.index.list()),
    bytesHeld: state.index.heldBytes(),
    bytesOnDisk: state.log?.segments().reduce((n, s) => n + s.bytes, 0) ?? 0,
    bytesInMemory: state.index.memoryBytes(),
    dropped: structuredClone(state.dropped),
    ...(state.disk === undefined ? {} : { diskError: state.disk.error }),
  };
}

function entryOf(held: Held): SpoolEntry {
  return {
    id: held.id,
    kind: held.kind,
    ...(held.key === undefined ? {} : { key: held.key }),
    at: held.at,
    count: held.count,
    bytes: held.bytes,
  };
}

export { describeRecords };
