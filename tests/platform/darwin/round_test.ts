/**
 * macOS fixture rounds: the registry builds the macOS set on Linux against a fixture platform
 * (real command outputs, a fake libSystem answering synthesized buffers, injected built-ins), and
 * two rounds a minute apart give upstream's names with the values upstream's formulas give.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../../../src/config/schema.ts";
import { collectHostSpec } from "../../../src/host/description/spec.ts";
import { createSource } from "../../../src/host/source.ts";
import type { MetricValue } from "../../../src/metrics/collector.ts";
import { createCollectors } from "../../../src/metrics/registry.ts";
import { collectRound } from "../../../src/metrics/round.ts";
import { LIBSYSTEM } from "../../../src/platform/darwin/libsystem.ts";
import { matchesTemplate } from "../../../src/metrics/metric_declaration.ts";
import { missingMetricNames, UPSTREAM_METRIC_NAMES } from "../../../src/metrics/upstream_names.ts";
import type { CpuTimes } from "../../../src/platform/platform.ts";
import {
  encodeVmStatistics64,
  fakeLibSystem,
  goOsstatMemory,
  UPSTREAM_SWAPUSAGE,
  vmCountsOfVmStat,
} from "../../support/darwin_buffers.ts";
import { fixturePlatform, type FixturePlatformOptions } from "../../support/fixture_platform.ts";
import { captureLogs } from "../../support/logs.ts";
import { T0 } from "../../metrics/rounds.ts";
import { darwinFixture } from "./fixtures.ts";

const VM_STAT = darwinFixture("vm_stat-apple-silicon-16384.txt");
const NETSTAT = darwinFixture("netstat-bni-go-osstat.txt");
/** The same host a minute later: en0 received 6,000,000 bytes and sent 1,200,000. */
const NETSTAT_LATER = NETSTAT.replaceAll("18096041919", "18102041919")
  .replaceAll("8602191509", "8603391509");

const cpu = (user: number, sys: number, idle: number): CpuTimes => ({
  user,
  nice: 40,
  sys,
  idle,
  irq: 0,
});

/** A macOS host made of fixtures; `denied` sources are refused by the probe. */
function darwinHost(denied: readonly string[] = []) {
  const netstat = [NETSTAT, NETSTAT_LATER];
  const cpus = [
    [cpu(10_000, 5_000, 80_000), cpu(11_000, 4_000, 81_000)],
    // 300 ms of user, 100 of system and 600 idle over both CPUs; nice grew too, and is left out.
    [cpu(10_200, 5_050, 80_300), cpu(11_100, 4_050, 81_300)].map((c) => ({ ...c, nice: 900 })),
  ];
  const { counts, pageSize } = vmCountsOfVmStat(VM_STAT);
  const lib = fakeLibSystem({
    vm: [encodeVmStatistics64(counts)],
    swap: UPSTREAM_SWAPUSAGE,
    pageSize,
  });
  const options: FixturePlatformOptions = {
    os: "darwin",
    denied,
    commands: {
      "/bin/df -Pkl": darwinFixture("df-kP-14-apple-silicon.txt"),
      "/usr/sbin/netstat -bni": () => netstat.length > 1 ? netstat.shift()! : netstat[0],
      // uname and sw_vers of one host (wazuh/wazuh#23244); sysctl of an Intel Mac.
      "/usr/bin/uname -a": darwinFixture("uname-a-13.6.6-x86_64.txt"),
      "/usr/bin/sw_vers": darwinFixture("sw_vers-13.6.6.txt"),
      "/usr/sbin/sysctl machdep.cpu": darwinFixture("sysctl-machdep.cpu-i5-5257u.txt"),
      "/usr/sbin/sysctl -n hw.logicalcpu": "4\n",
      "/usr/sbin/sysctl -n hw.memsize": "17179869184\n",
      "/sbin/ifconfig -a": darwinFixture("ifconfig-ipv6-global.txt"),
    },
    libraries: { [LIBSYSTEM]: lib.symbols },
    builtins: {
      loadavg: () => [1.25, 0.75, 0.5],
      cpuTimes: () => Promise.resolve(cpus.length > 1 ? cpus.shift()! : cpus[0]),
      systemMemoryInfo: () => ({
        total: 17179869184,
        free: 3857 * 16384,
        available: 0,
        buffers: 0,
        cached: 0,
        swapTotal: 0x140000000,
        swapFree: 0x563c0000,
      }),
    },
  };
  return { platform: fixturePlatform(options), lib };
}

async function twoRounds(denied: readonly string[] = []) {
  const { platform, lib } = darwinHost(denied);
  const set = await createCollectors({ source: createSource(), config: defaultConfig(), platform });
  const first = await collectRound(set.collectors, { timeMs: T0 });
  const second = await collectRound(set.collectors, { timeMs: T0 + 60_000 });
  return { set, first, second, platform, lib };
}

const byName = (values: readonly MetricValue[]) => new Map(values.map((v) => [v.name, v]));

Deno.test("macOS round: upstream's names, no more, no fewer", async () => {
  const { set, first, second } = await twoRounds();
  assert.deepEqual(set.collectors.map((c) => c.name), [
    "loadavg",
    "cpu",
    "memory",
    "filesystem",
    "interface",
  ]);
  assert.deepEqual(set.warnings, []);
  const names = second.map((v) => v.name).sort();
  assert.deepEqual(names, [
    "cpu.idle.percentage",
    "cpu.system.percentage",
    "cpu.user.percentage",
    "filesystem.disk1s2.size",
    "filesystem.disk1s2.used",
    "filesystem.disk3s1s1.size",
    "filesystem.disk3s1s1.used",
    "filesystem.disk3s5.size",
    "filesystem.disk3s5.used",
    "filesystem.disk3s6.size",
    "filesystem.disk3s6.used",
    ...["en0", "en1", "en2", "gif0", "stf0"].flatMap((i) => [
      `interface.${i}.rxBytes.delta`,
      `interface.${i}.txBytes.delta`,
    ]),
    "loadavg1",
    "loadavg15",
    "loadavg5",
    "memory.cached",
    "memory.free",
    "memory.swap_free",
    "memory.swap_total",
    "memory.total",
    "memory.used",
  ]);
  const upstream = UPSTREAM_METRIC_NAMES.darwin;
  assert.deepEqual(missingMetricNames(upstream, names), []);
  for (const name of names) {
    assert.ok(upstream.some((u) => matchesTemplate(name, u)), `${name} is upstream's`);
  }
  // Rates need two samples: the first round has no cpu and no interface.
  assert.ok(!first.some((v) => v.name.startsWith("cpu.") || v.name.startsWith("interface.")));
  assert.equal(first.length, names.length - 3 - 10);
});

Deno.test("macOS round: upstream's values, rates over the minute stamped with its start", async () => {
  const { second } = await twoRounds();
  const values = byName(second);
  const start = T0 / 1000;
  assert.deepEqual(values.get("loadavg5"), { name: "loadavg5", value: 0.75 });
  assert.deepEqual(values.get("cpu.user.percentage"), {
    name: "cpu.user.percentage",
    value: 30,
    time: start,
  });
  assert.equal(values.get("cpu.system.percentage")?.value, 10);
  assert.equal(values.get("cpu.idle.percentage")?.value, 60);
  assert.deepEqual(values.get("interface.en0.rxBytes.delta"), {
    name: "interface.en0.rxBytes.delta",
    value: 100_000,
    time: start,
  });
  assert.equal(values.get("interface.en0.txBytes.delta")?.value, 20_000);
  assert.equal(values.get("interface.gif0.rxBytes.delta")?.value, 0);
  const memory = goOsstatMemory(VM_STAT);
  for (const key of ["total", "used", "cached", "free"]) {
    assert.equal(values.get(`memory.${key}`)?.value, memory[key], key);
  }
  assert.equal(values.get("memory.free")?.value, 3857 * 16384);
  assert.equal(values.get("memory.swap_total")?.value, 0x140000000);
  assert.equal(values.get("memory.swap_free")?.value, 0x563c0000);
  assert.equal(values.get("filesystem.disk3s5.size")?.value, (108615424 + 77381940) * 1024);
  assert.equal(values.get("filesystem.disk3s5.used")?.value, 108615424 * 1024);
});

Deno.test("macOS round: the host port is asked for once, libSystem only when collecting", async () => {
  const { lib } = await twoRounds();
  assert.deepEqual(lib.hostPorts, [0x103]);
});

Deno.test("macOS round: without FFI the memory falls back to Deno's three exact values", async () => {
  const { result, lines } = await captureLogs(() => twoRounds([LIBSYSTEM]));
  const memory = result.second.filter((v) => v.name.startsWith("memory.")).map((v) => v.name);
  assert.deepEqual(memory, ["memory.free", "memory.swap_total", "memory.swap_free"]);
  assert.deepEqual(result.set.warnings, [
    `collector memory: the fixture denies ${LIBSYSTEM}; using Deno's built-in instead (fewer metrics)`,
  ]);
  assert.equal(lines.filter((l) => l.startsWith("WARNING")).length, 1);
});

Deno.test("macOS round: a command that may not run disables its collector with one line", async () => {
  const { result } = await captureLogs(() => twoRounds(["/bin/df", "/usr/sbin/netstat"]));
  assert.deepEqual(result.set.warnings, [
    "collector filesystem disabled: the fixture denies /bin/df",
    "collector interface disabled: the fixture denies /usr/sbin/netstat",
  ]);
  assert.ok(!result.second.some((v) => /^(filesystem|interface)\./.test(v.name)));
});

Deno.test("macOS round: [filesystems] and [interfaces] rules apply as on Linux", async () => {
  const { platform } = darwinHost();
  const config = {
    ...defaultConfig(),
    filesystems: { ignore: /disk1s|disk3s6/, useMountpoint: true },
    interfaces: { ignore: /^(gif|stf)/, useAdapter: false },
  };
  const set = await createCollectors({ source: createSource(), config, platform });
  await collectRound(set.collectors, { timeMs: T0 });
  const names = (await collectRound(set.collectors, { timeMs: T0 + 60_000 })).map((v) => v.name);
  assert.deepEqual(names.filter((n) => n.startsWith("filesystem.")), [
    "filesystem._.size",
    "filesystem._.used",
    "filesystem._System_Volumes_Data.size",
    "filesystem._System_Volumes_Data.used",
  ]);
  assert.deepEqual(
    names.filter((n) => n.startsWith("interface.")).map((n) => n.split(".")[1]),
    ["en0", "en0", "en1", "en1", "en2", "en2"],
  );
});

Deno.test("macOS host description: upstream's parts from uname, sw_vers, sysctl, df, ifconfig", async () => {
  const { platform } = darwinHost();
  const payload = await collectHostSpec({
    source: createSource(),
    roles: [],
    checks: [],
    platform,
  });
  assert.deepEqual(payload.meta.kernel, {
    name: "Darwin",
    release: "22.6.0",
    version:
      "Darwin Kernel Version 22.6.0: Mon Feb 19 19:48:53 PST 2024; root:xnu-8796.141.3.704.6~1/RELEASE_X86_64",
    machine: "x86_64",
    os: "Darwin",
    platform_name: "macOS",
    platform_version: "13.6.6",
  });
  assert.equal(payload.meta.cpu?.length, 4);
  assert.deepEqual(payload.meta.cpu?.[0], {
    vendor_id: "GenuineIntel",
    model_name: "Intel(R) Core(TM) i5-5257U CPU @ 2.70GHz",
    family: "6",
    model: "61",
    stepping: "4",
  });
  assert.deepEqual(payload.meta.memory, { total: "16777216kB" });
  assert.equal(payload.meta.block_device, undefined);
  assert.deepEqual(Object.keys(payload.meta.filesystem ?? {}), [
    "/dev/disk3s1s1",
    "devfs",
    "/dev/disk3s6",
    "/dev/disk3s5",
    "/dev/disk1s2",
    "map auto_home",
  ]);
  assert.deepEqual(payload.meta.filesystem?.["/dev/disk3s5"], {
    kb_size: 239362496,
    kb_used: 108615424,
    kb_available: 77381940,
    percent_used: "59%",
    mount: "/System/Volumes/Data",
  });
  // Loopback and interfaces without an address are left out, as upstream does.
  assert.deepEqual(payload.interfaces, [{
    name: "en0",
    ipv4Addresses: ["10.0.0.19"],
    ipv6Addresses: [
      "2601:184:100:16f0:c44b:ffbf:34a7:8382",
      "2601:184:100:16f0:a65e:60ff:fef1:7d8d",
    ],
    macAddress: "a4:5e:60:f1:7d:8d",
  }]);
});
