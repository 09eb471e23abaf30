/**
 * What this agent costs a host, side by side with its peers on the same machine (issue 11):
 *
 * 1. start-up: from spawning `deno run main.ts` to its first stdout line (`-stdout`), and to its
 *    first request and first post to a fake API, with a warm module cache;
 * 2. side by side for `--seconds` (default 30) after `--warmup` (default 35): this agent at `-interval 1` and at the real pace
 *    (`-interval 60`), both posting to a fake API on loopback; node_exporter scraped every second;
 *    collectd every second; an idle Deno. For each: CPU per unit of work (a round, a scrape, a
 *    collectd interval) and per minute, from /proc/<pid>/stat utime + stime, and VmRSS and VmHWM,
 *    with the agent's figures as ratios of each peer's;
 * 3. `--soak=N`: only the agent at `-interval 1` for N rounds after `--soak-warmup` rounds,
 *    printing VmRSS as it goes and its growth over the N rounds (with `--bundle`, the agent
 *    bundled as the release binary is, under its V8 flags; with `--plugins`, running them).
 *
 * node_exporter (Debian's prometheus-node-exporter) and collectd (collectd-core) are used when
 * installed; `.ci/packages` installs them. The fake API runs in this process, whose own CPU is not
 * counted. Nothing leaves loopback: the agents run with `cloud_platform = "none"`.
 *
 * Run with `deno task compare`; flags after `--`: `--seconds=300` (a longer window), `--soak=10000`,
 * `--plugins` (the agents run 10 metric and 3 check plugins), `--starts=0` (no start-up phase),
 * `--agents-only` (no peers), `--conf=FILE` (appended to the agents' config), `--against=/other/checkout/main.ts` (two more agents from another
 * checkout in the same window: a before/after comparison on equal terms), `--against-flags="--v8-flags=--lite-mode"`
 * (those two agents run with these `deno run` flags; without `--against`, from this checkout),
 * `--bundle` (those two agents run this checkout bundled as the release binary is),
 * `--against-otlp=http/protobuf` or `=grpc` (those two agents run this checkout with `[otlp]` on,
 * sending to an OTLP receiver in this process: the cost of `[otlp]`, off and on in one window).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { startFakeMackerel } from "../tests/support/fake_mackerel.ts";
import { startOtlpGrpcReceiver, startOtlpHttpReceiver } from "../tests/support/otlp_receivers.ts";
import { waitFor } from "../tests/support/wait.ts";
import { bundleOne } from "./compile.ts";
import { undoOnInterrupt } from "./interrupt.ts";
import { abortableSleep as sleep } from "../src/async/clock.ts";
import { machineLine, median, mib, ms, type ProcSample, sampleProc } from "./bench_procs.ts";
import {
  COLLECTD,
  installed,
  NODE_EXPORTER,
  type Peer,
  startAgent,
  startCollectd,
  startIdleDeno,
  startNodeExporter,
} from "./bench_peers.ts";

const { values: flags } = parseArgs({
  // `deno task compare -- --soak=10` passes the `--` on; flags work with it or without.
  args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
  options: {
    seconds: { type: "string", default: "30" },
    // Past V8's memory reducer (a major GC about 30 s after start) and most of the tier-up.
    warmup: { type: "string", default: "35" },
    starts: { type: "string", default: "3" },
    soak: { type: "string", default: "0" },
    // RSS climbs for the first quarter hour at -interval 1 (V8's tier-up, its heap sizing).
    "soak-warmup": { type: "string", default: "900" },
    plugins: { type: "boolean", default: false },
    against: { type: "string" },
    "against-flags": { type: "string" },
    bundle: { type: "boolean", default: false },
    "against-otlp": { type: "string" },
    conf: { type: "string" },
    "agents-only": { type: "boolean", default: false },
  },
});
const count = (name: keyof typeof flags, min: number) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`--${name} must be an integer ≥ ${min}: ${flags[name]}`);
  }
  return value;
};
const seconds = count("seconds", 1);
const warmup = count("warmup", 1);
const starts = count("starts", 0);
const soak = count("soak", 0);
const soakWarmup = count("soak-warmup", 0);

/** 10 metric plugins and 3 check plugins, small shell ones, as issue 11's plugin figure. */
const PLUGINS = [
  ...Array.from({ length: 10 }, (_, i) =>
    `[plugin.metrics.p${i}]\ncommand = ["/bin/sh", "-c", ` +
    `"printf 'p${i}.a\\\\t%d\\\\t%d\\\\np${i}.b\\\\t%d\\\\t%d\\\\n' 1 $(date +%s) 2 $(date +%s)"]\n`),
  ...Array.from({ length: 3 }, (_, i) => `[plugin.checks.c${i}]\ncommand = ["/bin/true"]\n`),
].join("");
const conf = (flags.plugins ? PLUGINS : "") +
  (flags.conf ? `\n${await Deno.readTextFile(flags.conf)}` : "");

const tmp = await Deno.makeTempDir({ prefix: "compare-peers-" });
const removeTmp = undoOnInterrupt(() => Deno.remove(tmp, { recursive: true }));
const api = await startFakeMackerel({ apiKey: "compare" });

/** The id the agent in `dir` registered as, once it has. */
async function hostIdOf(dir: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(join(dir, "root", "id"))).trim();
  } catch {
    return undefined;
  }
}

/** Rounds the API received from `hostId` (distinct point times), and the time of the first post. */
function received(hostId: string | undefined): { rounds: number; firstPost?: number } {
  const times = new Set<number>();
  let firstPost: number | undefined;
  for (const request of api.requests) {
    if (request.path !== "/api/v0/tsdb" || request.status !== 200) continue;
    const points = request.body as { hostId: string; time: number }[];
    if (points[0]?.hostId !== hostId) continue;
    firstPost ??= request.time;
    for (const p of points) times.add(p.time);
  }
  return { rounds: times.size, firstPost };
}

/** A posting agent: `work()` counts the rounds the API got from it once it has registered. */
interface PostingPeer extends Peer {
  /** Whether it has registered. */
  registered(): Promise<boolean>;
  /** Whether it has registered and posted at least once. */
  posted(): Promise<boolean>;
}

async function postingAgent(
  name: string,
  interval: number,
  main?: string,
  denoFlags?: string[],
  extraConf = "",
): Promise<PostingPeer> {
  const dir = join(tmp, name.replace(/\W+/g, "-"));
  const peer = await startAgent({
    name,
    dir,
    interval,
    api,
    conf: conf + extraConf,
    main,
    denoFlags,
  });
  let hostId: string | undefined;
  const work = () => received(hostId).rounds;
  const registered = async () => (hostId ??= await hostIdOf(dir)) !== undefined;
  return { ...peer, work, registered, posted: async () => await registered() && work() > 0 };
}

/** An `[otlp]` table sending to a receiver started in this process (its CPU is not counted). */
async function otlpConf(protocol: string): Promise<string> {
  if (protocol !== "grpc" && protocol !== "http/protobuf") {
    throw new RangeError(`--against-otlp must be grpc or http/protobuf: ${protocol}`);
  }
  const receiver = protocol === "grpc"
    ? await startOtlpGrpcReceiver()
    : await startOtlpHttpReceiver();
  console.log(`against: [otlp] on, ${protocol} to a receiver in this process (${receiver.url})`);
  return `\n[otlp]\nendpoint = "${receiver.url}"\nprotocol = "${protocol}"\n`;
}

/** Polls `ok` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
const waitUntil = (what: string, timeoutMs: number, ok: () => Promise<boolean> | boolean) =>
  waitFor(ok, what, { timeoutMs, intervalMs: 20 });

/** Phase 1: start-up times, the first run (cache warm-up) left out. */
async function measureStartup(): Promise<void> {
  const toLine: number[] = [];
  const toMetrics: number[] = [];
  const toRequest: number[] = [];
  const toPost: number[] = [];
  for (let run = 0; run <= starts; run++) {
    const started = Date.now();
    let host: number | undefined;
    let metrics: number | undefined;
    const printing = await startAgent({
      name: "stdout",
      dir: join(tmp, `start-stdout-${run}`),
      interval: 1,
      conf,
      onLine: (line) => {
        host ??= Date.now() - started;
        if (line.startsWith('{"metrics"')) metrics ??= Date.now() - started;
      },
    });
    await waitUntil("the first metrics line", 30_000, () => metrics !== undefined);
    await printing.stop();
    const dir = join(tmp, `start-post-${run}`);
    const before = api.requests.length;
    const postStarted = Date.now();
    const posting = await startAgent({ name: "post", dir, interval: 1, api, conf });
    let firstPost: number | undefined;
    await waitUntil("the first post", 30_000, async () => {
      const id = await hostIdOf(dir);
      firstPost = id ? received(id).firstPost : undefined;
      return firstPost !== undefined;
    });
    await posting.stop();
    if (run === 0) continue;
    toLine.push(host!);
    toMetrics.push(metrics!);
    toRequest.push(api.requests[before].time - postStarted);
    toPost.push(firstPost! - postStarted);
  }
  console.log(`start-up, median of ${starts} runs with a warm module cache (ms):`);
  console.log(
    `  -stdout: first line (host spec) ${median(toLine)}, first metrics line ` +
      `${median(toMetrics)}`,
  );
  console.log(
    `  posting: first request (registration) ${median(toRequest)}, first post ` +
      `${median(toPost)} (after the first round and the post delay)`,
  );
}

/** node_exporter and collectd where installed, and an idle Deno. */
async function startPeers(): Promise<Peer[]> {
  const peers: Peer[] = [];
  if (installed(NODE_EXPORTER)) peers.push(await startNodeExporter(1000));
  else console.log("node_exporter: not installed (apt-get install prometheus-node-exporter)");
  if (installed(COLLECTD)) peers.push(await startCollectd(join(tmp, "collectd"), 1));
  else console.log("collectd: not installed (apt-get install collectd-core)");
  peers.push(startIdleDeno());
  return peers;
}

/** Phase 2: every peer side by side for `seconds`. */
async function measureSideBySide(): Promise<void> {
  const fast = await postingAgent("agent -interval 1", 1);
  const slow = await postingAgent("agent -interval 60", 60);
  const peers: Peer[] = [fast, slow];
  const others: PostingPeer[] = [];
  if (flags.against || flags["against-flags"] || flags.bundle || flags["against-otlp"]) {
    const denoFlags = flags["against-flags"]?.split(/\s+/).filter((f) => f !== "");
    const otlp = flags["against-otlp"] ? await otlpConf(flags["against-otlp"]) : "";
    let main = flags.against;
    if (flags.bundle) {
      main = await bundleOne({ entry: "main.ts", outDir: join(tmp, "bundle") });
    }
    others.push(
      await postingAgent("against -interval 1", 1, main, denoFlags, otlp),
      await postingAgent("against -interval 60", 60, main, denoFlags, otlp),
    );
    peers.push(...others);
  }
  if (!flags["agents-only"]) peers.push(...await startPeers());
  try {
    await waitUntil(
      "the agents' first posts",
      90_000,
      async () =>
        await fast.posted() && await slow.registered() &&
        (await Promise.all(others.map((o) => o.registered()))).every(Boolean),
    );
    await sleep(warmup * 1000);
    const before = peers.map((p) => ({ sample: sampleProc(p.pid), work: p.work() }));
    await sleep(seconds * 1000);
    const after = peers.map((p) => ({ sample: sampleProc(p.pid), work: p.work() }));
    report(peers, before, after);
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
}

interface Look {
  readonly sample: ProcSample;
  readonly work: number;
}

function report(peers: readonly Peer[], before: readonly Look[], after: readonly Look[]): void {
  const rows = peers.map((peer, i) => {
    const window = (after[i].sample.at - before[i].sample.at) / 1000;
    const cpu = after[i].sample.cpuMs - before[i].sample.cpuMs;
    const work = after[i].work - before[i].work;
    return {
      name: peer.name,
      work,
      perUnit: work > 0 ? cpu / work : undefined,
      // One round a minute: a window of less than a few minutes holds 0 or 1 of them.
      perMinute: peer.name.endsWith("-interval 60") && window < 180 ? undefined : cpu * 60 / window,
      rss: after[i].sample.rssKb,
      hwm: after[i].sample.hwmKb,
    };
  });
  const agent = rows[0];
  console.log(
    `side by side for ${seconds} s after ${warmup} s of warm-up` +
      `${flags.plugins ? ", the agents with 10 metric and 3 check plugins" : ""}:`,
  );
  const widths = [20, 7, 13, 12, 9, 9, 17, 12];
  const line = (cells: readonly string[]) =>
    console.log(
      "  " + cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(""),
    );
  // deno-fmt-ignore
  line(["", "units", "CPU ms/unit", "CPU ms/min", "RSS MiB", "HWM MiB", "agent÷ CPU/unit",
    "agent÷ RSS"]);
  for (const row of rows) {
    line([
      row.name,
      String(row.work),
      row.perUnit === undefined ? "–" : ms(row.perUnit),
      row.perMinute === undefined ? "–" : ms(row.perMinute, 1),
      mib(row.rss),
      mib(row.hwm),
      row.perUnit && agent.perUnit ? ms(agent.perUnit / row.perUnit) : "–",
      ms(agent.rss / row.rss),
    ]);
  }
  console.log(
    "  units: rounds the API received (agents), scrapes (node_exporter), intervals (collectd);\n" +
      "  CPU is utime + stime in 10 ms ticks; at the real pace (-interval 60) it needs a window of a\n" +
      "  few minutes (--seconds=300 --warmup=70) and is left out of shorter ones",
  );
}

/** Phase 3: RSS of the agent at `-interval 1` over `soak` rounds after `soakWarmup`. */
async function measureSoak(): Promise<void> {
  const main = flags.bundle
    ? await bundleOne({ entry: "main.ts", outDir: join(tmp, "bundle") })
    : undefined;
  const agent = await postingAgent(flags.bundle ? "bundle soak" : "agent soak", 1, main);
  try {
    await waitUntil("the agent's first post", 30_000, () => agent.posted());
    const started = performance.now();
    const at = (round: number) => sleep(Math.max(0, started + round * 1000 - performance.now()));
    await at(soakWarmup);
    const first = sampleProc(agent.pid);
    const series: ProcSample[] = [first];
    const step = Math.max(1, Math.floor(soak / 20));
    for (let round = step; round <= soak; round += step) {
      await at(soakWarmup + round);
      const sample = sampleProc(agent.pid);
      series.push(sample);
      console.log(`  round ${round}: RSS ${mib(sample.rssKb)} MiB, HWM ${mib(sample.hwmKb)} MiB`);
    }
    const last = series.at(-1)!;
    // RSS saws up and down with V8's collections: compare halves, not two single samples, and
    // the peak (VmHWM), which only grows, over the second half.
    const half = Math.floor(series.length / 2);
    const rss = (xs: ProcSample[]) => median(xs.map((x) => x.rssKb));
    console.log(
      `soak: ${soak} rounds at -interval 1 after ${soakWarmup} rounds of warm-up: median RSS ` +
        `${mib(rss(series.slice(0, half)))} MiB in the first half, ` +
        `${mib(rss(series.slice(half)))} MiB in the second; VmHWM ${mib(series[half].hwmKb)} → ` +
        `${mib(last.hwmKb)} MiB over the second half; RSS ${mib(first.rssKb)} → ` +
        `${mib(last.rssKb)} MiB; CPU ${ms((last.cpuMs - first.cpuMs) / soak)} ms per round`,
    );
  } finally {
    await agent.stop();
  }
}

console.log(machineLine());
try {
  if (soak > 0) {
    await measureSoak();
  } else {
    if (starts > 0) await measureStartup();
    await measureSideBySide();
  }
} finally {
  await api.close();
  await removeTmp();
}
