/**
 * The processes compare_peers.ts runs side by side: this agent (posting to a fake API, or printing
 * with `-stdout`), node_exporter scraped every second, collectd sending to a UDP socket, and an
 * idle Deno as the runtime's floor. Each is a child with a pid to sample and a `stop()`.
 *
 * @module
 */
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { V8_FLAGS } from "./compile_targets.ts";
import { signalChild, stoppedOnInterrupt } from "./interrupt.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A child process under measurement. */
export interface Peer {
  readonly name: string;
  readonly pid: number;
  /** Units of work done so far: rounds posted or printed, scrapes, packets. */
  work(): number;
  stop(): Promise<void>;
}

/** Options of {@linkcode startAgent}. */
export interface AgentOptions {
  readonly name: string;
  /** A directory of its own (config, root, pidfile). */
  readonly dir: string;
  /** `-interval`, in seconds. */
  readonly interval: number;
  /** The fake API to post to; without it the agent runs with `-stdout`. */
  readonly api?: { readonly url: string; readonly apiKey: string };
  /** Extra config text (plugins). */
  readonly conf?: string;
  /** Called with each stdout line (`-stdout` only). */
  readonly onLine?: (line: string) => void;
  /** `deno run` flags; by default the V8 flags the release binary is built with. */
  readonly denoFlags?: readonly string[];
  /** The entry script: this checkout's `main.ts` by default (another one, to compare two builds). */
  readonly main?: string;
}

/** Starts `deno run -A main.ts` as a daemon; `cloud_platform = "none"`, so nothing leaves loopback. */
export async function startAgent(options: AgentOptions): Promise<Peer> {
  const { dir, api } = options;
  await Deno.mkdir(dir, { recursive: true });
  const conf = join(dir, "agent.conf");
  await Deno.writeTextFile(conf, `cloud_platform = "none"\n${options.conf ?? ""}`);
  const args = [
    `-conf=${conf}`,
    `-root=${join(dir, "root")}`,
    `-pidfile=${join(dir, "agent.pid")}`,
    `-interval=${options.interval}`,
    ...(api ? [`-apibase=${api.url}`, `-apikey=${api.apiKey}`] : ["-stdout"]),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...(options.denoFlags ?? [`--v8-flags=${V8_FLAGS}`]),
      "-A",
      options.main ?? MAIN,
      ...args,
    ],
    // A compiled agent (what ships) has no update check; `deno run` would fetch one at start.
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: api ? "null" : "piped",
    stderr: "null",
  }).spawn();
  let lines = 0;
  const reading = api ? Promise.resolve() : (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        if (line.startsWith('{"metrics"')) lines++;
        options.onLine?.(line);
      }
    }
  })();
  return stoppedOnInterrupt({
    name: options.name,
    pid: child.pid,
    work: () => lines,
    stop: async () => {
      signalChild(child, "SIGTERM");
      const killer = setTimeout(() => signalChild(child, "SIGKILL"), 30_000);
      await Promise.all([child.status, reading]);
      clearTimeout(killer);
    },
  });
}

/** A free loopback TCP port. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Where Debian installs node_exporter and collectd. */
export const NODE_EXPORTER = "/usr/bin/prometheus-node-exporter";
export const COLLECTD = "/usr/sbin/collectd";

/** Whether an executable exists. */
export function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * node_exporter with the collectors closest to mackerel-agent's metrics, scraped every `everyMs`
 * by this process over one kept-alive loopback connection (the scraper's CPU is not counted).
 */
export async function startNodeExporter(everyMs: number): Promise<Peer> {
  const port = freePort();
  const collectors = ["cpu", "meminfo", "loadavg", "diskstats", "netdev", "filesystem"];
  const child = new Deno.Command(NODE_EXPORTER, {
    args: [
      `--web.listen-address=127.0.0.1:${port}`,
      "--collector.disable-defaults",
      ...collectors.map((c) => `--collector.${c}`),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}/metrics`;
  const stopping = new AbortController();
  let scrapes = 0;
  const scrape = async () => {
    const response = await fetch(url, { signal: stopping.signal });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`node_exporter answered ${response.status}`);
    scrapes++;
  };
  // Wait for it to listen: up to 5 s.
  for (let i = 0;; i++) {
    try {
      await scrape();
      break;
    } catch (error) {
      if (i >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const loop = (async () => {
    let next = performance.now();
    while (!stopping.signal.aborted) {
      next += everyMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
      if (!stopping.signal.aborted) await scrape().catch(() => {});
    }
  })();
  return stoppedOnInterrupt({
    name: "node_exporter",
    pid: child.pid,
    work: () => scrapes,
    stop: async () => {
      stopping.abort();
      await loop;
      signalChild(child, "SIGTERM");
      await child.status;
    },
  });
}

/**
 * collectd with the plugins matching mackerel-agent's metrics, every `intervalS` seconds, sending
 * its values with the network plugin to a UDP socket of this process (as an agent sends them on).
 */
export async function startCollectd(dir: string, intervalS: number): Promise<Peer> {
  await Deno.mkdir(dir, { recursive: true });
  // Its values arrive in packets of several intervals each: the unit counted is the interval, and
  // the packets only show that it works.
  const socket = createSocket("udp4");
  let packets = 0;
  socket.on("message", () => packets++);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  const conf = join(dir, "collectd.conf");
  await Deno.writeTextFile(
    conf,
    [
      `Interval ${intervalS}`,
      `BaseDir "${dir}"`,
      `PIDFile "${join(dir, "collectd.pid")}"`,
      `PluginDir "/usr/lib/collectd"`,
      `TypesDB "/usr/share/collectd/types.db"`,
      `Hostname "bench"`,
      `FQDNLookup false`,
      ...["cpu", "memory", "load", "disk", "interface", "df", "network"].map((p) =>
        `LoadPlugin ${p}`
      ),
      `<Plugin cpu>\n  ReportByCpu false\n  ValuesPercentage true\n</Plugin>`,
      `<Plugin network>\n  Server "127.0.0.1" "${port}"\n</Plugin>`,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(COLLECTD, {
    args: ["-f", "-C", conf],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const started = performance.now();
  return stoppedOnInterrupt({
    name: "collectd",
    pid: child.pid,
    work: () => packets > 0 ? Math.floor((performance.now() - started) / (intervalS * 1000)) : 0,
    stop: async () => {
      signalChild(child, "SIGTERM");
      await child.status;
      socket.close();
    },
  });
}

/** An idle Deno with a 1 s timer: the runtime's floor. */
export function startIdleDeno(): Peer {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "setInterval(() => {}, 1000)"],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return stoppedOnInterrupt({
    name: "idle deno",
    pid: child.pid,
    work: () => 0,
    stop: async () => {
      signalChild(child, "SIGTERM");
      await child.status;
    },
  });
}
