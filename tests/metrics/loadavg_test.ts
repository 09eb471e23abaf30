import assert from "node:assert/strict";
import { join } from "node:path";
import { createSource } from "../../src/host/source.ts";
import {
  createLoadavgCollector,
  LOADAVG_COLLECTOR,
  parseLoadavg,
} from "../../src/metrics/loadavg.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { at, T0 } from "./rounds.ts";

const PROCFS = join(import.meta.dirname!, "../fixtures/procfs");

Deno.test("loadavg: parseLoadavg reads the first three fields", () => {
  assert.deepEqual(parseLoadavg("0.52 0.58 0.59 2/512 12345\n"), {
    loadavg1: 0.52,
    loadavg5: 0.58,
    loadavg15: 0.59,
  });
  assert.deepEqual(parseLoadavg("12.00 7 0.00"), { loadavg1: 12, loadavg5: 7, loadavg15: 0 });
});

Deno.test("loadavg: a bad format throws upstream's message", () => {
  for (const text of ["", "0.52 0.58\n", "a b c d e", "0.52 -0.58 0.59 1/2 3", "1e3 0.5 NaN"]) {
    assert.throws(() => parseLoadavg(text), {
      name: "Error",
      message: "unexpected format of /proc/loadavg",
    }, JSON.stringify(text));
  }
});

Deno.test("loadavg: the collector reads <procfs>/loadavg", async () => {
  const collector = createLoadavgCollector({
    source: createSource({ procfs: join(PROCFS, "x86") }),
  });
  assert.equal(collector.name, "loadavg");
  assert.deepEqual(LOADAVG_COLLECTOR.sources(createSource({ procfs: join(PROCFS, "x86") })), [
    join(PROCFS, "x86", "loadavg"),
  ]);
  assert.deepEqual(await collector.collect(at(T0)), [
    { name: "loadavg1", value: 0.52 },
    { name: "loadavg5", value: 0.58 },
    { name: "loadavg15", value: 0.59 },
  ]);
  const old = createLoadavgCollector({
    source: createSource({ procfs: join(PROCFS, "old-kernel") }),
  });
  assert.deepEqual(await old.collect(at(T0)), [
    { name: "loadavg1", value: 0.2 },
    { name: "loadavg5", value: 0.18 },
    { name: "loadavg15", value: 0.12 },
  ]);
});

Deno.test("loadavg: a garbled file rejects with upstream's message and the path", async () => {
  await withTempDir("loadavg_test_", async (dir) => {
    await Deno.writeTextFile(join(dir, "loadavg"), "not a load average\n");
    const collector = createLoadavgCollector({ source: createSource({ procfs: dir }) });
    await assert.rejects(collector.collect(at(T0)), {
      message: `unexpected format of /proc/loadavg (read from ${join(dir, "loadavg")})`,
    });
  });
});

Deno.test("loadavg: a missing file rejects with NotFound", async () => {
  const collector = createLoadavgCollector({
    source: createSource({ procfs: join(PROCFS, "no-such-tree") }),
  });
  await assert.rejects(collector.collect(at(T0)), Deno.errors.NotFound);
});
