/**
 * Where an agent's minute goes at the real pace: runs this agent as shipped (the release bundle
 * under the binary's V8 flags) against the fake API for `--minutes` after `--warmup` seconds, reads
 * every thread's CPU time (`/proc/<pid>/task/<tid>/schedstat`, in nanoseconds, not 10 ms ticks)
 * ten times a second, and prints CPU per minute by thread and by second of the minute: the round
 * at :00, the post at the host's second, and every other wake-up in between.
 *
 * ```sh
 * deno run -A scripts/profile_minute.ts --minutes=5 [--bundle=main.js] [--flags="--v8-flags=..."]
 * ```
 *
 * A thread that starts and ends between two reads (a blocking-pool thread lives 10 s) is missed;
 * one seen first mid-life counts from its first read on.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { startFakeMackerel } from "../tests/support/fake_mackerel.ts";
import { waitFor } from "../tests/support/wait.ts";
import { abortableSleep as sleep } from "../src/async/clock.ts";
import { startAgent } from "./bench_peers.ts";
import { undoOnInterrupt } from "./interrupt.ts";
import { buildReleaseBundle, copyBundle, lookupRevision, REPO_ROOT } from "./compile.ts";
import { V8_FLAGS } from "./compile_targets.ts";
import { machineLine } from "./bench_procs.ts";

const { values: flags } = parseArgs({
  args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
  options: {
    minutes: { type: "string", default: "5" },
    warmup: { type: "string", default: "90" },
    bundle: { type: "string" },
    flags: { type: "string", default: `--v8-flags=${V8_FLAGS}` },
  },
});
const minutes = Number(flags.minutes);
const warmupS = Number(flags.warmup);
if (!Number.isInteger(minutes) || minutes < 1) throw new RangeError("--minutes must be >= 1");
if (!Number.isInteger(warmupS) || warmupS < 0) throw new RangeError("--warmup must be >= 0");

/** CPU nanoseconds of each live thread of `pid`, with its name; the main thread's tid is `pid`. */
function threads(pid: number): Map<number, { name: string; ns: number }> {
  const out = new Map<number, { name: string; ns: number }>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    const tid = Number(entry.name);
    try {
      const ns = Number(Deno.readTextFileSync(`/proc/${pid}/task/${tid}/schedstat`).split(" ")[0]);
      const comm = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/comm`).trim();
      out.set(tid, { name: tid === pid ? `${comm} (main)` : comm, ns });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

console.log(machineLine());
const tmp = await Deno.makeTempDir({ prefix: "profile-minute-" });
const removeTmp = undoOnInterrupt(() => Deno.remove(tmp, { recursive: true }));
const api = await startFakeMackerel({ apiKey: "profile" });
// A copy of the bundle (main.js and its chunks), whose code cache is this run's own.
const bundle = await copyBundle(
  flags.bundle ?? new URL(await buildReleaseBundle(await lookupRevision()), REPO_ROOT),
  join(tmp, "bundle"),
);
const agent = await startAgent({
  name: "agent",
  dir: join(tmp, "agent"),
  interval: 60,
  api,
  main: bundle,
  denoFlags: ["--no-config", "--no-lock", ...flags.flags.split(/\s+/).filter((f) => f !== "")],
});
try {
  await waitFor(
    () => api.requests.some((r) => r.path === "/api/v0/tsdb"),
    "the first post",
    { timeoutMs: 150_000, intervalMs: 200 },
  );
  await sleep(warmupS * 1000);
  const byThread = new Map<string, number>();
  const bySecond = Array.from({ length: 60 }, () => new Map<string, number>());
  let last = threads(agent.pid);
  const end = Date.now() + minutes * 60_000;
  while (Date.now() < end) {
    await sleep(100);
    const now = threads(agent.pid);
    const second = new Date().getUTCSeconds();
    for (const [tid, { name, ns }] of now) {
      const spent = ns - (last.get(tid)?.ns ?? ns);
      if (spent <= 0) continue;
      byThread.set(name, (byThread.get(name) ?? 0) + spent);
      bySecond[second].set(name, (bySecond[second].get(name) ?? 0) + spent);
    }
    last = now;
  }
  const perMinute = (ns: number) => (ns / 1e6 / minutes).toFixed(2);
  const total = [...byThread.values()].reduce((a, b) => a + b, 0);
  console.log(`CPU per minute over ${minutes} minutes at the real pace: ${perMinute(total)} ms`);
  for (const [name, ns] of [...byThread].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${name.padEnd(24)} ${perMinute(ns).padStart(7)} ms`);
  }
  console.log("by second of the minute (ms per minute; seconds under 0.02 ms left out):");
  bySecond.forEach((threads, second) => {
    const sum = [...threads.values()].reduce((a, b) => a + b, 0);
    if (sum / 1e6 / minutes < 0.02) return;
    const parts = [...threads].map(([name, ns]) => `${name} ${perMinute(ns)}`).join(", ");
    console.log(`  :${String(second).padStart(2, "0")} ${perMinute(sum).padStart(6)}  (${parts})`);
  });
} finally {
  await agent.stop();
  await api.close();
  await removeTmp();
}
