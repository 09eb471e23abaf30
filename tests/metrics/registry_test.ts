import assert from "node:assert/strict";
import { join } from "node:path";
import { type CollectorsConfig, defaultConfig } from "../../src/config/schema.ts";
import { createSource } from "../../src/host/source.ts";
import { DIAGNOSTIC_GRAPH_DEFS } from "../../src/metrics/diagnostic.ts";
import {
  COLLECTORS,
  createCollectors,
  definitionsFor,
  graphDefsFor,
  isEnabled,
} from "../../src/metrics/registry.ts";
import { captureLogs } from "../support/logs.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { at, T0 } from "./rounds.ts";

const ALL_ON: CollectorsConfig = {
  pressure: true,
  inodes: true,
  interfaceErrors: true,
  tcp: true,
  files: true,
  processes: true,
};

const UPSTREAM = ["loadavg", "cpu", "memory", "disk", "interface", "filesystem"];

Deno.test("registry: upstream's six always, each [collectors] key turns on exactly one more", () => {
  const config = defaultConfig();
  const linux = definitionsFor("linux");
  assert.deepEqual(linux.filter((d) => isEnabled(d, config)).map((d) => d.name), UPSTREAM);
  for (const os of ["linux", "darwin", "windows"] as const) {
    const names = definitionsFor(os).map((d) => d.name);
    assert.equal(new Set(names).size, names.length, `one definition per name on ${os}`);
  }
  for (const key of Object.keys(config.collectors) as (keyof CollectorsConfig)[]) {
    const on = { ...config, collectors: { ...config.collectors, [key]: true } };
    const extra = linux.filter((d) => isEnabled(d, on) && !UPSTREAM.includes(d.name));
    assert.deepEqual(extra.map((d) => d.optIn), [key]);
  }
  const diagnostic = linux.filter((d) => isEnabled(d, { ...config, diagnostic: true }));
  assert.deepEqual(diagnostic.map((d) => d.name), [...UPSTREAM, "diagnostic"]);
});

Deno.test("registry: every collector is somewhere, and macOS and Windows have upstream's sets", () => {
  const placed = new Set(
    (["linux", "darwin", "windows"] as const).flatMap((os) => definitionsFor(os)),
  );
  assert.equal(placed.size, COLLECTORS.length);
  assert.deepEqual(definitionsFor("darwin").map((d) => d.name), [
    "loadavg",
    "cpu",
    "memory",
    "filesystem",
    "interface",
  ]);
  assert.deepEqual(definitionsFor("windows").map((d) => d.name), [
    "processor_queue_length",
    "cpu",
    "memory",
    "filesystem",
    "interface",
    "disk",
  ]);
});

Deno.test("registry: graph definitions of the enabled collectors only, each well formed", () => {
  assert.deepEqual(graphDefsFor(defaultConfig()), []);
  assert.deepEqual(graphDefsFor({ ...defaultConfig(), diagnostic: true }), DIAGNOSTIC_GRAPH_DEFS);
  const files = graphDefsFor({
    ...defaultConfig(),
    collectors: { ...defaultConfig().collectors, files: true },
  });
  assert.deepEqual(files.map((g) => g.name), ["custom.files", "custom.files.limit"]);
  const all = graphDefsFor({ ...defaultConfig(), collectors: ALL_ON, diagnostic: true });
  assert.equal(new Set(all.map((g) => g.name)).size, all.length, "graph names are unique");
  for (const graph of all) {
    assert.match(graph.name, /^custom\.[A-Za-z0-9_#-]+(\.[A-Za-z0-9_#-]+)*$/);
    for (const metric of graph.metrics) {
      // Each line is the graph's name and one more part, as Mackerel groups custom metrics.
      assert.match(
        metric.name,
        new RegExp(`^${graph.name.replaceAll(".", "\\.")}\\.[A-Za-z0-9_-]+$`),
      );
    }
  }
});

Deno.test("registry: a source this kernel lacks skips the collector with one DEBUG line", async () => {
  // The old-kernel tree has no pressure directory, no file-nr and no net/ tables.
  const source = createSource({ procfs: join(PROCFS_FIXTURES, "old-kernel") });
  const { result, lines } = await captureLogs(() =>
    createCollectors({
      source,
      config: { ...defaultConfig(), collectors: { ...defaultConfig().collectors, pressure: true } },
    })
  );
  const names = result.collectors.map((c) => c.name);
  assert.ok(!names.includes("pressure"), names.join(","));
  assert.deepEqual(result.warnings, []);
  const pressure = lines.filter((line) => line.includes("pressure"));
  assert.deepEqual(pressure, [
    `DEBUG <metrics> collector pressure skipped: ${
      join(PROCFS_FIXTURES, "old-kernel", "pressure", "cpu")
    } does not exist on this system`,
  ]);
  assert.ok(!lines.some((line) => line.startsWith("WARNING") || line.startsWith("ERROR")));
});

Deno.test("registry: on the x86 tree every opt-in collector runs and yields values", async () => {
  const source = createSource({ procfs: join(PROCFS_FIXTURES, "x86") });
  const { collectors } = await createCollectors({
    source,
    config: { ...defaultConfig(), collectors: ALL_ON },
  });
  const opted = collectors.filter((c) => !UPSTREAM.includes(c.name));
  assert.deepEqual(opted.map((c) => c.name), [
    "pressure",
    "inodes",
    "interface_errors",
    "tcp",
    "files",
    "processes",
  ]);
  for (const collector of opted) {
    if (collector.name === "inodes" || collector.name === "interface_errors") continue;
    assert.ok((await collector.collect(at(T0))).length > 0, collector.name);
  }
});
