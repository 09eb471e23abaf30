import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createSource } from "../../../src/host/source.ts";
import { collectMemorySpec, parseMemorySpec } from "../../../src/host/spec/memory.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/spec/${name}`, import.meta.url));

Deno.test("memory: exact kB map of the known keys (upstream TestGenerateMemorySpec)", async () => {
  const spec = await collectMemorySpec(createSource({ procfs: fixture("x86/proc") }));
  assert.deepEqual(spec, {
    total: "15434208kB",
    free: "3009856kB",
    buffers: "443104kB",
    cached: "6305168kB",
    active: "7662608kB",
    inactive: "3375044kB",
    dirty: "516kB",
    writeback: "0kB",
    anon_pages: "4289480kB",
    mapped: "258168kB",
    slab: "1169796kB",
    slab_reclaimable: "965756kB",
    slab_unreclaim: "204040kB",
    page_tables: "61024kB",
    nfs_unstable: "0kB",
    bounce: "0kB",
    commit_limit: "7717104kB",
    committed_as: "23796544kB",
    vmalloc_total: "34359738367kB",
    vmalloc_used: "42608kB",
    vmalloc_chunk: "34359578580kB",
    swap_cached: "0kB",
    swap_total: "0kB",
    swap_free: "0kB",
  });
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

Deno.test("memory: the live machine's total is MemTotal of /proc/meminfo", async () => {
  const meminfo = await Deno.readTextFile("/proc/meminfo");
  const total = meminfo.match(/^MemTotal:\s+(\d+) kB$/m)?.[1];
  assert.ok(total);
  assert.equal((await collectMemorySpec(createSource())).total, `${total}kB`);
});
