import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { FilesystemUsage } from "../../../src/host/filesystems.ts";
import { createSource } from "../../../src/host/source.ts";
import { collectHostSpec } from "../../../src/host/description/spec.ts";
import { AGENT_NAME, REVISION, VERSION } from "../../../src/version.ts";
import { captureLogs } from "../../support/logs.ts";
import { X86_BLOCK_DEVICES, X86_CPU, X86_MEMORY } from "../../support/spec_x86.ts";
import { onLinux } from "../../support/platform.ts";

const linux = onLinux("a Linux host's spec: procfs, sysfs and the kernel");

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/spec/${name}`, import.meta.url));

const x86 = createSource({
  procfs: fixture("x86/proc"),
  sysfs: fixture("x86/sys"),
  etc: fixture("etc-ubuntu"),
});

const filesystems: FilesystemUsage[] = [{
  name: "/dev/nvme0n1p1",
  mount: "/",
  type: "ext4",
  kbSize: 7941576,
  kbUsed: 2343720,
  kbAvailable: 5581472,
  percentUsed: 30,
}];

const networkInterfaces = (): Deno.NetworkInterfaceInfo[] => [
  {
    family: "IPv4",
    name: "lo",
    address: "127.0.0.1",
    netmask: "255.0.0.0",
    scopeid: null,
    cidr: "127.0.0.1/8",
    mac: "00:00:00:00:00:00",
  },
  {
    family: "IPv4",
    name: "ens5",
    address: "172.31.5.10",
    netmask: "255.255.240.0",
    scopeid: null,
    cidr: "172.31.5.10/20",
    mac: "0A:1B:2C:3D:4E:5F",
  },
  {
    family: "IPv6",
    name: "ens5",
    address: "fe80::81b:2cff:fe3d:4e5f",
    netmask: "ffff:ffff:ffff:ffff::",
    scopeid: 2,
    cidr: "fe80::81b:2cff:fe3d:4e5f/64",
    mac: "0A:1B:2C:3D:4E:5F",
  },
];

linux.test("spec: the full payload of the x86 fixture host", async () => {
  const payload = await collectHostSpec({
    source: x86,
    displayName: "web 01",
    roles: ["My-Service:app", "My-Service:db"],
    checks: [{ name: "ssh", memo: "port 22" }, { name: "disk", memo: "" }],
    customIdentifier: "i-0abc.ec2.amazonaws.com",
    cloud: { provider: "ec2", metadata: { "instance-id": "i-0abc" } },
    listFilesystems: () => Promise.resolve(filesystems),
    networkInterfaces,
  });
  assert.deepEqual(payload, {
    name: "web-01",
    displayName: "web 01",
    meta: {
      "agent-revision": REVISION,
      "agent-version": VERSION,
      "agent-name": AGENT_NAME,
      block_device: X86_BLOCK_DEVICES,
      cpu: X86_CPU,
      filesystem: {
        "/dev/nvme0n1p1": {
          kb_size: 7941576,
          kb_used: 2343720,
          kb_available: 5581472,
          percent_used: "30%",
          mount: "/",
        },
      },
      kernel: {
        name: "Linux",
        release: "6.8.0-1015-aws",
        version: "#16-Ubuntu SMP Mon Aug 19 19:38:17 UTC 2024",
        machine: "x86_64",
        os: "GNU/Linux",
        platform_name: "Ubuntu",
        platform_version: "24.04",
      },
      memory: X86_MEMORY,
      cloud: { provider: "ec2", metadata: { "instance-id": "i-0abc" } },
    },
    interfaces: [{
      name: "ens5",
      ipv4Addresses: ["172.31.5.10"],
      ipv6Addresses: ["fe80::81b:2cff:fe3d:4e5f"],
      macAddress: "0a:1b:2c:3d:4e:5f",
    }],
    roleFullnames: ["My-Service:app", "My-Service:db"],
    checks: [{ name: "ssh", memo: "port 22" }, { name: "disk" }],
    customIdentifier: "i-0abc.ec2.amazonaws.com",
  });
  // Serialized order is upstream's (docs/upstream.md, "Host payload").
  assert.deepEqual(Object.keys(payload), [
    "name",
    "displayName",
    "meta",
    "interfaces",
    "roleFullnames",
    "checks",
    "customIdentifier",
  ]);
  assert.deepEqual(Object.keys(payload.meta), [
    "agent-revision",
    "agent-version",
    "agent-name",
    "block_device",
    "cpu",
    "filesystem",
    "kernel",
    "memory",
    "cloud",
  ]);
});

Deno.test("spec: a failing part is skipped with a warning, empty ones and options omitted", async () => {
  const { result: payload, lines } = await captureLogs(() =>
    collectHostSpec({
      // The arm64 tree has no meminfo, no kernel files and no /sys/block.
      source: createSource({
        procfs: fixture("arm64/proc"),
        sysfs: fixture("arm64/sys"),
        etc: fixture("etc-debian"),
      }),
      displayName: "",
      roles: [],
      checks: [],
      customIdentifier: "",
      listFilesystems: () => Promise.resolve([]),
      networkInterfaces: () => [],
    }), { level: "info" });
  assert.deepEqual(Object.keys(payload.meta), [
    "agent-revision",
    "agent-version",
    "agent-name",
    "cpu",
  ]);
  assert.equal(payload.meta.cpu?.length, 2);
  assert.equal(payload.name, Deno.hostname());
  assert.equal(payload.interfaces, null);
  assert.deepEqual(payload.roleFullnames, []);
  assert.deepEqual(payload.checks, []);
  assert.equal("displayName" in payload, false);
  assert.equal("customIdentifier" in payload, false);
  const warnings = lines.toSorted();
  const proc = fixture("arm64/proc");
  assert.equal(warnings.length, 2);
  assert.match(
    warnings[0],
    new RegExp(
      `^WARNING <spec> Failed to collect meta in kernel \\(skip this spec\\): ` +
        `cannot read ${proc}/sys/kernel/(ostype|osrelease|version): no such file$`,
    ),
  );
  assert.equal(
    warnings[1],
    `WARNING <spec> Failed to collect meta in memory (skip this spec): ` +
      `cannot read ${proc}/meminfo: no such file`,
  );
});

Deno.test("spec: an interface listing error aborts the collection", async () => {
  await assert.rejects(
    collectHostSpec({
      source: x86,
      roles: [],
      checks: [],
      listFilesystems: () => Promise.resolve([]),
      networkInterfaces: () => {
        throw new Error("netlink unavailable");
      },
    }),
    { message: "failed to collect interfaces: netlink unavailable" },
  );
});

linux.test("spec: the live machine's hostname and memory total", async () => {
  const payload = await collectHostSpec({
    source: createSource(),
    roles: [],
    checks: [],
    listFilesystems: () => Promise.resolve(filesystems),
  });
  const meminfo = await Deno.readTextFile("/proc/meminfo");
  assert.equal(payload.name, Deno.hostname());
  assert.equal(payload.meta.memory?.total, `${meminfo.match(/^MemTotal:\s+(\d+) kB$/m)?.[1]}kB`);
  assert.equal(payload.meta.kernel?.name, "Linux");
  assert.ok((payload.meta.cpu?.length ?? 0) > 0);
});
