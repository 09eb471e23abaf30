/**
 * Benchmarks of the collection: one full round on the live /proc and /sys (upstream's set, and
 * with every opt-in collector on), each collector's cost per round on its own, the host spec, and
 * one parse of each fixture. Run with `deno task bench`.
 *
 * The `tcp` collector's cost grows with the number of sockets: its group repeats it with 4 000
 * extra loopback sockets open.
 *
 * @module
 */
import { collectHostSpec } from "../src/host/description/spec.ts";
import { createSource } from "../src/host/source.ts";
import { parseCpuinfo } from "../src/host/description/cpu.ts";
import { parseMemorySpec } from "../src/host/description/memory.ts";
import { parseMounts } from "../src/host/filesystems.ts";
import type { Collector } from "../src/metrics/collector.ts";
import { COLLECTOR_KEYS, COLLECTORS, createCollectors } from "../src/metrics/registry.ts";
import { parseStat } from "../src/metrics/cpu.ts";
import { parseDiskstats } from "../src/metrics/disk.ts";
import { parseNetDev } from "../src/metrics/interface.ts";
import { parseLoadavg } from "../src/metrics/loadavg.ts";
import { parseMeminfo } from "../src/metrics/memory.ts";
import { collectRound } from "../src/metrics/round.ts";
import { parsePressure } from "../src/metrics/pressure.ts";
import { parseProcStat } from "../src/metrics/processes.ts";
import { countTcpStates, emptyTcpCounts, parseSnmp } from "../src/metrics/tcp.ts";
import { type CollectorsConfig, defaultConfig } from "../src/config/schema.ts";

const fixture = (path: string) =>
  Deno.readTextFileSync(new URL(`../tests/fixtures/${path}`, import.meta.url));

const live = createSource();
const allOn: CollectorsConfig = Object.fromEntries(COLLECTOR_KEYS.map((key) => [key, true]));
const upstream = (await createCollectors({ source: live, config: defaultConfig() })).collectors;
const everything = (await createCollectors({
  source: live,
  config: { ...defaultConfig(), collectors: allOn },
})).collectors;

// Each round is a minute after the last, so rate collectors compute a full round every time.
let timeMs = Date.now();
const round = (collectors: readonly Collector[]) =>
  collectRound(collectors, { timeMs: timeMs += 60_000 });
// A first round sets the rate collectors' baselines, so the benchmarks time full rounds.
await round(everything);

Deno.bench("collection round: upstream's collectors on the live /proc and /sys", {
  group: "round",
  baseline: true,
}, async () => {
  await round(upstream);
});

Deno.bench(
  "collection round: every collector, all opt-in ones on",
  { group: "round" },
  async () => {
    await round(everything);
  },
);

for (const collector of everything) {
  const optIn = COLLECTORS.find((d) => d.name === collector.name)?.optIn;
  Deno.bench(`collector ${collector.name}${optIn ? " (opt-in)" : ""}`, {
    group: "per collector",
  }, async () => {
    await round([collector]);
  });
}

// Loopback connections opened for the tcp group only (benchmarks run in the order declared, so
// the groups above see the machine's own sockets): 2 000 pairs, 4 000 more sockets.
const tcp = everything.find((c) => c.name === "tcp")!;
let opened: Promise<Deno.Conn[]> | undefined;
function openSockets(): Promise<Deno.Conn[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  addEventListener("unload", () => {
    listener.close();
    for (const conn of accepted) conn.close();
  });
  return Promise.all(
    Array.from(
      { length: 2000 },
      () => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    ),
  );
}
Deno.bench("collector tcp with 4 000 more sockets open", { group: "tcp sockets" }, async (b) => {
  await (opened ??= openSockets());
  b.start();
  await round([tcp]);
  b.end();
});

Deno.bench("host spec on the live machine (no cloud probing)", { group: "spec" }, async () => {
  await collectHostSpec({ source: live, roles: [], checks: [] });
});

const texts = {
  stat: fixture("procfs/x86/stat"),
  meminfo: fixture("procfs/x86/meminfo"),
  loadavg: fixture("procfs/x86/loadavg"),
  diskstats: fixture("procfs/x86/diskstats"),
  netDev: fixture("procfs/x86/net/dev"),
  mounts: fixture("procfs/x86/mounts"),
  cpuinfo: fixture("spec/x86/proc/cpuinfo"),
  pressure: fixture("procfs/x86/pressure/io"),
  tcp: fixture("procfs/x86/net/tcp"),
  snmp: fixture("procfs/x86/net/snmp"),
};

Deno.bench("parse /proc/stat", { group: "parse" }, () => void parseStat(texts.stat));
Deno.bench("parse /proc/meminfo", { group: "parse" }, () => void parseMeminfo(texts.meminfo));
Deno.bench("parse /proc/loadavg", { group: "parse" }, () => void parseLoadavg(texts.loadavg));
Deno.bench("parse /proc/diskstats", { group: "parse" }, () => void parseDiskstats(texts.diskstats));
Deno.bench("parse /proc/net/dev", { group: "parse" }, () => void parseNetDev(texts.netDev));
Deno.bench("parse /proc/mounts", { group: "parse" }, () => void parseMounts(texts.mounts));
Deno.bench("parse /proc/cpuinfo", { group: "parse" }, () => void parseCpuinfo(texts.cpuinfo));
Deno.bench(
  "parse meminfo for the spec",
  { group: "parse" },
  () => void parseMemorySpec(texts.meminfo),
);
Deno.bench("parse /proc/pressure/io", { group: "parse" }, () => void parsePressure(texts.pressure));
Deno.bench("parse /proc/stat for processes", {
  group: "parse",
}, () => void parseProcStat(texts.stat));
Deno.bench("parse /proc/net/tcp", {
  group: "parse",
}, () => void countTcpStates(texts.tcp, emptyTcpCounts()));
Deno.bench("parse /proc/net/snmp", { group: "parse" }, () => void parseSnmp(texts.snmp));
