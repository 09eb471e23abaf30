/**
 * Logging for the agent, on LogTape.
 *
 * Lines go to stderr in mackerel-agent's format, `YYYY/MM/DD HH:MM:SS <LEVEL> <<tag>> <msg>`, so that
 * operators' log filters keep working. Each module asks for a logger by its upstream tag
 * (`metrics.cpuUsage`, `api`, `command` ...) with {@linkcode logger}.
 *
 * @module
 */
import {
  configure,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  reset,
} from "@logtape/logtape";
import { createLineWriter, type LineWriter } from "./line_writer.ts";

/** Root category under which every logger of the agent lives. */
const ROOT = "mackerel-agent";

const LEVEL_NAMES: Record<LogLevel, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

/** One logging method: a plain string, a string with `{placeholders}` and their values, or a tagged template. */
export interface LogMethod {
  (message: string, properties?: Record<string, unknown>): void;
  (template: TemplateStringsArray, ...values: unknown[]): void;
}

/** The agent's logger: LogTape's levels under upstream's names. */
export interface AgentLogger {
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  readonly fatal: LogMethod;
}

/**
 * Returns the logger for a module, by its mackerel-agent tag (e.g. `"metrics.cpuUsage"`).
 *
 * A plain string is logged verbatim: LogTape would read any `{...}` in it (a plugin's command line,
 * a JSON batch) as a placeholder and print `undefined`, so its braces are escaped here. Pass
 * properties, or use a tagged template, to interpolate on purpose.
 */
export function logger(tag: string): AgentLogger {
  const inner: Logger = getLogger([ROOT, tag]);
  const method = (level: "debug" | "info" | "warn" | "error" | "fatal"): LogMethod =>
    ((first: string | TemplateStringsArray, ...rest: unknown[]) => {
      if (typeof first !== "string") return inner[level](first, ...rest);
      if (rest.length === 0) return inner[level](first.replaceAll("{", "{{").replaceAll("}", "}}"));
      return inner[level](first, rest[0] as Record<string, unknown>);
    }) as LogMethod;
  return {
    debug: method("debug"),
    info: method("info"),
    warn: method("warn"),
    error: method("error"),
    fatal: method("fatal"),
  };
}

/** The message of an error, or the value as text: what a log line or a user-facing line shows. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Formats a timestamp as upstream does: local time, `YYYY/MM/DD HH:MM:SS`. */
export function formatTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The longest log line, in UTF-8 bytes without its newline; longer messages are cut. */
export const MAX_LINE_BYTES = 4096;

/**
 * Renders one LogTape record as one mackerel-agent log line (without the newline): always a single
 * line of at most {@linkcode MAX_LINE_BYTES} bytes, whatever a plugin printed (see {@linkcode safeText}).
 */
export function formatRecord(record: LogRecord): string {
  const tag = record.category.slice(1).join(".") || "main";
  const text = record.message
    .map((part, i) => i % 2 === 0 ? String(part) : renderValue(part))
    .join("");
  const head = `${formatTime(record.timestamp)} ${LEVEL_NAMES[record.level]} <${tag}> `;
  return head + safeText(text, MAX_LINE_BYTES - utf8Bytes(head));
}

/**
 * Whether a log line must not carry char code `c` raw: C0 controls but tab (a newline or CR would
 * start a forged record, ESC drives terminals), DEL, C1 controls, the Unicode line separators and
 * the bidi controls that reorder what a reader sees. A loop over these is twice as fast as a
 * regular expression on typical lines.
 */
function isUnsafe(c: number): boolean {
  return c < 0x20
    ? c !== 0x09
    : c >= 0x7f && (c <= 0x9f || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069));
}

function hasUnsafe(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isUnsafe(text.charCodeAt(i))) return true;
  return false;
}

/** Bytes of `text` in UTF-8; a lone surrogate counts as the 3 of the U+FFFD it is written as. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c <= 0xdbff && c >= 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x0a: "\\n", 0x0d: "\\r" };
/** Room kept for the cut marker ` ... (N bytes cut)`. */
const MARKER_BYTES = 40;

/**
 * `text` as one line of at most `maxBytes` UTF-8 bytes: unsafe characters escaped (`\n`, `\r`,
 * `\x1b`, `\u2028`), lone surrogates as U+FFFD, and a text too long cut at a character boundary,
 * ending with `... (N bytes cut)`, N counting the message's UTF-8 bytes not shown.
 */
export function safeText(text: string, maxBytes: number): string {
  if (!(maxBytes >= 2 * MARKER_BYTES)) {
    throw new RangeError(`maxBytes must be at least ${2 * MARKER_BYTES}, got ${maxBytes}`);
  }
  // Fast path: nothing to escape, and short enough even at 3 bytes per UTF-16 unit.
  const clean = !hasUnsafe(text) && text.isWellFormed();
  if (clean && text.length <= maxBytes) {
    if (text.length * 3 <= maxBytes || utf8Bytes(text) <= maxBytes) return text;
  }
  const source = clean ? text : text.toWellFormed();
  const fitLimit = maxBytes - MARKER_BYTES;
  let out = "";
  let runStart = 0;
  let bytes = 0;
  /** Where to cut: the last point after which the marker still fits. */
  let cut: { index: number; shown: string } | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    const escaped = isUnsafe(c) ? escapeCode(c) : undefined;
    // UTF-8 bytes of the character; a high surrogate stands for a pair (well-formed by now).
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    const step = escaped === undefined ? size : escaped.length;
    if (cut === undefined && bytes + step > fitLimit) {
      cut = { index: i, shown: out + source.slice(runStart, i) };
    }
    if (bytes + step > maxBytes) {
      return `${cut!.shown} \u2026 (${utf8Bytes(source.slice(cut!.index))} bytes cut)`;
    }
    bytes += step;
    if (escaped !== undefined) {
      out += source.slice(runStart, i) + escaped;
      runStart = i + 1;
    } else if (size === 4) {
      i++;
    }
  }
  return out + source.slice(runStart);
}

function escapeCode(c: number): string {
  return SHORT_ESCAPES[c] ??
    (c < 0x100 ? "\\x" + c.toString(16).padStart(2, "0") : "\\u" + c.toString(16).padStart(4, "0"));
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Options of {@linkcode setupLogging}. */
export interface LogOptions {
  /** Lowest level written; upstream's default is `info`, `verbose` gives `debug`, `silent` gives `error`. */
  readonly level: LogLevel;
  /** Where lines go; stderr (through a bounded non-blocking queue) unless a test collects them. */
  readonly write?: (line: string) => void;
}

let stderrLines: LineWriter | undefined;

/** Lines to stderr through a bounded queue: a stalled reader never blocks the agent. */
function writeStderr(line: string): void {
  stderrLines ??= createLineWriter({
    target: Deno.stderr,
    droppedLine: (count) =>
      `${formatTime(Date.now())} WARNING <main> ${count} log lines dropped: ` +
      "stderr was not read fast enough",
  });
  stderrLines.write(line);
}

/**
 * Waits until the log lines queued for stderr are written, or `signal` aborts (the reader has
 * stalled); true when all were written. Call before exiting, or the last lines may be lost.
 */
export function flushLogs(signal?: AbortSignal): Promise<boolean> {
  return stderrLines?.flush(signal) ?? Promise.resolve(true);
}

/** Configures (or reconfigures) logging for the whole process. */
export async function setupLogging(options: LogOptions): Promise<void> {
  const write = options.write ?? writeStderr;
  await configure({
    reset: true,
    sinks: { stderr: (record: LogRecord) => write(formatRecord(record)) },
    loggers: [
      { category: [ROOT], lowestLevel: options.level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** Removes the logging configuration (tests call it between cases). */
export async function resetLogging(): Promise<void> {
  await reset();
}
