/**
 * Benchmark of issue "Delivery": after a simulated one-hour outage (60 batches of a typical host's
 * points), the wall time to deliver everything to the fake API on loopback, and the memory the
 * backlog holds. Run with `deno task bench` (or `deno run -A scripts/drain_backlog.ts`).
 *
 * The queue keeps upstream's pacing (two batches per POST, half a minute apart while a backlog
 * exists); the agent's minute is shrunk to 60 ms here so the pacing costs 0.9 s in all and the
 * figure shows the work of encoding, posting and decoding.
 *
 * @module
 */
import { createPostQueue } from "../src/delivery/queue.ts";
import { createPoster } from "../src/delivery/poster.ts";
import { realClock } from "../src/async/clock.ts";
import { createMackerelClient } from "../src/mackerel/client.ts";
import { isNetworkError } from "../src/mackerel/errors.ts";
import type { MetricPoint } from "../src/mackerel/types.ts";
import { startFakeMackerel } from "../tests/support/fake_mackerel.ts";

const BATCHES = 60;
/** A 4-CPU host with 2 disks, 2 interfaces and 2 filesystems sends about this many points a minute. */
const POINTS_PER_BATCH = 40;
const MINUTE_MS = 60;

function batch(minute: number): MetricPoint[] {
  const time = 1_764_000_000 + minute * 60;
  return Array.from({ length: POINTS_PER_BATCH }, (_, i) => ({
    hostId: "3yAQ2ctKe6t",
    name: `metric.${i}.value`,
    time,
    value: Math.random() * 100,
  }));
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

(globalThis as { gc?: () => void }).gc?.();
const before = Deno.memoryUsage();
const api = await startFakeMackerel();
const client = createMackerelClient({
  apibase: api.url,
  apikey: api.apiKey,
  version: "bench",
  revision: "bench",
});
const queue = createPostQueue({ postDelaySeconds: 0, minuteMs: MINUTE_MS });
for (let minute = 0; minute < BATCHES; minute++) queue.enqueue(batch(minute));
const holding = Deno.memoryUsage();

const stop = new AbortController();
const poster = createPoster({
  queue,
  post: (points, signal) => client.postMetrics(points, signal),
  isNetworkError,
  signal: stop.signal,
  clock: realClock,
});
const started = performance.now();
const running = poster.run();
while (api.metrics().length < BATCHES * POINTS_PER_BATCH) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const elapsed = performance.now() - started;
stop.abort();
await running;
client.close();
await api.close();

const posts = api.requests.filter((r) => r.path === "/api/v0/tsdb").length;
const pacing = (posts - 1) * MINUTE_MS / 2;
console.log(
  `backlog: ${BATCHES} batches × ${POINTS_PER_BATCH} points = ${BATCHES * POINTS_PER_BATCH} points`,
);
console.log(
  `delivered in ${posts} POSTs, ${
    elapsed.toFixed(0)
  } ms wall (${pacing} ms of it is the queue's pacing)`,
);
console.log(`work per POST: ${((elapsed - pacing) / posts).toFixed(2)} ms`);
console.log(
  `memory while holding the backlog: rss ${mib(holding.rss)} MiB, heap ${
    mib(holding.heapUsed)
  } MiB ` +
    `(heap +${mib(holding.heapUsed - before.heapUsed)} MiB over the empty process)`,
);
const full = createPostQueue({ postDelaySeconds: 0 });
for (let minute = 0; minute < full.capacity; minute++) full.enqueue(batch(minute));
const atBound = Deno.memoryUsage();
console.log(
  `memory at the bound (${full.capacity} batches, ${full.pointCount} points): heap ${
    mib(atBound.heapUsed)
  } MiB, rss ${mib(atBound.rss)} MiB`,
);
