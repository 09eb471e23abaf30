/**
 * Logging for the agent, on LogTape.
 *
 * Lines go to stderr in mackerel-agent's format, `YYYY/MM/DD HH:MM:SS <LEVEL> <<tag>> <msg>`, so that
 * operators' log filters keep working. Each module asks for a logger by its upstream tag
 * (`metrics.cpuUsage`, `api`, `command` …) with {@linkcode logger}.
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
 * A plain string is logged verbatim: LogTape would read any `{…}` in it (a plugin's command line,
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

/** Renders one LogTape record as one mackerel-agent log line (without the newline). */
export function formatRecord(record: LogRecord): string {
  const tag = record.category.slice(1).join(".") || "main";
  const text = record.message
    .map((part, i) => i % 2 === 0 ? String(part) : renderValue(part))
    .join("");
  return `${formatTime(record.timestamp)} ${LEVEL_NAMES[record.level]} <${tag}> ${text}`;
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
  /** Where lines go; stderr unless a test collects them. */
  readonly write?: (line: string) => void;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
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
