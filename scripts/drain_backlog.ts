/**
 * Benchmark of the durable outbox (issue "Delivery that loses nothing"), for rounds of 40 points
 * (a typical host) and of 400 (a host with many plugins):
 *
 * 1. fill: the spool's cost per round — CPU time of `put` (encode, frame, write, fdatasync), bytes
 *    written, fsyncs — while a six-hour backlog of 360 rounds builds up, and the memory while
 *    holding it;
 * 2. drain, in a fresh process as after a restart: the replay, then delivery to a fake API in a
 *    third process on loopback with upstream's pacing and the minute shrunk to 20 ms: wall time,
 *    CPU per 1 000 points, and peak RSS — which must not grow with the backlog, since the backlog
 *    lives on disk.
 *
 * Each phase runs in a process of its own so that one's memory does not colour the other's.
 * Run with `deno task bench` (or `deno run -A scripts/drain_backlog.ts`).
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { abortableSleep as sleep, realClock } from "../src/async/clock.ts";
import { createOutbox } from "../src/delivery/outbox.ts";
import { openSpool } from "../src/delivery/spool.ts";
import { createMackerelClient } from "../src/mackerel/client.ts";
import { encodeMetricPoints } from "../src/mackerel/json.ts";
import type { MetricPoint } from "../src/mackerel/types.ts";
import { V8_FLAGS } from "./compile_targets.ts";

const ROUNDS = 360;
const MINUTE_MS = 20;
const SPOOL = { maxBytes: 256 << 20, maxAgeMs: 24 * 3_600_000 };
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const cpuMs = () => {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
};
/** Collects garbage when run with `--v8-flags=--expose-gc` (the phases are), so RSS shows what is kept. */
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function round(minute: number, size: number): MetricPoint[] {
  const time = 1_764_000_000 + minute * 60;
  return Array.from({ length: size }, (_, i) => ({
    hostId: "3yAQ2ctKe6t",
    name: i < 40 ? `filesystem.sda${i}.used` : `custom.plugin${i % 20}.metric${i}.value`,
    time,
    value: Math.round(Math.random() * 1e9) / 1000,
  }));
}

/** Phase 1, in its own process: builds the backlog one round at a time, as the agent does. */
async function fill(dir: string, rounds: number, size: number) {
  const { spool } = await openSpool({ dir, ...SPOOL });
  gc();
  const rssBefore = Deno.memoryUsage().rss;
  let cpu = 0;
  let bytes = 0;
  const wallStart = performance.now();
  for (let m = 0; m < rounds; m++) {
    const points = round(m, size);
    const before = cpuMs();
    const body = new TextEncoder().encode(encodeMetricPoints(points));
    await spool.put({ kind: "metrics", body, count: points.length });
    cpu += cpuMs() - before;
    bytes += body.length;
  }
  const wall = performance.now() - wallStart;
  await spool.close();
  gc();
  return {
    putCpuMs: cpu / rounds,
    putWallMs: wall / rounds,
    bodyBytes: bytes / rounds,
    onDisk: spool.stats().bytesOnDisk,
    rssBefore,
    rssHolding: Deno.memoryUsage().rss,
  };
}

/** Phase 2, in its own process: replays the spool and drains it to the API at `url`. */
async function drain(dir: string, url: string) {
  gc();
  const rssStart = Deno.memoryUsage().rss;
  const replayStart = performance.now();
  const { spool } = await openSpool({ dir, ...SPOOL });
  const replayMs = performance.now() - replayStart;
  gc();
  const rssReplayed = Deno.memoryUsage().rss;
  const points = spool.entries().reduce((n, e) => n + e.count, 0);
  const client = createMackerelClient({
    apibase: url,
    apikey: "bench",
    version: "bench",
    revision: "bench",
  });
  const outbox = createOutbox({
    spool,
    client,
    postDelaySeconds: 0,
    minuteMs: MINUTE_MS,
    clock: realClock,
    checkCount: 0,
  });
  let peak = rssReplayed;
  const stop = new AbortController();
  const cpuBefore = cpuMs();
  const start = performance.now();
  const running = outbox.run(stop.signal, new AbortController().signal);
  while (spool.entries().length > 0) {
    peak = Math.max(peak, Deno.memoryUsage().rss);
    await sleep(25);
  }
  const wallMs = performance.now() - start;
  const cpu = cpuMs() - cpuBefore;
  stop.abort();
  await running;
  client.close();
  gc();
  const { rss: rssAfter, heapUsed: heapAfter } = Deno.memoryUsage();
  return {
    points,
    replayMs,
    rssStart,
    rssReplayed,
    peak,
    rssAfter,
    heapAfter,
    wallMs,
    cpuPer1000: cpu / points * 1000,
  };
}

/** Runs this script's `phase` in a new process and returns what it printed (one JSON line). */
async function phase(...args: string[]): Promise<Record<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      `--v8-flags=--expose-gc,${V8_FLAGS}`,
      import.meta.filename!,
      ...args,
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`phase ${args[0]} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Starts the fake API in a process of its own, so its CPU is not counted. */
async function startFakeApi(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", new URL("./fake_api.ts", import.meta.url).pathname],
    stdout: "piped",
    stdin: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the fake API did not start");
    text += value;
  }
  return {
    url: text.trim(),
    stop: async () => {
      await child.stdin.close();
      await reader.cancel();
      await child.status;
    },
  };
}

const [mode, dirArg, arg] = Deno.args;
if (mode === "fill") {
  const [rounds, size] = arg.split("x").map(Number);
  console.log(JSON.stringify(await fill(dirArg, rounds, size)));
} else if (mode === "drain") {
  console.log(JSON.stringify(await drain(dirArg, arg)));
} else {
  // The last case holds a tenth of the backlog: memory must not depend on how much is held.
  for (const [rounds, size] of [[ROUNDS, 40], [ROUNDS, 400], [ROUNDS / 10, 400]]) {
    const dir = await Deno.makeTempDir({ prefix: "spool-bench-" });
    const api = await startFakeApi();
    try {
      const f = await phase("fill", dir, `${rounds}x${size}`);
      const d = await phase("drain", dir, api.url);
      const posts = Math.ceil(rounds / 2);
      console.log(`\n${rounds} rounds × ${size} points = ${rounds * size} points`);
      console.log(
        `  spool put: ${f.putCpuMs.toFixed(2)} ms CPU, ${f.putWallMs.toFixed(2)} ms wall, ` +
          `${Math.round(f.bodyBytes)} bytes and 1 fdatasync per round; ${
            mib(f.onDisk)
          } MiB on disk`,
      );
      console.log(
        `  filling: rss ${mib(f.rssBefore)} → ${mib(f.rssHolding)} MiB; after a restart: rss ${
          mib(d.rssStart)
        } → ${mib(d.rssReplayed)} MiB (replay ${d.replayMs.toFixed(0)} ms)`,
      );
      console.log(
        `  drain: ${posts} POSTs in ${d.wallMs.toFixed(0)} ms wall (${
          (posts - 1) * MINUTE_MS / 2
        } ms of it pacing), ${d.cpuPer1000.toFixed(2)} ms CPU per 1 000 points; rss peak ${
          mib(d.peak)
        } MiB, after it (and a GC) ${mib(d.rssAfter)} MiB with ${mib(d.heapAfter)} MiB of heap`,
      );
    } finally {
      await api.stop();
      await Deno.remove(dir, { recursive: true });
    }
  }
}
