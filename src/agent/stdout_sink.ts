/**
 * The stdout sender: with no API key, what would be posted is printed as JSON lines instead.
 *
 * One line per message: `{"host": …}` at start, `{"metrics": [{"name", "value", "time"}]}` per
 * round, `{"checkReports": […]}` and `{"metadata": {"namespace", "value"}}` as they come.
 *
 * @module
 */
import type { DataSink } from "../delivery/sink.ts";
import type { HostPayload } from "../mackerel/types.ts";

/** A {@linkcode DataSink} that prints, plus the host line. */
export interface StdoutSink extends DataSink {
  printHost(payload: HostPayload): void;
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
  const printed = (value: unknown) => Promise.resolve(print(value));
  return {
    printHost: (host) => print({ host }),
    putMetrics: (points) =>
      printed({ metrics: points.map(({ name, value, time }) => ({ name, value, time })) }),
    putCheckReport: ({ hostId: _, ...report }) => printed({ checkReports: [report] }),
    wakeChecks: () => {},
    putMetadata: ({ namespace, value }) => printed({ metadata: { namespace, value } }),
    putGraphDefs: (defs) => printed({ graphDefs: defs }),
  };
}
