/**
 * The stdout sender: with no API key, what would be posted is printed as JSON lines instead.
 *
 * One line per message: `{"host": …}` at start, `{"metrics": [{"name", "value", "time"}]}` per
 * round, `{"checkReports": […]}` and `{"metadata": {"namespace", "value"}}` as they come.
 *
 * @module
 */
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

const encoder = new TextEncoder();

/** Writes one JSON line to stdout, whole, even when stdout is a slow pipe. */
export function printLine(value: unknown): void {
  const bytes = encoder.encode(JSON.stringify(value) + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
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
