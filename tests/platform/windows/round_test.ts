/**
 * Windows fixture rounds: the registry builds the Windows set on Linux against fake kernel32,
 * pdh, advapi32 and iphlpapi symbols (called through the same FFI glue as on Windows, with
 * synthesized buffers), and two rounds a minute apart give upstream's names and values.
 */
import assert from "node:assert/strict";
import { type Config, defaultConfig } from "../../../src/config/schema.ts";
import { collectHostSpec } from "../../../src/host/description/spec.ts";
import { createSource } from "../../../src/host/source.ts";
import type { MetricValue } from "../../../src/metrics/collector.ts";
import { createCollectors } from "../../../src/metrics/registry.ts";
import { collectRound } from "../../../src/metrics/round.ts";
import { matchesTemplate } from "../../../src/metrics/metric_declaration.ts";
import { missingMetricNames, UPSTREAM_METRIC_NAMES } from "../../../src/metrics/upstream_names.ts";
import type { CpuTimes } from "../../../src/platform/platform.ts";
import { ADVAPI32 } from "../../../src/platform/windows/advapi32.ts";
import { IPHLPAPI } from "../../../src/platform/windows/iphlpapi.ts";
import { KERNEL32 } from "../../../src/platform/windows/kernel32.ts";
import { PDH } from "../../../src/platform/windows/pdh.ts";
import { fixturePlatform } from "../../support/fixture_platform.ts";
import { captureLogs } from "../../support/logs.ts";
import {
  encodeMemoryStatus,
  encodeSystemInfo,
  fakeAdvapi32,
  fakeIphlpapi,
  fakeKernel32,
  fakePdh,
  type PdhScript,
} from "../../support/windows_buffers.ts";
import { T0 } from "../../metrics/rounds.ts";

const GiB = 1024 ** 3;

/**
 * PDH's answers: raw counts at once, rates from the second collection. PDH names an adapter by its
 * description with `(` `)` as `[` `]` and `#`, `/`, `\` as `_` (the adapter here is
 * "Intel(R) 82574L Gigabit Network Connection #2").
 */
const SCRIPT: PdhScript = (path, n) => {
  const rate = <T>(value: T) => n >= 2 ? value : undefined;
  switch (path) {
    case "\\System\\Processor Queue Length":
      return n === 1 ? 3 : 5;
    case "\\Processor(_Total)\\% User Time":
      return rate(12.5);
    case "\\Processor(_Total)\\% Privileged Time":
      return rate(5.25);
    case "\\Processor(_Total)\\% Idle Time":
      return rate(82.25);
    case "\\Network Interface(*)\\Bytes Received/sec":
    case "\\Network Adapter(*)\\Bytes Received/sec":
      return rate([
        { name: "Microsoft Hyper-V Network Adapter", value: 1500.5 },
        { name: "Intel[R] 82574L Gigabit Network Connection _2", value: 0 },
      ]);
    case "\\Network Interface(*)\\Bytes Sent/sec":
    case "\\Network Adapter(*)\\Bytes Sent/sec":
      return rate([
        { name: "Microsoft Hyper-V Network Adapter", value: 320.25 },
        { name: "Intel[R] 82574L Gigabit Network Connection _2", value: 0 },
      ]);
    case "\\LogicalDisk(*)\\Disk Reads/sec":
      return rate([
        { name: "C:", value: 4.5 },
        { name: "D:", value: 0.25 },
        { name: "HarddiskVolume1", value: 9 },
        { name: "_Total", value: 4.75 },
      ]);
    case "\\LogicalDisk(*)\\Disk Writes/sec":
      return rate([
        { name: "C:", value: 11 },
        { name: "D:", value: 2 },
        { name: "HarddiskVolume1", value: 0 },
        { name: "_Total", value: 13 },
      ]);
  }
  return undefined;
};

const MEMORY = {
  memoryLoad: 40,
  totalPhys: 17_179_398_144,
  availPhys: 10_307_469_312,
  totalPageFile: 21_474_365_440,
  availPageFile: 12_884_430_848,
  totalVirtual: 140_737_488_224_256,
  availVirtual: 140_733_193_388_032,
};

const cpu = (user: number, sys: number, idle: number): CpuTimes => ({
  user,
  nice: 0,
  sys,
  idle,
  irq: 7,
});

/** A Windows host made of fake libraries; `denied` sources are refused by the probe. */
function windowsHost(denied: readonly string[] = []) {
  const pdh = fakePdh(SCRIPT);
  const iphlpapi = fakeIphlpapi([
    {
      index: 6,
      alias: "Ethernet",
      description: "Microsoft Hyper-V Network Adapter",
      mac: [0x00, 0x0d, 0x3a, 0x12, 0x34, 0x56],
      type: 6,
    },
    {
      index: 1,
      alias: "Loopback Pseudo-Interface 1",
      description: "Software Loopback Interface 1",
      mac: [],
      type: 24,
    },
  ]);
  const cpus = [[cpu(1000, 500, 8500)], [cpu(1300, 600, 9100)]];
  const platform = fixturePlatform({
    os: "windows",
    denied,
    libraries: {
      [PDH]: pdh.symbols,
      [KERNEL32]: fakeKernel32({
        memory: () => encodeMemoryStatus(MEMORY),
        systemInfo: encodeSystemInfo({ processorArchitecture: 9, numberOfProcessors: 2 }),
        drives: [
          {
            letter: "C",
            type: 3,
            device: "\\Device\\HarddiskVolume4",
            volumeName: "Windows",
            fsName: "NTFS",
            total: 136_363_114_496,
            available: 98_765_432_123,
            free: 98_765_432_123,
          },
          {
            letter: "D",
            type: 3,
            device: "\\Device\\HarddiskVolume6",
            volumeName: "Temporary Storage",
            fsName: "NTFS",
            total: 80 * GiB,
            available: 70 * GiB + 5,
            free: 70 * GiB + 5,
          },
          // A DVD drive without a disc: GetDiskFreeSpaceEx fails, so no block device either.
          { letter: "E", type: 5 },
        ],
      }),
      [ADVAPI32]: fakeAdvapi32({
        "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProductName":
          "Windows Server 2022 Datacenter",
        "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\CurrentBuildNumber": "20348",
        "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\CurrentMajorVersionNumber": 10,
        "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\CurrentMinorVersionNumber": 0,
        ...Object.fromEntries([0, 1].flatMap((i) => {
          const key = `HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\${i}`;
          return [
            [
              `${key}\\ProcessorNameString`,
              "Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz",
            ],
            [`${key}\\~MHz`, 2594],
            [`${key}\\VendorIdentifier`, "GenuineIntel"],
          ];
        })),
      }),
      [IPHLPAPI]: iphlpapi.symbols,
    },
    builtins: {
      cpuTimes: () => Promise.resolve(cpus.length > 1 ? cpus.shift()! : cpus[0]),
      systemMemoryInfo: () => ({
        total: MEMORY.totalPhys,
        free: MEMORY.availPhys,
        available: 0,
        buffers: 0,
        cached: 0,
        swapTotal: 1,
        swapFree: 1,
      }),
      networkInterfaces: () => [
        {
          family: "IPv4",
          name: "Ethernet",
          address: "10.1.0.4",
          netmask: "255.255.0.0",
          scopeid: null,
          cidr: "10.1.0.4/16",
          mac: "00:0d:3a:12:34:56",
        },
        {
          family: "IPv6",
          name: "Ethernet",
          address: "fe80::1c9e:6c2d:5a1b:2c3d",
          netmask: "ffff:ffff:ffff:ffff::",
          scopeid: 6,
          cidr: "fe80::1c9e:6c2d:5a1b:2c3d/64",
          mac: "00:0d:3a:12:34:56",
        },
        {
          family: "IPv4",
          name: "Loopback Pseudo-Interface 1",
          address: "127.0.0.1",
          netmask: "255.0.0.0",
          scopeid: null,
          cidr: "127.0.0.1/8",
          mac: "00:00:00:00:00:00",
        },
      ],
    },
  });
  return { platform, pdh, iphlpapi };
}

async function twoRounds(config: Config = defaultConfig(), denied: readonly string[] = []) {
  const host = windowsHost(denied);
  const set = await createCollectors({ source: createSource(), config, platform: host.platform });
  const first = await collectRound(set.collectors, { timeMs: T0 });
  const second = await collectRound(set.collectors, { timeMs: T0 + 60_000 });
  return { ...host, set, first, second };
}

const byName = (values: readonly MetricValue[]) => new Map(values.map((v) => [v.name, v]));

const HYPERV = "Microsoft_Hyper-V_Network_Adapter";
const INTEL = "Intel_R__82574L_Gigabit_Network_Connection__2";

Deno.test("Windows round: upstream's names, no more, no fewer", async () => {
  const { set, first, second } = await twoRounds();
  assert.deepEqual(set.collectors.map((c) => c.name), [
    "processor_queue_length",
    "cpu",
    "memory",
    "filesystem",
    "interface",
    "disk",
  ]);
  assert.deepEqual(set.warnings, []);
  const names = second.map((v) => v.name).sort();
  assert.deepEqual(names, [
    "cpu.idle.percentage",
    "cpu.system.percentage",
    "cpu.user.percentage",
    "disk.C.reads.delta",
    "disk.C.writes.delta",
    "disk.D.reads.delta",
    "disk.D.writes.delta",
    "filesystem.C.size",
    "filesystem.C.used",
    "filesystem.D.size",
    "filesystem.D.used",
    `interface.${INTEL}.rxBytes.delta`,
    `interface.${INTEL}.txBytes.delta`,
    `interface.${HYPERV}.rxBytes.delta`,
    `interface.${HYPERV}.txBytes.delta`,
    "memory.free",
    "memory.pagefile_free",
    "memory.pagefile_total",
    "memory.total",
    "memory.used",
    "processor_queue_length",
  ]);
  const upstream = UPSTREAM_METRIC_NAMES.windows;
  assert.deepEqual(missingMetricNames(upstream, names), []);
  for (const name of names) {
    assert.ok(upstream.some((u) => matchesTemplate(name, u)), `${name} is upstream's`);
  }
  // PDH rates need two collections: the first round has the queue, memory and filesystems only.
  assert.deepEqual(first.map((v) => v.name.split(".")[0]).filter((n, i, a) => a.indexOf(n) === i), [
    "processor_queue_length",
    "memory",
    "filesystem",
  ]);
});

Deno.test("Windows round: upstream's values; PDH rates stamped with the window's start", async () => {
  const { first, second } = await twoRounds();
  const values = byName(second);
  const start = T0 / 1000;
  assert.deepEqual(byName(first).get("processor_queue_length"), {
    name: "processor_queue_length",
    value: 3,
  });
  assert.deepEqual(values.get("processor_queue_length"), {
    name: "processor_queue_length",
    value: 5,
  });
  assert.deepEqual(values.get("cpu.user.percentage"), {
    name: "cpu.user.percentage",
    value: 12.5,
    time: start,
  });
  assert.equal(values.get("cpu.system.percentage")?.value, 5.25);
  assert.equal(values.get("cpu.idle.percentage")?.value, 82.25);
  assert.equal(values.get("memory.free")?.value, MEMORY.availPhys);
  assert.equal(values.get("memory.total")?.value, MEMORY.totalPhys);
  assert.equal(values.get("memory.used")?.value, MEMORY.totalPhys - MEMORY.availPhys);
  assert.equal(values.get("memory.pagefile_total")?.value, MEMORY.totalPageFile);
  assert.equal(values.get("memory.pagefile_free")?.value, MEMORY.availPageFile);
  // Whole KiB of the bytes, as upstream's integer division gives them.
  assert.equal(values.get("filesystem.C.size")?.value, Math.floor(136_363_114_496 / 1024) * 1024);
  assert.equal(
    values.get("filesystem.C.used")?.value,
    Math.floor((136_363_114_496 - 98_765_432_123) / 1024) * 1024,
  );
  assert.deepEqual(values.get(`interface.${HYPERV}.rxBytes.delta`), {
    name: `interface.${HYPERV}.rxBytes.delta`,
    value: 1500.5,
    time: start,
  });
  assert.equal(values.get(`interface.${HYPERV}.txBytes.delta`)?.value, 320.25);
  assert.deepEqual(values.get("disk.C.reads.delta"), {
    name: "disk.C.reads.delta",
    value: 4.5,
    time: start,
  });
  assert.equal(values.get("disk.D.writes.delta")?.value, 2);
});

Deno.test("Windows round: [interfaces], [disks] and [filesystems] rules and use_adapter", async () => {
  const config: Config = {
    ...defaultConfig(),
    filesystems: { ignore: /^C:$/, useMountpoint: false },
    disks: { ignore: /D:/ },
    interfaces: { ignore: /Intel\(R\)/, useAdapter: true },
  };
  const { second, pdh } = await twoRounds(config);
  const names = second.map((v) => v.name);
  assert.deepEqual(names.filter((n) => n.startsWith("filesystem.")), [
    "filesystem.D.size",
    "filesystem.D.used",
  ]);
  assert.deepEqual(names.filter((n) => n.startsWith("disk.")), [
    "disk.C.reads.delta",
    "disk.C.writes.delta",
  ]);
  assert.deepEqual(names.filter((n) => n.startsWith("interface.")), [
    `interface.${HYPERV}.rxBytes.delta`,
    `interface.${HYPERV}.txBytes.delta`,
  ]);
  const paths = [...pdh.counters.values()].map((c) => c.path);
  assert.ok(paths.includes("\\Network Adapter(*)\\Bytes Received/sec"), paths.join(", "));
  assert.ok(!paths.some((p) => p.startsWith("\\Network Interface")));
});

Deno.test("Windows round: without pdh.dll, cpu falls back to Deno's times; the rest say why", async () => {
  const { result } = await captureLogs(() => twoRounds(defaultConfig(), [PDH]));
  assert.deepEqual(result.set.warnings, [
    `collector processor_queue_length disabled: the fixture denies ${PDH}`,
    `collector cpu: the fixture denies ${PDH}; using Deno's built-in instead (fewer metrics)`,
    `collector interface disabled: the fixture denies ${PDH}`,
    `collector disk disabled: the fixture denies ${PDH}`,
  ]);
  const values = byName(result.second);
  // 300 user, 100 system, 600 idle of 1000 ms.
  assert.equal(values.get("cpu.user.percentage")?.value, 30);
  assert.equal(values.get("cpu.system.percentage")?.value, 10);
  assert.equal(values.get("cpu.idle.percentage")?.value, 60);
});

Deno.test("Windows round: without kernel32 calls, memory falls back to total, free and used", async () => {
  const { result } = await captureLogs(() => twoRounds(defaultConfig(), [KERNEL32]));
  const memory = result.second.filter((v) => v.name.startsWith("memory."));
  assert.deepEqual(memory, [
    { name: "memory.free", value: MEMORY.availPhys },
    { name: "memory.total", value: MEMORY.totalPhys },
    { name: "memory.used", value: MEMORY.totalPhys - MEMORY.availPhys },
  ]);
  assert.ok(
    result.set.warnings.includes(`collector filesystem disabled: the fixture denies ${KERNEL32}`),
  );
});

Deno.test("Windows host description: upstream's parts from the registry, the drives and the adapters", async () => {
  const { platform, iphlpapi } = windowsHost();
  const payload = await collectHostSpec({
    source: createSource(),
    roles: [],
    checks: [],
    platform,
  });
  assert.deepEqual(payload.meta.kernel, {
    name: "Microsoft Windows",
    os: "Microsoft Windows Server 2022 Datacenter",
    version: "10.0.20348",
    release: "",
    machine: "amd64",
  });
  assert.deepEqual(
    payload.meta.cpu,
    [0, 1].map(() => ({
      model_name: "Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz",
      mhz: 2594,
      model: 9,
      vendor_id: "GenuineIntel",
    })),
  );
  assert.deepEqual(payload.meta.memory, {
    total: `${Math.floor(MEMORY.totalPhys / 1024)}kb`,
    free: `${Math.floor(MEMORY.availPhys / 1024)}kb`,
  });
  assert.deepEqual(payload.meta.block_device, {
    C: { size: 98_765_432_123, removable: false },
    D: { size: 70 * GiB + 5, removable: false },
  });
  assert.deepEqual(payload.meta.filesystem?.["C:"], {
    percent_used: "27%",
    kb_used: Math.floor((136_363_114_496 - 98_765_432_123) / 1024),
    kb_size: Math.floor(136_363_114_496 / 1024),
    kb_available: Math.floor(98_765_432_123 / 1024),
    mount: "C:",
    label: "\\Device\\HarddiskVolume4",
    volume_name: "Windows",
    fs_type: "ntfs",
  });
  assert.deepEqual(payload.interfaces, [{
    name: "Microsoft Hyper-V Network Adapter",
    ipv4Addresses: ["10.1.0.4"],
    ipv6Addresses: ["fe80::1c9e:6c2d:5a1b:2c3d"],
    macAddress: "00:0d:3a:12:34:56",
  }]);
  assert.equal(iphlpapi.freed.length, 1, "the interface table is freed");
});
