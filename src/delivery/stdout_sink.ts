/**
 * The stdout sender: with no API key, what would be posted is printed as JSON lines instead.
 *
 * One line per message: `{"host": ...}` at start, `{"metrics": [{"name", "value", "time"}]}` per
 * round, `{"checkReports": [...]}` and `{"metadata": {"namespace", "value"}}` as they come.
 *
 * @module
 */
import type { DataSink } from "./sink.ts";
import { createLineWriter, type LineWriter } from "../line_writer.ts";
import type { HostPayload } from "../mackerel/types.ts";

/** A {@linkcode DataSink} that prints, plus the host line. */
export interface StdoutSink extends DataSink {
  printHost(payload: HostPayload): void;
}

let stdoutLines: LineWriter | undefined;

/**
 * Queues one JSON line for stdout and returns at once. A reader that does not keep up loses the
 * oldest lines, and the next line it reads is `{"droppedLines": N}`.
 */
export function printLine(value: unknown): void {
  stdoutLines ??= createLineWriter({
    target: Deno.stdout,
    droppedLine: (count) => JSON.stringify({ droppedLines: count }),
  });
  stdoutLines.write(JSON.stringify(value));
}

/** Waits until the queued stdout lines are written, or `signal` aborts; true when all were. */
export function flushStdout(signal?: AbortSignal): Promise<boolean> {
  return stdoutLines?.flush(signal) ?? Promise.resolve(true);
}

/** Creates the stdout sink. */
export function stdoutSink(print: (value: unknown) => void = printLine): StdoutSink {
  const printed = (value: unknown) => Promise.resolve(print(value));
  return {
    printHost: (host) => print({ host }),
    putMetrics: (points) =>
      printed({ metrics: points.map(({ name, value, time }) => ({ name, value, time })) }),
    putCheckReport: ({ hostId: _, ...report }) => printed({ checkReports: [report] }),
    wakeChecks: () => {},
    putMetadata: ({ namespace, value }) => printed({ metadata: { namespace, value } }),
    putGraphDefs: (defs) => defs.length > 0 ? printed({ graphDefs: defs }) : Promise.resolve(),
  };
}
