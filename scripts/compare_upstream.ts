/**
 * This agent as shipped beside upstream mackerel-agent, in the same window on the same machine, at
 * the real minute, both posting to one fake API on loopback (issue 19). "As shipped" is the release
 * bundle (`buildReleaseBundle`: `main.js` and its chunks, the files `deno compile` embeds) run under
 * the binary's V8 flags.
 *
 * Every agent's CPU is its process tree's (utime + stime of the agent and of its live children,
 * plus cutime + cstime of what it reaped: plugins count), read at the same second of every minute,
 * and, where a control group can be made (root), the same tree's exact figure from its group
 * (`scripts/cgroup_cpu.ts`: nanoseconds where the other is whole 10 ms ticks),
 * half a minute away from the rounds; RSS is the agent's own VmRSS, read every second. The table
 * gives CPU per minute over the window, the range of single minutes, RSS median and peak, and
 * each agent's ratio to upstream's.
 *
 * ```sh
 * deno task compare-upstream --upstream=/path/to/mackerel-agent --minutes=10
 * MACKEREL_AGENT_UPSTREAM=/path/to/mackerel-agent deno task compare-upstream --plugins
 * ```
 *
 * Flags: `--upstream=FILE` (or `MACKEREL_AGENT_UPSTREAM`; upstream is never part of this repository),
 * `--minutes=10` (the window), `--warmup=120` (seconds after every agent registered),
 * `--plugins` (10 metric and 3 check plugins, the real ones in `--plugins-dir`, default
 * `MACKEREL_PLUGINS_DIR` or `/tmp/plugins/bin`), `--variant=NAME=FLAGS` (repeatable: one more
 * agent from the same bundle with these `deno run` flags instead of the binary's V8 flags, e.g.
 * `--variant="max-lazy=--v8-flags=--lite-mode,--max-lazy"`), `--against=[NAME=]FILE.js`
 * (repeatable: one more agent from another bundle, e.g. another checkout's `dist/.build/bundle/main.js`
 * or an older single-file bundle, under the binary's V8 flags), `--bundle=FILE.js` (measure this
 * bundle's `main.js` instead of building one; chunks are taken from beside it), `--raw=FILE` (every sample, as JSON), `--first-start` (no code-cache run
 * before the window: the agents hold what a binary holds at its very first start).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { startFakeMackerel } from "../tests/support/fake_mackerel.ts";
import { waitFor } from "../tests/support/wait.ts";
import { abortableSleep as sleep } from "../src/async/clock.ts";
import { buildReleaseBundle, copyBundle, lookupRevision, REPO_ROOT } from "./compile.ts";
import { V8_FLAGS } from "./compile_targets.ts";
import { type CpuGroup, openCpuGroup } from "./cgroup_cpu.ts";
import { signalChild, undoOnInterrupt } from "./interrupt.ts";
import { loadAverage, machineLine, median, mib, ms, sampleProc, treeCpuMs } from "./bench_procs.ts";

const { values: flags } = parseArgs({
  args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
  options: {
    upstream: { type: "string", default: Deno.env.get("MACKEREL_AGENT_UPSTREAM") },
    minutes: { type: "string", default: "10" },
    warmup: { type: "string", default: "120" },
    plugins: { type: "boolean", default: false },
    "plugins-dir": {
      type: "string",
      default: Deno.env.get("MACKEREL_PLUGINS_DIR") ?? "/tmp/plugins/bin",
    },
    variant: { type: "string", multiple: true, default: [] },
    against: { type: "string", multiple: true, default: [] },
    bundle: { type: "string" },
    raw: { type: "string" },
    "first-start": { type: "boolean", default: false },
  },
});

/** One line on stderr and exit 2: a usage mistake. */
function usage(message: string): never {
  console.error(`compare_upstream: ${message}`);
  Deno.exit(2);
}

const count = (name: "minutes" | "warmup", min: number) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) usage(`--${name} must be an integer >= ${min}`);
  return value;
};
const minutes = count("minutes", 1);
const warmupS = count("warmup", 0);
const upstream = flags.upstream ?? usage(
  "name upstream's executable with --upstream=FILE or MACKEREL_AGENT_UPSTREAM",
);
if (!isExecutable(upstream)) usage(`--upstream: ${upstream} is not an executable file`);

/** Whether `path` is a file with an execute bit. */
function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * 10 metric plugins and 3 check plugins, real ones: mackerel-agent-plugins and go-check-plugins.
 * Each agent gives its plugins a work directory of its own (`MACKEREL_PLUGIN_WORKDIR`), so two
 * agents never share a plugin's state file.
 */
function pluginConf(dir: string): string {
  const bin = (name: string) => {
    const path = join(dir, name);
    if (!isExecutable(path)) usage(`--plugins: ${path} is not an executable file`);
    return JSON.stringify(path);
  };
  const metric = (name: string, command: string, ...args: string[]) =>
    `[plugin.metrics.${name}]\ncommand = [${[
      bin(command),
      ...args.map((a) => JSON.stringify(a)),
    ]}]\n`;
  const check = (name: string, command: string, ...args: string[]) =>
    `[plugin.checks.${name}]\ncommand = [${[
      bin(command),
      ...args.map((a) => JSON.stringify(a)),
    ]}]\n`;
  return [
    ...["swap", "netstat", "diskstats", "proc_stat", "users"].map((type) =>
      metric(`linux_${type}`, "mackerel-plugin-linux", `-type=${type}`)
    ),
    metric("uptime", "mackerel-plugin-uptime"),
    metric("uptime2", "mackerel-plugin-uptime", "-metric-key-prefix=uptime2"),
    metric("inode", "mackerel-plugin-inode"),
    metric("multicore", "mackerel-plugin-multicore"),
    metric("conntrack", "mackerel-plugin-conntrack"),
    check("load", "check-load", "-w", "50,50,50", "-c", "100,100,100"),
    check("disk", "check-disk", "--path", "/", "-w", "5%", "-c", "2%"),
    check("procs", "check-procs", "-p", "init"),
  ].join("");
}

/** An agent in the window. */
interface Contender {
  readonly name: string;
  readonly dir: string;
  readonly child: Deno.ChildProcess;
  /** Its control group, counting its tree's CPU in ns; `undefined` where none can be made. */
  readonly group: CpuGroup | undefined;
}

const tmp = await Deno.makeTempDir({ prefix: "compare-upstream-" });
// With --raw the files are kept to be read, interrupted or not.
const removeTmp = flags.raw
  ? () => Promise.resolve()
  : undoOnInterrupt(() => Deno.remove(tmp, { recursive: true }));
const api = await startFakeMackerel({ apiKey: "compare" });
const plugins = flags.plugins ? pluginConf(flags["plugins-dir"]) : "";

/** Starts one agent with its own config, root and plugin work directory. */
async function start(name: string, command: string, args: readonly string[]): Promise<Contender> {
  const dir = join(tmp, name.replace(/\W+/g, "-"));
  await Deno.mkdir(join(dir, "plugin-work"), { recursive: true });
  const conf = join(dir, "agent.conf");
  await Deno.writeTextFile(
    conf,
    [
      `apikey = "${api.apiKey}"`,
      `apibase = "${api.url}"`,
      `root = "${join(dir, "root")}"`,
      `pidfile = "${join(dir, "agent.pid")}"`,
      `cloud_platform = "none"`,
      plugins,
    ].join("\n"),
  );
  const log = await Deno.open(join(dir, "stderr.log"), { write: true, create: true });
  const group = openCpuGroup(`compare-${name}`);
  const run = group?.wrap(command, [...args, `-conf=${conf}`]) ??
    { command, args: [...args, `-conf=${conf}`] };
  const child = new Deno.Command(run.command, {
    args: run.args,
    cwd: dir,
    env: {
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      MACKEREL_PLUGIN_WORKDIR: join(dir, "plugin-work"),
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  child.stderr.pipeTo(log.writable).catch(() => {});
  return { name, dir, child, group };
}

/** `deno run` of a bundle as the binary runs it: no config file, no lock file, these flags. */
const denoRun = (bundle: string, denoFlags: readonly string[]) => [
  "run",
  "--quiet",
  "--no-config",
  "--no-lock",
  ...denoFlags,
  "-A",
  bundle,
];

/** The host id an agent registered as, once it has. */
function hostIdOf(contender: Contender): string | undefined {
  try {
    return Deno.readTextFileSync(join(contender.dir, "root", "id")).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Rounds of `hostId` collected in [fromMs, toMs): distinct times of its `loadavg5` points. */
function rounds(hostId: string | undefined, fromMs: number, toMs: number): number {
  const times = new Set<number>();
  for (const point of api.metrics()) {
    const time = point.time * 1000;
    if (point.hostId === hostId && point.name === "loadavg5" && time >= fromMs && time < toMs) {
      times.add(point.time);
    }
  }
  return times.size;
}

/** Requests of `hostId` the fake answered with something else than 200, and their statuses. */
function refusals(hostId: string | undefined): string[] {
  return api.requests
    .filter((r) => r.status !== 200 && (r.path.includes(hostId ?? "-") || bodyHost(r.body, hostId)))
    .map((r) => `${r.method} ${r.path} ${r.status}`);
}

function bodyHost(body: unknown, hostId: string | undefined): boolean {
  const first = Array.isArray(body) ? body[0] : (body as { reports?: unknown[] })?.reports?.[0];
  const id = first as { hostId?: string; source?: { hostId?: string } } | undefined;
  return id?.hostId === hostId || id?.source?.hostId === hostId;
}

/** The next wall-clock time at `second` past a minute, at least `afterMs` from now. */
function nextMinuteAt(second: number, afterMs: number): number {
  const earliest = Date.now() + afterMs;
  const at = Math.floor(earliest / 60_000) * 60_000 + second * 1000;
  return at >= earliest ? at : at + 60_000;
}

/** Stops an agent gracefully (upstream drains its queue for up to 30 s), then for good. */
async function stopContender(c: Contender): Promise<void> {
  signalChild(c.child, "SIGTERM");
  const killer = setTimeout(() => signalChild(c.child, "SIGKILL"), 40_000);
  await c.child.status;
  clearTimeout(killer);
  c.group?.remove();
}

/** Runs the daemon of `file` until it has registered, then stops it: the code cache is written. */
async function warmUp(name: string, file: string, denoFlags: readonly string[]): Promise<void> {
  const contender = await start(name, Deno.execPath(), denoRun(file, denoFlags));
  const stop = undoOnInterrupt(() => stopContender(contender));
  try {
    await waitFor(() => hostIdOf(contender) !== undefined, `${name} registered`, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    await sleep(3_000); // the first round, with its collectors' modules
  } finally {
    await stop();
  }
}

interface Series {
  /** Tree CPU at every minute mark of the window, in ms (whole 10 ms ticks). */
  readonly cpu: number[];
  /** The same from the agent's control group (ns precision), when it has one. */
  readonly exact: number[];
  /** VmRSS every second, in KiB. */
  readonly rss: number[];
  hwm: number;
}

console.log(machineLine());
const revision = await lookupRevision();
const bundle: string | URL = flags.bundle ?? new URL(await buildReleaseBundle(revision), REPO_ROOT);
const shippedFlags = [`--v8-flags=${V8_FLAGS}`];
/** Every agent of ours: its name, its bundle and its `deno run` flags. */
const ours: { name: string; file: string | URL; denoFlags: string[] }[] = [
  { name: "shipped", file: bundle, denoFlags: shippedFlags },
  ...flags.against.map((against, i) => {
    const eq = against.indexOf("=");
    return eq > 0
      ? { name: against.slice(0, eq), file: against.slice(eq + 1), denoFlags: shippedFlags }
      : { name: `against-${i + 1}`, file: against, denoFlags: shippedFlags };
  }),
  ...flags.variant.map((variant) => {
    const eq = variant.indexOf("=");
    if (eq <= 0) usage(`--variant must be NAME=FLAGS: ${variant}`);
    const denoFlags = variant.slice(eq + 1).split(/\s+/).filter((f) => f !== "");
    return { name: variant.slice(0, eq), file: bundle, denoFlags };
  }),
];
// A copy per agent (its main.js and chunks): the code cache is kept per file, and V8 refuses one
// made under other flags.
for (const agent of ours) {
  agent.file = await copyBundle(agent.file, join(tmp, "bundles", agent.name.replace(/\W+/g, "-")));
}
if (!flags["first-start"]) {
  // A compiled binary writes its V8 code cache at its first start and reads it at every later
  // one; the first start holds some 10 MiB more for its whole life. Each bundle runs the daemon
  // once first (until it has registered, then a graceful stop), so that the window measures every
  // later start: the daemon's chunks are in the cache too, not only main.js (as `version` leaves it).
  for (const { name, file, denoFlags } of ours) {
    await warmUp(`warm-${name}`, String(file), denoFlags);
  }
}
const contenders: Contender[] = [];
/** Stops every agent, once: before the report, or on an interrupt, or in the `finally` below. */
const stopAll = undoOnInterrupt(async () => {
  await Promise.all(contenders.map(stopContender));
});
try {
  contenders.push(await start("upstream", upstream, []));
  for (const { name, file, denoFlags } of ours) {
    contenders.push(await start(name, Deno.execPath(), denoRun(String(file), denoFlags)));
  }
  await waitFor(() => contenders.every((c) => hostIdOf(c) !== undefined), "every registration", {
    timeoutMs: 90_000,
    intervalMs: 100,
  });
  const hostIds = contenders.map(hostIdOf);
  const from = nextMinuteAt(30, warmupS * 1000);
  console.log(
    `${contenders.length} agents registered; the window starts at ${new Date(from).toISOString()}`,
  );
  await sleep(from - Date.now());
  const loads = [loadAverage()];
  const series: Series[] = contenders.map(() => ({ cpu: [], exact: [], rss: [], hwm: 0 }));
  const look = (minuteMark: boolean) => {
    contenders.forEach((c, i) => {
      if (minuteMark) {
        series[i].cpu.push(treeCpuMs(c.child.pid));
        if (c.group) series[i].exact.push(c.group.cpuMs());
      }
      const sample = sampleProc(c.child.pid);
      series[i].rss.push(sample.rssKb);
      series[i].hwm = sample.hwmKb;
    });
  };
  look(true);
  for (let second = 1; second <= minutes * 60; second++) {
    await sleep(from + second * 1000 - Date.now());
    look(second % 60 === 0);
    if (second % 60 === 0) loads.push(loadAverage());
  }
  const to = from + minutes * 60_000;
  // Rounds of the window are posted up to a minute later: counted once every agent has drained.
  await stopAll();
  report({ series, hostIds, loads, from, to });
  if (flags.raw) {
    await Deno.writeTextFile(
      flags.raw,
      JSON.stringify({
        from,
        to,
        loads,
        agents: contenders.map((c, i) => ({ name: c.name, ...series[i] })),
      }) + "\n",
    );
  }
} finally {
  await stopAll();
  await api.close();
  await removeTmp();
}

function report(options: {
  series: readonly Series[];
  hostIds: readonly (string | undefined)[];
  loads: readonly string[];
  from: number;
  to: number;
}): void {
  const { series, hostIds, loads, from, to } = options;
  const rows = contenders.map((c, i) => {
    const { cpu, exact, rss } = series[i];
    const perMinute = cpu.slice(1).map((v, m) => v - cpu[m]);
    const exactPerMinute = exact.length > 1 ? (exact.at(-1)! - exact[0]) / minutes : NaN;
    return {
      name: c.name,
      rounds: rounds(hostIds[i], from, to),
      cpuPerMinute: (cpu.at(-1)! - cpu[0]) / minutes,
      exactPerMinute,
      low: Math.min(...perMinute),
      high: Math.max(...perMinute),
      rssMedian: median(rss),
      rssPeak: Math.max(...rss),
      hwm: series[i].hwm,
      refused: refusals(hostIds[i]),
    };
  });
  const base = rows[0];
  console.log(
    `side by side for ${minutes} minutes from ${new Date(from).toISOString()}` +
      (flags.plugins ? ", each agent with 10 metric and 3 check plugins" : "") +
      `; load average ${loads[0]} at the start, ${loads.at(-1)} at the end`,
  );
  const widths = [12, 8, 12, 16, 12, 10, 12, 10, 10, 10, 10];
  const line = (cells: readonly string[]) =>
    console.log(
      "  " + cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(""),
    );
  // deno-fmt-ignore
  line(["", "rounds", "CPU ms/min", "single minutes", "exact ms/min", "RSS median", "RSS peak",
    "VmHWM", "CPU ÷ up", "exact ÷ up", "RSS ÷ up"]);
  for (const row of rows) {
    line([
      row.name,
      String(row.rounds),
      ms(row.cpuPerMinute, 1),
      `${ms(row.low, 0)}-${ms(row.high, 0)}`,
      Number.isNaN(row.exactPerMinute) ? "-" : ms(row.exactPerMinute, 2),
      mib(row.rssMedian),
      mib(row.rssPeak),
      mib(row.hwm),
      ms(row.cpuPerMinute / base.cpuPerMinute),
      Number.isNaN(row.exactPerMinute) ? "-" : ms(row.exactPerMinute / base.exactPerMinute),
      ms(row.rssMedian / base.rssMedian),
    ]);
  }
  console.log(
    "  CPU: utime + stime of each process tree (plugins included), in 10 ms ticks; exact: the\n" +
      "  same tree's control group (cgroup cpuacct.usage or cpu.stat, ns), where one can be made\n" +
      "  (root); RSS in MiB\n" +
      "  (VmRSS every second; VmHWM since start); rounds: those the fake API received",
  );
  for (const row of rows) {
    if (row.refused.length > 0) {
      console.log(
        `  ${row.name}: ${row.refused.length} requests not answered 200: ` +
          [...new Set(row.refused)].join(", "),
      );
    }
  }
  if (api.violations.length > 0) {
    console.log(
      `  the fake API saw ${api.violations.length} protocol violations, e.g. ` +
        api.violations.slice(0, 3).join("; "),
    );
  }
  console.log(`  per minute: ${loads.map((l) => `[${l}]`).join(" ")} load`);
  rows.forEach((row, i) => {
    const cpu = series[i].cpu;
    console.log(`  ${row.name}: ${cpu.slice(1).map((v, m) => v - cpu[m]).join(" ")} ms`);
    const exact = series[i].exact;
    if (exact.length > 1) {
      const minutes = exact.slice(1).map((v, m) => (v - exact[m]).toFixed(1));
      console.log(`  ${row.name}, exact: ${minutes.join(" ")} ms`);
    }
  });
}
