/**
 * Benchmarks of the log and stdout lines: formatting one record (escaping, the 4 KiB cut) and
 * writing lines through the bounded non-blocking writer, against the synchronous loop it replaced.
 * Run with `deno task bench` (or `deno bench -A scripts/log_output_bench.ts`); divide the
 * 1,000-line figures by 1,000 for the cost per line.
 *
 * @module
 */
import type { LogRecord } from "@logtape/logtape";
import { createLineWriter } from "../src/line_writer.ts";
import { formatRecord } from "../src/log.ts";

const LINES = 1_000;
const TYPICAL = "2024/05/01 12:00:00 INFO <metrics.plugin> command /opt/mackerel-agent/plugins/" +
  'bin/mackerel-plugin-mysql outputted to STDERR: "a short note\\n"';

const record = (message: readonly unknown[]): LogRecord => ({
  category: ["mackerel-agent", "metrics.plugin"],
  level: "info",
  message,
  rawMessage: "",
  timestamp: Date.now(),
  properties: {},
});
const typicalRecord = record(["command ", "/usr/bin/plugin", " outputted to STDERR: ", '"note"']);
const hugeRecord = record(["stderr: ", "x\n".repeat(512 * 1024)]);

Deno.bench("format a typical record", { group: "format", baseline: true }, () => {
  formatRecord(typicalRecord);
});

Deno.bench(
  "format a 1 MiB message with newlines (escaped, cut to 4 KiB)",
  { group: "format" },
  () => {
    formatRecord(hugeRecord);
  },
);

const devNull = Deno.openSync("/dev/null", { write: true });
const encoder = new TextEncoder();

Deno.bench(
  `${LINES} lines to /dev/null: synchronous write loop (before)`,
  { group: "write", baseline: true },
  () => {
    for (let i = 0; i < LINES; i++) {
      const bytes = encoder.encode(TYPICAL + "\n");
      let written = 0;
      while (written < bytes.length) written += devNull.writeSync(bytes.subarray(written));
    }
  },
);

const writer = createLineWriter({ target: devNull, droppedLine: (n) => `${n} dropped` });
Deno.bench(`${LINES} lines to /dev/null: line writer, then flush`, { group: "write" }, async () => {
  for (let i = 0; i < LINES; i++) writer.write(TYPICAL);
  await writer.flush();
});

// A reader that never reads: the first write never completes, every later line is queued and,
// past the capacity, dropped. This is the cost the agent pays per line while its stderr is stalled.
const stalled = createLineWriter({
  target: { write: () => new Promise<number>(() => {}) },
  droppedLine: (n) => `${n} dropped`,
});
Deno.bench(`${LINES} lines to a stalled reader: queued or dropped`, { group: "write" }, () => {
  for (let i = 0; i < LINES; i++) stalled.write(TYPICAL);
});
