import assert from "node:assert/strict";
import { createSource } from "../../../src/host/source.ts";
import { collectCpu, formatFloat, parseCpuinfo } from "../../../src/host/description/cpu.ts";
import { specFixture as fixture, X86_CPU } from "../../support/spec_x86.ts";
import { onLinux } from "../../support/platform.ts";

const linux = onLinux("reads the live /proc/cpuinfo");

Deno.test("cpu: x86 blocks, the sysfs maximum frequency winning over cpu MHz", async () => {
  const source = createSource({ procfs: fixture("x86/proc"), sysfs: fixture("x86/sys") });
  assert.deepEqual(await collectCpu(source), X86_CPU);
});

Deno.test("cpu: arm64 vendor and model named from implementer and part, core id from sysfs", async () => {
  const source = createSource({ procfs: fixture("arm64/proc"), sysfs: fixture("arm64/sys") });
  const graviton = {
    vendor_id: "ARM",
    model: "0xd0c",
    stepping: "1",
    physical_id: "",
    cache_size: "0 KB",
    model_name: "Neoverse-N1",
    family: "",
    cores: "1",
    mhz: "0",
  };
  assert.deepEqual(await collectCpu(source), [
    { ...graviton, core_id: "0" },
    { ...graviton, core_id: "1" },
  ]);
});

Deno.test("cpu: absent fields default as gopsutil's zero values", () => {
  assert.deepEqual(parseCpuinfo("processor\t: 0\nvendor_id\t: AuthenticAMD\n"), [{
    vendor_id: "AuthenticAMD",
    model: "",
    stepping: "0",
    physical_id: "",
    core_id: "",
    cache_size: "0 KB",
    model_name: "",
    family: "",
    cores: "1",
    mhz: "0",
  }]);
});

Deno.test("cpu: an unknown ARM part is Undefined, other implementers keep no model name", () => {
  const arm = parseCpuinfo("processor : 0\nCPU implementer : 0x41\nCPU part : 0xfff\n");
  assert.equal(arm[0].model_name, "Undefined");
  assert.equal(arm[0].vendor_id, "ARM");
  const ampere = parseCpuinfo("processor : 0\nCPU implementer : 0xc0\nCPU part : 0xac3\n");
  assert.equal(ampere[0].vendor_id, "Ampere");
  assert.equal(ampere[0].model, "0xac3");
  assert.equal(ampere[0].model_name, "");
});

Deno.test("cpu: sysfs core id fills only a missing core id; Hz-scale frequencies are scaled", () => {
  const text = "processor : 0\ncore id : 3\n\nprocessor : 1\n";
  const sysfs = new Map([
    [0, { coreId: "7\n", maxFreq: "2400000000\n" }],
    [1, { coreId: "9\n", maxFreq: "1800000\n" }],
  ]);
  const specs = parseCpuinfo(text, { sysfs });
  assert.deepEqual(specs.map((s) => [s.core_id, s.mhz]), [["3", "2400"], ["9", "1800"]]);
});

Deno.test("cpu: old ARM 'Processor' names every block; POWER model names set vendor", () => {
  const arm = parseCpuinfo("Processor : ARMv7 Processor rev 4 (v7l)\nprocessor : 0\n");
  assert.equal(arm[0].model_name, "ARMv7 Processor rev 4 (v7l)");
  const power = parseCpuinfo("processor : 0\ncpu : POWER9 (architected), altivec supported\n");
  assert.deepEqual(
    [power[0].model, power[0].family, power[0].vendor_id],
    ["POWER9", "POWER", "IBM"],
  );
});

Deno.test("cpu: an unparseable cpu MHz is ignored, a bad stepping rejects with the line", () => {
  assert.equal(parseCpuinfo("processor : 0\ncpu MHz : fast\n")[0].mhz, "0");
  assert.equal(parseCpuinfo("processor : 0\nclock : 1000.000000MHz\n")[0].mhz, "1000");
  assert.throws(
    () => parseCpuinfo("processor : 0\nstepping : unknown\n"),
    { message: '/proc/cpuinfo line 2: "stepping : unknown": "unknown" is no integer' },
  );
});

Deno.test("cpu: floats print like Go's FormatFloat(f, 'f', -1, 64)", () => {
  const table: readonly (readonly [number, string])[] = [
    [0, "0"],
    [2500, "2500"],
    [2999.998, "2999.998"],
    [3.5, "3.5"],
    [1e21, "1000000000000000000000"],
    [1.5e-7, "0.00000015"],
  ];
  for (const [value, text] of table) assert.equal(formatFloat(value), text);
});

Deno.test("cpu: an unreadable cpuinfo rejects, naming it", async () => {
  const source = createSource({ procfs: fixture("x86/sys"), sysfs: fixture("x86/sys") });
  await assert.rejects(collectCpu(source), {
    message: `cannot read ${fixture("x86/sys")}/cpuinfo: no such file`,
  });
});

linux.test("cpu: the live machine lists one entry per logical CPU", async () => {
  const specs = await collectCpu(createSource());
  const processors = (await Deno.readTextFile("/proc/cpuinfo")).match(/^processor\s*:/gm) ?? [];
  assert.equal(specs.length, processors.length);
  assert.ok(specs.length > 0);
  assert.ok(specs.every((spec) => spec.cores === "1"));
});
