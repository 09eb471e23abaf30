/**
 * What the spec generators must read from the x86 fixture tree (tests/fixtures/spec/x86), shared
 * by each part's test and the full-payload test so the two cannot drift apart.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Path of a tree under tests/fixtures/spec. */
export const specFixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/spec/${name}`, import.meta.url));

/** The fields both Xeon processors of the fixture share (each has its own `mhz`). */
const X86_XEON = {
  vendor_id: "GenuineIntel",
  model: "85",
  stepping: "4",
  physical_id: "0",
  core_id: "0",
  cache_size: "25344 KB",
  model_name: "Intel(R) Xeon(R) Platinum 8124M CPU @ 3.00GHz",
  family: "6",
  cores: "1",
};

/** `meta.cpu`: the sysfs maximum frequency wins over `cpu MHz` for the first processor. */
export const X86_CPU = [{ ...X86_XEON, mhz: "3500" }, { ...X86_XEON, mhz: "2999.998" }];

/** `meta.block_device`: trimmed values, missing files omitted. */
export const X86_BLOCK_DEVICES = {
  loop0: { size: "0", removable: "0" },
  nvme0n1: {
    size: "16777216",
    removable: "0",
    model: "Amazon Elastic Block Store",
    state: "live",
  },
  sda: {
    size: "41943040",
    removable: "0",
    model: "QEMU HARDDISK",
    rev: "2.5+",
    state: "running",
    timeout: "30",
    vendor: "ATA",
  },
};

/** `meta.memory` (upstream TestGenerateMemorySpec): the known keys, as `<n>kB`. */
export const X86_MEMORY = {
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
};
