/**
 * `status.json` read back by `mackerel-agent status`, as untrusted input: a file that is too big,
 * not a regular file, not UTF-8, not JSON or not of the shape ./status.ts writes gets one line naming
 * the file and what is wrong, never an exception. The shape is checked by a small declarative
 * validator kept beside {@linkcode StatusDocument}'s fields.
 *
 * @module
 */
import { readSmallFile } from "../small_file.ts";
import type { StatusDocument } from "./status.ts";
import type { StatusFileContent } from "./status_verdict.ts";

/**
 * The most `status` reads of the file: far above what an agent writes (a few kB, plus some 300
 * bytes per collector and plugin), far below what could hurt.
 */
export const MAX_STATUS_FILE_BYTES = 4 * 1024 * 1024;

/** Reads and checks the status file at `path`. */
export function readStatusFile(path: string): StatusFileContent {
  const file = readSmallFile(path, MAX_STATUS_FILE_BYTES);
  if (file.kind === "missing") return { kind: "missing" };
  if (file.kind === "unreadable") {
    return { kind: "unreadable", problem: `cannot read ${path}: ${file.message}` };
  }
  if (file.kind === "bad") return invalid(path, file.problem);
  const text = file.text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(path, "it is not JSON");
  }
  const problem = DOCUMENT(value, "");
  if (problem === undefined) return { kind: "valid", doc: value as StatusDocument, text };
  const pid = isObject(value) && PID(value.pid, "pid") === undefined
    ? value.pid as number
    : undefined;
  return { ...invalid(path, problem), ...(pid === undefined ? {} : { pid }) };
}

/** Whether `value` has the shape of a status document; the first problem found, if not. */
export function statusDocumentProblem(value: unknown): string | undefined {
  return DOCUMENT(value, "");
}

function invalid(path: string, problem: string): StatusFileContent {
  return { kind: "invalid", problem: `${path} is not a status file: ${problem}` };
}

/** Checks a value found at `at` (a dotted path); the problem, or undefined when it fits. */
type Check = (value: unknown, at: string) => string | undefined;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What a value is, in a few words and never much of it. */
function what(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return value.length > 40 ? "a long string" : JSON.stringify(value);
  return String(value);
}

const is = (expected: string, fits: (value: unknown) => boolean): Check => (value, at) =>
  fits(value) ? undefined : `${at || "the document"} is ${what(value)}, expected ${expected}`;

const optional = (check: Check): Check => (value, at) =>
  value === undefined ? undefined : check(value, at);

/** A key of a record as a path part: bare when it is a plain name, else quoted and cut short. */
function part(key: string): string {
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return key;
  return JSON.stringify(key.length > 32 ? `${key.slice(0, 32)}...` : key);
}

const join = (at: string, key: string) => at === "" ? part(key) : `${at}.${part(key)}`;

/** An object with these fields (others are ignored: a newer agent may write more). */
function object(fields: Readonly<Record<string, Check>>): Check {
  return (value, at) => {
    if (!isObject(value)) return is("an object", () => false)(value, at);
    for (const [key, check] of Object.entries(fields)) {
      const problem = check(Object.hasOwn(value, key) ? value[key] : undefined, join(at, key));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

/** An object whose every value passes `check`. */
function recordOf(check: Check): Check {
  return (value, at) => {
    if (!isObject(value)) return is("an object", () => false)(value, at);
    for (const [key, item] of Object.entries(value)) {
      const problem = check(item, join(at, key));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

const TEXT = is("a string", (v) => typeof v === "string");
const BOOL = is("true or false", (v) => typeof v === "boolean");
const COUNT = is("a count", (v) => Number.isSafeInteger(v) && (v as number) >= 0);
const PID = is("a pid", (v) => Number.isSafeInteger(v) && (v as number) > 0);
/** A time as `Date.toISOString` writes it: the reasons compare them as text. */
const TIME = is(
  "a time (ISO 8601, UTC)",
  (v) =>
    typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v) &&
    !Number.isNaN(Date.parse(v)),
);
const MINUTE = is(
  "a minute in ms",
  (v) => typeof v === "number" && Number.isFinite(v) && v >= 1000,
);
const MODE = is('"api" or "stdout"', (v) => v === "api" || v === "stdout");
const TALLY = object({ records: COUNT, count: COUNT });

const RUN = object({
  runs: COUNT,
  failures: COUNT,
  lastRunAt: optional(TIME),
  lastOkAt: optional(TIME),
  lastError: optional(TEXT),
  lastErrorAt: optional(TIME),
});

const KIND = object({
  delivered: COUNT,
  refused: COUNT,
  lastDeliveredAt: optional(TIME),
  lastRefusedAt: optional(TIME),
  failingSince: optional(TIME),
  keyRefused: optional(object({ since: TIME, answer: TEXT })),
});

const SPOOL = object({
  dir: optional(TEXT),
  durable: BOOL,
  pending: recordOf(TALLY),
  bytesHeld: COUNT,
  bytesOnDisk: COUNT,
  bytesInMemory: COUNT,
  dropped: recordOf(TALLY),
  diskError: optional(TEXT),
});

/** The shape of {@linkcode StatusDocument}. */
const DOCUMENT: Check = object({
  version: TEXT,
  revision: TEXT,
  pid: PID,
  startedAt: TIME,
  updatedAt: TIME,
  stoppedAt: optional(TIME),
  minuteMs: MINUTE,
  mode: MODE,
  hostId: optional(TEXT),
  delivery: object({
    lastSuccessAt: optional(TIME),
    lastErrorAt: optional(TIME),
    lastError: optional(TEXT),
    failingSince: optional(TIME),
    kinds: recordOf(KIND),
    invalidPoints: COUNT,
    queue: object({ rounds: COUNT, points: COUNT }),
    spool: optional(SPOOL),
  }),
  collectors: recordOf(RUN),
  plugins: recordOf(RUN),
});
