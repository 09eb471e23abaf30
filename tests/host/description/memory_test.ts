import assert from "node:assert/strict";
import { createSource } from "../../../src/host/source.ts";
import { collectMemorySpec, parseMemorySpec } from "../../../src/host/description/memory.ts";
import { specFixture as fixture, X86_MEMORY } from "../../support/spec_x86.ts";
import { onLinux } from "../../support/platform.ts";

const linux = onLinux("reads the live /proc/meminfo");

Deno.test("memory: exact kB map of the known keys (upstream TestGenerateMemorySpec)", async () => {
  const spec = await collectMemorySpec(createSource({ procfs: fixture("x86/proc") }));
  assert.deepEqual(spec, X86_MEMORY);
});

Deno.test("memory: 32-bit High/Low keys are reported; lines without a value are skipped", () => {
  const text = "HighTotal:  1 kB\nHighFree: 2 kB\nLowTotal: 3 kB\nLowFree: 4 kB\nMemFree:\n";
  assert.deepEqual(parseMemorySpec(text), {
    high_total: "1kB",
    high_free: "2kB",
    low_total: "3kB",
    low_free: "4kB",
  });
});

Deno.test("memory: an unreadable meminfo rejects", async () => {
  await assert.rejects(collectMemorySpec(createSource({ procfs: fixture("arm64/proc") })), {
    message: `cannot read ${fixture("arm64/proc")}/meminfo: no such file`,
  });
});

linux.test("memory: the live machine's total is MemTotal of /proc/meminfo", async () => {
  const meminfo = await Deno.readTextFile("/proc/meminfo");
  const total = meminfo.match(/^MemTotal:\s+(\d+) kB$/m)?.[1];
  assert.ok(total);
  assert.equal((await collectMemorySpec(createSource())).total, `${total}kB`);
});
