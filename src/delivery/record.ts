/**
 * What the spool keeps: the kinds of record, the header each frame's payload starts with, and the
 * words a log line uses for a set of records.
 *
 * A frame's payload is a one-line JSON header, then for a put the record's body:
 * `{"op":"put","id":7,"kind":"metrics","at":1764000000000,"n":40}\n<body>`, or
 * `{"op":"ack","ids":[5,6]}\n`. Every payload therefore starts with {@linkcode PAYLOAD_PREFIX},
 * which is what lets a reader find the next frame after damage (./frame.ts).
 *
 * @module
 */

/**
 * What a record carries; `metadata` and `graphdefs` are states: the newest per key wins. `otlp`
 * is one round as an OTLP export request (protobuf), for the `[otlp]` endpoint.
 */
export type RecordKind = "metrics" | "checks" | "metadata" | "graphdefs" | "otlp";

/** How each kind is named in log lines and the status file. */
interface KindWords {
  /** The kind as a whole: "posting check reports is failing". */
  readonly name: string;
  /** One record, when records are counted ("3 rounds"). */
  readonly record?: string;
  /** One item in a record, when items are counted ("120 points"). */
  readonly item?: string;
  /** Where it is posted, when not to Mackerel's API. */
  readonly to?: string;
}

/** Every kind, in the order status and log lines list them, with its words. */
export const RECORD_KINDS: Readonly<Record<RecordKind, KindWords>> = {
  metrics: { name: "metrics", record: "round", item: "point" },
  checks: { name: "check reports", item: "check report" },
  metadata: { name: "metadata", record: "metadata value" },
  graphdefs: { name: "graph definitions", record: "graph definition post" },
  otlp: {
    name: "OpenTelemetry metrics",
    record: "OTLP export",
    item: "point",
    to: "the [otlp] endpoint",
  },
};

/** The kinds, in order. */
export const KINDS: readonly RecordKind[] = Object.keys(RECORD_KINDS) as RecordKind[];

/** Whether a value read from disk names a kind. */
export function isRecordKind(value: unknown): value is RecordKind {
  return typeof value === "string" && Object.hasOwn(RECORD_KINDS, value);
}

/** The first bytes of every payload. */
export const PAYLOAD_PREFIX: Uint8Array = new TextEncoder().encode('{"op":"');

/** A record's header as stored. */
export interface PutHeader {
  readonly op: "put";
  readonly id: number;
  readonly kind: RecordKind;
  readonly key?: string;
  /** Epoch ms the data was collected. */
  readonly at: number;
  /** Points or reports in the body. */
  readonly n: number;
}

/** Records given up or delivered. */
export interface AckHeader {
  readonly op: "ack";
  readonly ids: readonly number[];
}

/** A decoded payload: its header, and for a put where the body starts. */
export type Header = (PutHeader & { readonly headerBytes: number }) | AckHeader;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a put's payload: header line and body. */
export function encodePut(header: Omit<PutHeader, "op">, body: Uint8Array): Uint8Array {
  const { id, kind, key, at, n } = header;
  const line = encoder.encode(JSON.stringify({ op: "put", id, kind, key, at, n }) + "\n");
  const payload = new Uint8Array(line.length + body.length);
  payload.set(line);
  payload.set(body, line.length);
  return payload;
}

/** Encodes an ack's payload. */
export function encodeAck(ids: readonly number[]): Uint8Array {
  return encoder.encode(JSON.stringify({ op: "ack", ids }) + "\n");
}

/**
 * The largest record id this format writes: ids grow by one a record, so 2^48 lasts thousands of
 * years, and an id read from disk beyond it (damage, a crafted file) cannot push the next ids past
 * the integers a double holds exactly, where two records would share one.
 */
export const MAX_RECORD_ID = 2 ** 48;

const isId = (v: unknown): v is number =>
  Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= MAX_RECORD_ID;

/** Reads a payload's header line; undefined when it is not one this format writes. */
export function parseHeader(payload: Uint8Array): Header | undefined {
  const newline = payload.indexOf(10);
  if (newline < 0) return undefined;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(decoder.decode(payload.subarray(0, newline)));
  } catch {
    return undefined;
  }
  if (header === null || typeof header !== "object") return undefined;
  if (header.op === "ack") {
    const ids = header.ids;
    return Array.isArray(ids) && ids.every(isId) ? { op: "ack", ids } : undefined;
  }
  if (
    header.op !== "put" || !isId(header.id) || !isRecordKind(header.kind) ||
    !Number.isFinite(header.at) || !Number.isSafeInteger(header.n) || (header.n as number) < 0 ||
    (header.key !== undefined && typeof header.key !== "string")
  ) {
    return undefined;
  }
  return {
    op: "put",
    id: header.id,
    kind: header.kind,
    ...(header.key === undefined ? {} : { key: header.key as string }),
    at: header.at as number,
    n: header.n as number,
    headerBytes: newline + 1,
  };
}

/** Counts of records and of the points or reports in them. */
export interface Tally {
  readonly records: number;
  readonly count: number;
}

/** What a tally is made from: a record's kind and its item count. */
export interface Countable {
  readonly kind: RecordKind;
  readonly count: number;
}

/** Records and items per kind. */
export function tallyByKind(records: Iterable<Countable>): Record<RecordKind, Tally> {
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

/** "3 rounds (120 points) and 1 check report": what a set of records holds, for a log line. */
export function describeRecords(records: Iterable<Countable>): string {
  return describeTally(tallyByKind(records));
}

/** The words of {@linkcode describeRecords} for counts already made. */
export function describeTally(tally: Readonly<Record<RecordKind, Tally>>): string {
  const parts: string[] = [];
  for (const kind of KINDS) {
    const { records, count } = tally[kind];
    if (records === 0) continue;
    const { record, item } = RECORD_KINDS[kind];
    if (record && item) parts.push(`${plural(records, record)} (${plural(count, item)})`);
    else if (item) parts.push(plural(count, item));
    else parts.push(plural(records, record!));
  }
  return parts.join(" and ");
}

/** "1 round", "2 rounds". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
