import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createSource } from "../../../src/host/source.ts";
import { collectKernel } from "../../../src/host/description/kernel.ts";
import { withTempDir } from "../../support/temp_dir.ts";
import { onLinux } from "../../support/platform.ts";

const linux = onLinux("the kernel spec reads procfs on Linux only");

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/spec/${name}`, import.meta.url));

linux.test("kernel: uname fields from procfs with the platform of the etc root", async () => {
  const source = createSource({ procfs: fixture("x86/proc"), etc: fixture("etc-ubuntu") });
  assert.deepEqual(await collectKernel(source), {
    name: "Linux",
    release: "6.8.0-1015-aws",
    version: "#16-Ubuntu SMP Mon Aug 19 19:38:17 UTC 2024",
    machine: "x86_64",
    os: "GNU/Linux",
    platform_name: "Ubuntu",
    platform_version: "24.04",
  });
});

linux.test("kernel: platform fields are omitted when no distribution is known", async () => {
  await withTempDir("kernel_test_", async (dir) => {
    const proc = `${dir}/proc`;
    await Deno.mkdir(`${proc}/sys/kernel`, { recursive: true });
    await Deno.writeTextFile(`${proc}/sys/kernel/ostype`, "Linux\n");
    await Deno.writeTextFile(`${proc}/sys/kernel/osrelease`, "6.1.0\n");
    await Deno.writeTextFile(`${proc}/sys/kernel/version`, "#1 SMP\n");
    const kernel = await collectKernel(createSource({ procfs: proc, etc: `${dir}/etc` }));
    // Without sys/kernel/arch the machine is the architecture Deno runs on, as uname -m says.
    assert.deepEqual(kernel, {
      name: "Linux",
      release: "6.1.0",
      version: "#1 SMP",
      machine: Deno.build.arch,
      os: "GNU/Linux",
    });
  });
});

linux.test("kernel: an unreadable uname field rejects, naming the file", async () => {
  await withTempDir("kernel_test_", async (dir) => {
    await Deno.mkdir(`${dir}/sys/kernel`, { recursive: true });
    await Deno.writeTextFile(`${dir}/sys/kernel/ostype`, "Linux\n");
    await Deno.writeTextFile(`${dir}/sys/kernel/version`, "#1 SMP\n");
    await assert.rejects(collectKernel(createSource({ procfs: dir, etc: dir })), {
      message: `cannot read ${dir}/sys/kernel/osrelease: no such file`,
    });
  });
});

linux.test("kernel: the live machine has name and platform fields", async () => {
  const kernel = await collectKernel(createSource());
  assert.equal(kernel.name, "Linux");
  assert.equal(kernel.release, Deno.osRelease());
  assert.equal(kernel.machine, Deno.build.arch);
  assert.equal(kernel.os, "GNU/Linux");
  assert.equal(typeof kernel.platform_name, "string");
});
