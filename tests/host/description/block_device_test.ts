import assert from "node:assert/strict";
import { createSource } from "../../../src/host/source.ts";
import { collectBlockDevices } from "../../../src/host/description/block_device.ts";
import { specFixture as fixture, X86_BLOCK_DEVICES } from "../../support/spec_x86.ts";
import { withTempDir } from "../../support/temp_dir.ts";
import { onLinux } from "../../support/platform.ts";

const linux = onLinux("reads the live /sys/block");

Deno.test("block_device: every entry with trimmed values, missing files omitted", async () => {
  const devices = await collectBlockDevices(createSource({ sysfs: fixture("x86/sys") }));
  assert.deepEqual(devices, X86_BLOCK_DEVICES);
});

Deno.test("block_device: no /sys/block gives undefined", async () => {
  assert.equal(await collectBlockDevices(createSource({ sysfs: fixture("arm64/sys") })), undefined);
});

Deno.test("block_device: a sysfs root that is a file gives undefined, as a missing one", async () => {
  await withTempDir("block_device_test_", async (dir) => {
    await Deno.writeTextFile(`${dir}/sys`, "");
    assert.equal(await collectBlockDevices(createSource({ sysfs: `${dir}/sys` })), undefined);
  });
});

Deno.test("block_device: a device entry with no attribute files is an empty map", async () => {
  await withTempDir("block_device_test_", async (dir) => {
    await Deno.mkdir(`${dir}/block/ram0`, { recursive: true });
    assert.deepEqual(await collectBlockDevices(createSource({ sysfs: dir })), { ram0: {} });
  });
});

Deno.test("block_device: an attribute that cannot be read rejects, naming it", async () => {
  await withTempDir("block_device_test_", async (dir) => {
    // A directory where a file should be: it exists but reading it fails, as upstream's error case.
    await Deno.mkdir(`${dir}/block/sdb/size`, { recursive: true });
    await assert.rejects(
      collectBlockDevices(createSource({ sysfs: dir })),
      (error: Error) => error.message.startsWith(`cannot read ${dir}/block/sdb/size: `),
    );
  });
});

linux.test("block_device: the live machine's values carry no trailing newline", async () => {
  const devices = await collectBlockDevices(createSource());
  assert.ok(devices);
  for (const [name, values] of Object.entries(devices)) {
    for (const value of Object.values(values)) assert.equal(value, value.trim(), name);
    assert.match(values.size ?? "", /^\d+$/, name);
  }
});
