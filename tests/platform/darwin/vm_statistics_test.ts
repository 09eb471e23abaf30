import assert from "node:assert/strict";
import {
  darwinMemoryValues,
  decodeSwapUsage,
  decodeVmStatistics64,
} from "../../../src/platform/darwin/vm_statistics.ts";
import {
  encodeSwapUsage,
  encodeVmStatistics64,
  goOsstatMemory,
  UPSTREAM_SWAPUSAGE,
  vmCountsOfVmStat,
} from "../../support/darwin_buffers.ts";
import { darwinFixture } from "./fixtures.ts";

Deno.test("vm_statistics64: each count is read at its offset, whatever surrounds it", () => {
  const bytes = encodeVmStatistics64({
    free_count: 11,
    active_count: 22,
    inactive_count: 33,
    wire_count: 44,
    purgeable_count: 55,
    speculative_count: 66,
    compressor_page_count: 77,
    external_page_count: 88,
    internal_page_count: 99,
  });
  assert.deepEqual(decodeVmStatistics64(bytes), {
    free: 11,
    active: 22,
    inactive: 33,
    wired: 44,
    purgeable: 55,
    speculative: 66,
    compressor: 77,
    external: 88,
    internal: 99,
  });
  assert.throws(() => decodeVmStatistics64(bytes.subarray(0, 144)), RangeError);
});

Deno.test("xsw_usage: upstream's own test bytes", () => {
  assert.deepEqual(decodeSwapUsage(UPSTREAM_SWAPUSAGE), {
    total: 0x140000000,
    avail: 0x563c0000,
    used: 0xe9c40000,
    pageSize: 4096,
    encrypted: true,
  });
  assert.throws(() => decodeSwapUsage(UPSTREAM_SWAPUSAGE.subarray(0, 24)), /vm.swapusage/);
});

Deno.test("memory: upstream's figures for its own vm_stat sample", () => {
  const { counts, pageSize } = vmCountsOfVmStat(darwinFixture("vm_stat-go-osstat-4096.txt"));
  const swap = decodeSwapUsage(UPSTREAM_SWAPUSAGE);
  const values = darwinMemoryValues(
    decodeVmStatistics64(encodeVmStatistics64(counts)),
    pageSize,
    swap,
  );
  const page = 4096;
  // go-osstat's memory_darwin_test.go expectations.
  assert.deepEqual(values, [
    { name: "memory.total", value: (446975 + 2154445 + 1511468 + 8107 + 72827) * page },
    { name: "memory.used", value: (446975 + 2154445 + 1511468 + 8107 - (383371 + 677870)) * page },
    { name: "memory.cached", value: (383371 + 677870) * page },
    { name: "memory.free", value: 72827 * page },
    { name: "memory.swap_total", value: 0x140000000 },
    { name: "memory.swap_free", value: 0x563c0000 },
  ]);
});

Deno.test("memory: through vm_statistics64, each real vm_stat gives go-osstat's arithmetic", () => {
  const swap = decodeSwapUsage(encodeSwapUsage({
    total: 2 << 30,
    avail: 1 << 30,
    used: 1 << 30,
    pageSize: 16384,
    encrypted: true,
  }));
  for (
    const file of [
      "vm_stat-go-osstat-4096.txt",
      "vm_stat-wazuh-4096.txt",
      "vm_stat-apple-silicon-16384.txt",
    ]
  ) {
    const text = darwinFixture(file);
    const { counts, pageSize } = vmCountsOfVmStat(text);
    const vm = decodeVmStatistics64(encodeVmStatistics64(counts));
    const values = Object.fromEntries(
      darwinMemoryValues(vm, pageSize, swap).map((v) => [v.name.replace("memory.", ""), v.value]),
    );
    const expected = goOsstatMemory(text);
    assert.deepEqual(
      { total: values.total, used: values.used, cached: values.cached, free: values.free },
      expected,
      file,
    );
    assert.equal(values.total, values.used + values.cached + values.free, file);
  }
});
