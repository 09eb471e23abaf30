/**
 * Captures the agent's log lines for tests that assert what was logged.
 *
 * Logging is process-wide (LogTape), so a capture configures it for the duration of one callback
 * and resets it afterwards, whatever the callback does: a failing test never leaks its sink into
 * the next one.
 *
 * @module
 */
import type { LogLevel } from "@logtape/logtape";
import { resetLogging, setupLogging } from "../../src/log.ts";

/** Options of {@linkcode withLogs} and {@linkcode captureLogs}. */
export interface LogCaptureOptions {
  /** Lowest level captured; `debug` by default. */
  readonly level?: LogLevel;
  /**
   * Keep the leading `YYYY/MM/DD HH:MM:SS ` of each line. Off by default, so that lines read
   * `WARNING <tag> message` and can be compared exactly.
   */
  readonly timestamps?: boolean;
}

/** The date and time mackerel-agent puts in front of every line, with the space after it. */
const TIMESTAMP = /^\S+ \S+ /;

/**
 * Runs `fn` with logging captured into `lines` (filled as lines are written), then resets logging.
 * Resolves to what `fn` resolves to.
 */
export async function withLogs<T>(
  fn: (lines: string[]) => Promise<T>,
  options: LogCaptureOptions = {},
): Promise<T> {
  const lines: string[] = [];
  const keepTime = options.timestamps ?? false;
  await setupLogging({
    level: options.level ?? "debug",
    write: (line) => lines.push(keepTime ? line : line.replace(TIMESTAMP, "")),
  });
  try {
    return await fn(lines);
  } finally {
    await resetLogging();
  }
}

/** Runs `fn` with logging captured, and returns its result with the lines it logged. */
export function captureLogs<T>(
  fn: () => T | Promise<T>,
  options: LogCaptureOptions = {},
): Promise<{ result: T; lines: string[] }> {
  return withLogs(async (lines) => ({ result: await fn(), lines }), options);
}
