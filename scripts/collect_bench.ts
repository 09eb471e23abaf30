/**
 * Benchmarks of issue "Core agent": one full collection cycle on the live /proc and /sys, the
 * host spec, and one parse of each fixture. Run with `deno task bench`.
 *
 * @module
 */
import { collectHostSpec } from "../src/host/spec/spec.ts";
import { createSource } from "../src/host/source.ts";
import { parseCpuinfo } from "../src/host/spec/cpu.ts";
import { parseMemorySpec } from "../src/host/spec/memory.ts";
import { parseMounts } from "../src/host/filesystems.ts";
import { createCollectors } from "../src/metrics/collectors.ts";
import { parseStat } from "../src/metrics/cpu.ts";
import { parseDiskstats } from "../src/metrics/disk.ts";
import { parseNetDev } from "../src/metrics/interface.ts";
import { parseLoadavg } from "../src/metrics/loadavg.ts";
import { parseMeminfo } from "../src/metrics/memory.ts";
import { collectRound } from "../src/metrics/round.ts";
import { defaultConfig } from "../src/config/schema.ts";

const fixture = (path: string) =>
  Deno.readTextFileSync(new URL(`../tests/fixtures/${path}`, import.meta.url));

const live = createSource();
const { collectors } = await createCollectors({ source: live, config: defaultConfig() });
// A first round sets the rate collectors' baselines, so the benchmark times full rounds.
await collectRound(collectors);

Deno.bench(
  "collection cycle: every collector on the live /proc and /sys",
  { group: "cycle" },
  async () => {
    await collectRound(collectors);
  },
);

Deno.bench("host spec on the live machine (no cloud probing)", { group: "cycle" }, async () => {
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
