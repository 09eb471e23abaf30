/**
 * The spool's index: every record it holds, where it is (a frame in a segment, or its body in
 * memory), and what that adds up to per segment, so the spool knows which segments are dead and how
 * many bytes it holds without reading a file.
 *
 * @module
 */
import type { RecordKind } from "./record.ts";
import type { FramePlace } from "./segment_log.ts";

/** A record the spool holds, as the senders see it (the body is read with `Spool.read`). */
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

/** A record and where it is: on disk (`place`) or in memory (`body`). */
export type Held =
  & SpoolEntry
  & ({ readonly place: FramePlace; readonly body?: never } | {
    readonly body: Uint8Array;
    readonly place?: never;
  });

/** Live records and their bytes in one segment. */
export interface SegmentUse {
  readonly records: number;
  readonly bytes: number;
}

/** The records of a spool. */
export interface SpoolIndex {
  /** Adds a record, replacing one with the same id. */
  add(record: Held): void;
  /** Forgets a record; what it was, if held. */
  remove(id: number): Held | undefined;
  get(id: number): Held | undefined;
  /** Records held, oldest (lowest id) first; of one kind when given. */
  list(kind?: RecordKind): Held[];
  readonly size: number;
  /** What segment `no` still holds. */
  use(no: number): SegmentUse;
  /** Bytes held: frames on disk, bodies in memory. */
  heldBytes(): number;
  /** Bytes of the bodies held in memory. */
  memoryBytes(): number;
}

/** The bytes a record takes: its whole frame on disk, its body in memory. */
export function sizeOf(record: Held): number {
  return record.place ? record.place.length : record.body.length;
}

/** Creates an empty index. */
export function createSpoolIndex(): SpoolIndex {
  const records = new Map<number, Held>();
  const segments = new Map<number, { records: number; bytes: number }>();
  let maxId = 0;
  /** Ids were added out of order (a replay after compaction, memory written to disk late). */
  let unordered = false;
  let held = 0;
  let inMemory = 0;

  const account = (record: Held, sign: 1 | -1) => {
    const size = sizeOf(record);
    held += sign * size;
    if (!record.place) {
      inMemory += sign * size;
      return;
    }
    const no = record.place.segment;
    const use = segments.get(no) ?? { records: 0, bytes: 0 };
    use.records += sign;
    use.bytes += sign * size;
    if (use.records === 0) segments.delete(no);
    else segments.set(no, use);
  };

  const remove = (id: number): Held | undefined => {
    const record = records.get(id);
    if (!record) return undefined;
    records.delete(id);
    account(record, -1);
    return record;
  };

  return {
    add(record) {
      remove(record.id);
      // The map's order is the order of adding: it stays id order while ids only grow.
      if (record.id < maxId) unordered = true;
      maxId = Math.max(maxId, record.id);
      records.set(record.id, record);
      account(record, 1);
    },
    remove,
    get: (id) => records.get(id),
    list(kind) {
      if (unordered) {
        const sorted = [...records.values()].sort((a, b) => a.id - b.id);
        records.clear();
        for (const record of sorted) records.set(record.id, record);
        unordered = false;
      }
      const out: Held[] = [];
      for (const record of records.values()) {
        if (kind === undefined || record.kind === kind) out.push(record);
      }
      return out;
    },
    get size() {
      return records.size;
    },
    use: (no) => segments.get(no) ?? { records: 0, bytes: 0 },
    heldBytes: () => held,
    memoryBytes: () => inMemory,
  };
}
