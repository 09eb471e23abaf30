/**
 * The stdout sender: with no API key, what would be posted is printed as JSON lines instead.
 *
 * One line per message: `{"host": …}` at start, `{"metrics": [{"name", "value", "time"}]}` per
 * round, `{"checkReports": […]}` and `{"metadata": {"namespace", "value"}}` as they come.
 *
 * @module
 */
import { createLineWriter, type LineWriter } from "../line_writer.ts";
import type { CheckReport, GraphDef } from "../mackerel/api_types.ts";
import type { MackerelClient } from "../mackerel/client.ts";
import type { HostPayload, MetricPoint } from "../mackerel/types.ts";

/** The calls plugins make to deliver their results (the API client is one). */
export type Sink = Pick<MackerelClient, "createGraphDefs" | "reportCheckMonitors" | "putMetadata">;

/** A {@linkcode Sink} that prints, plus the host and metric lines. */
export interface StdoutSink extends Sink {
  printHost(payload: HostPayload): void;
  printMetrics(points: readonly MetricPoint[]): void;
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
  return {
    printHost: (host) => print({ host }),
    printMetrics: (points) =>
      print({ metrics: points.map(({ name, value, time }) => ({ name, value, time })) }),
    createGraphDefs: (defs: readonly GraphDef[]) => Promise.resolve(print({ graphDefs: defs })),
    reportCheckMonitors: (reports: readonly CheckReport[]) =>
      Promise.resolve(print({ checkReports: reports.map(({ hostId: _, ...report }) => report) })),
    putMetadata: (_hostId: string, namespace: string, value: unknown) =>
      Promise.resolve(print({ metadata: { namespace, value } })),
  };
}
