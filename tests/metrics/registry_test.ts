import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema.ts";
import { createSource } from "../../src/host/source.ts";
import type { CollectorDefinition, CollectorSetup } from "../../src/metrics/collector.ts";
import { DIAGNOSTIC_COLLECTOR } from "../../src/metrics/diagnostic.ts";
import { createRoundFilesystems } from "../../src/metrics/filesystem_listing.ts";
import type { InodeStatFs } from "../../src/metrics/inodes.ts";
import { graphDefsOf, matchesTemplate } from "../../src/metrics/metric_declaration.ts";
import {
  COLLECTOR_KEYS,
  collectorKeyWarnings,
  COLLECTORS,
  createCollectors,
  enabledDefinitions,
  graphDefsFor,
  isEnabled,
  runsOn,
} from "../../src/metrics/registry.ts";
import { currentPlatform } from "../../src/platform/platform.ts";
import { captureLogs } from "../support/logs.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { X86_STATFS, x86DeviceOf } from "../support/x86_statfs.ts";
import { at, fixtureTrees, T0 } from "./rounds.ts";

const ALL_ON = Object.fromEntries(COLLECTOR_KEYS.map((key) => [key, true]));

const UPSTREAM = ["loadavg", "cpu", "memory", "disk", "interface", "filesystem"];
const OPT_IN = ["pressure", "inodes", "interface_errors", "tcp", "files", "processes", "agent"];

Deno.test("registry: the [collectors] keys are the opt-in collectors' own", () => {
  assert.deepEqual(COLLECTOR_KEYS, OPT_IN);
});

Deno.test("registry: upstream's six always, each [collectors] key turns on exactly one more", () => {
  const config = defaultConfig();
  const linux = { os: "linux" } as const;
  assert.deepEqual(enabledDefinitions(config, linux).map((d) => d.name), UPSTREAM);
  for (const key of COLLECTOR_KEYS) {
    const on = { ...config, collectors: { [key]: true } };
    const extra = enabledDefinitions(on, linux).filter((d) => !UPSTREAM.includes(d.name));
    assert.deepEqual(extra.map((d) => d.optIn), [key]);
    // Written in any case, as struct keys match: the config folds it, the registry sees it.
    assert.ok(!isEnabled(extra[0], { ...config, collectors: { [key]: false } }));
  }
  const diagnostic = enabledDefinitions({ ...config, diagnostic: true }, linux);
  assert.deepEqual(diagnostic.map((d) => d.name), [...UPSTREAM, "diagnostic"]);
});

Deno.test("registry: macOS and Windows have upstream's sets of their own", () => {
  const config = { ...defaultConfig(), collectors: ALL_ON, diagnostic: true };
  const names = (os: typeof Deno.build.os) => enabledDefinitions(config, { os }).map((d) => d.name);
  assert.deepEqual(names("darwin"), [
    "loadavg",
    "cpu",
    "memory",
    "filesystem",
    "interface",
    // The agent's own health is read from Deno wherever it runs.
    "agent",
    "diagnostic",
  ]);
  assert.deepEqual(names("windows"), [
    "processor_queue_length",
    "cpu",
    "memory",
    "filesystem",
    "interface",
    "disk",
    "agent",
    "diagnostic",
  ]);
  assert.deepEqual(names("linux"), [...UPSTREAM, ...OPT_IN, "diagnostic"]);
  // Every collector runs somewhere.
  const placed = new Set(
    (["linux", "darwin", "windows"] as const).flatMap((os) =>
      COLLECTORS.filter((d) => runsOn(d, os))
    ),
  );
  assert.equal(placed.size, COLLECTORS.length);
});

Deno.test("registry: a collector for another system is not built; a fallback for it stands in", async () => {
  // The x86 tree has every source: on "darwin" a /proc reader must still not run.
  const source = createSource({ procfs: join(PROCFS_FIXTURES, "x86") });
  const reader: CollectorDefinition = {
    name: "reader",
    os: ["linux"],
    metrics: [{ name: "reader.value", unit: "float", description: "A value." }],
    sources: (src) => [src.procPath("stat")],
    create: () => {
      throw new Error("the /proc reader must not be built on darwin");
    },
    fallback: {
      sysKind: "loadavg",
      os: ["linux", "darwin"],
      create: () => ({
        name: "reader",
        collect: () => Promise.resolve([{ name: "reader.value", value: 1 }]),
      }),
    },
  };
  const { result, lines } = await captureLogs(() =>
    createCollectors({
      source,
      config: defaultConfig(),
      os: "darwin",
      definitions: [reader, { ...reader, name: "other", fallback: undefined }],
    })
  );
  assert.deepEqual(result.collectors.map((c) => c.name), ["reader"]);
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(lines, ["DEBUG <metrics> collector reader: Deno's built-in on darwin"]);
  assert.deepEqual(await result.collectors[0].collect(at(T0)), [{
    name: "reader.value",
    value: 1,
  }]);
});

Deno.test("registry: collector names are unique on each system; each declares its metrics", () => {
  for (const os of ["linux", "darwin", "windows"] as const) {
    const names = COLLECTORS.filter((d) => runsOn(d, os)).map((d) => d.name);
    assert.equal(new Set(names).size, names.length, `${os}: ${names.join(", ")}`);
  }
  for (const definition of COLLECTORS) {
    const { name, metrics } = definition;
    assert.ok(metrics.length > 0, name);
    const templates = metrics.map((m) => m.name);
    assert.equal(new Set(templates).size, templates.length, `${name}: a metric declared twice`);
    for (const metric of metrics) {
      assert.match(metric.name, /^[A-Za-z0-9_-]+(\.([A-Za-z0-9_-]+|<[a-z]+>))*$/, metric.name);
      assert.match(metric.description, /^[A-Z].*\.$/, `${metric.name}: one sentence`);
      assert.ok(metric.description.length <= 110, `${metric.name}: a short sentence`);
      // Mackerel draws its own graphs of upstream's metrics; a custom one needs a definition.
      assert.equal(metric.graph !== undefined, metric.name.startsWith("custom."), metric.name);
    }
  }
});

Deno.test("registry: graph definitions of the enabled collectors only, each well formed", () => {
  assert.deepEqual(graphDefsFor(defaultConfig()), []);
  assert.deepEqual(
    graphDefsFor({ ...defaultConfig(), diagnostic: true }),
    graphDefsOf(DIAGNOSTIC_COLLECTOR.metrics),
  );
  const files = graphDefsFor({ ...defaultConfig(), collectors: { files: true } });
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
      config: { ...defaultConfig(), collectors: { pressure: true } },
      os: "linux",
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
    os: "linux",
  });
  const opted = collectors.filter((c) => !UPSTREAM.includes(c.name));
  assert.deepEqual(opted.map((c) => c.name), OPT_IN);
  for (const collector of opted) {
    if (collector.name === "inodes" || collector.name === "interface_errors") continue;
    assert.ok((await collector.collect(at(T0)).then((v) => v.length)) > 0, collector.name);
  }
});

/** statfs of the x86 fixture's mount points, each with some inodes. */
const statfsX86 = (path: string): Promise<InodeStatFs> => {
  const blocks = X86_STATFS[path];
  if (!blocks) return Promise.reject(new Error(`ENOENT: statfs '${path}'`));
  return Promise.resolve({ ...blocks, files: 1000, ffree: 400 });
};

/**
 * Every name `definition` (and its fallback) emits in two rounds over fixture trees `first` then
 * `second`, with every setting that changes names on.
 */
async function emitted(
  definition: CollectorDefinition,
  [first, second]: readonly [string, string],
): Promise<string[]> {
  const names: string[] = [];
  for (const useMountpoint of [false, true]) {
    const { source, use } = fixtureTrees();
    use(first);
    const setup: CollectorSetup = {
      source,
      config: {
        ...defaultConfig(),
        filesystems: { useMountpoint },
        collectors: ALL_ON,
        diagnostic: true,
      },
      filesystems: createRoundFilesystems({ source, statfs: statfsX86, deviceOf: x86DeviceOf }),
      health: () => ({
        spool: { records: 2, bytes: 4096 },
        dropped: { full: 0, expired: 0, unreadable: 0, invalid: 0, refused: 0 },
        postLatencyMs: 12,
        plugins: { failed: 0, timedOut: 0 },
      }),
      platform: currentPlatform,
    };
    const collectors = [
      definition.create(setup),
      ...(definition.fallback ? [definition.fallback.create(setup)] : []),
    ];
    for (const collector of collectors) await collector.collect(at(T0));
    use(second);
    for (const collector of collectors) {
      names.push(...(await collector.collect(at(T0 + 60_000))).map((v) => v.name));
    }
  }
  return names;
}

Deno.test("registry: every name a collector emits on the fixture trees is one it declares, and each declared one is emitted", async () => {
  // The fixtures are Linux trees: a collector for another system is proven by its own fixtures.
  for (const definition of COLLECTORS.filter((d) => d.os.includes("linux"))) {
    const templates = definition.metrics.map((m) => m.name);
    const names = [
      ...await emitted(definition, ["x86", "x86-next"]),
      // Before Linux 3.14 memory has buffers, cached and free instead of mem_available.
      ...(definition.name === "memory"
        ? await emitted(definition, ["old-kernel", "old-kernel"])
        : []),
    ];
    for (const name of names) {
      assert.ok(
        templates.some((t) => matchesTemplate(name, t)),
        `${definition.name} emits ${name}, which it does not declare`,
      );
    }
    for (const template of templates) {
      assert.ok(
        names.some((name) => matchesTemplate(name, template)),
        `${definition.name} declares ${template}, never emitted on the fixtures`,
      );
    }
  }
});

Deno.test("registry: [collectors] keys that turn nothing on are named once, with a suggestion", () => {
  assert.deepEqual(collectorKeyWarnings({ tcp: true, files: false }, { os: "linux" }), []);
  assert.deepEqual(
    collectorKeyWarnings({ interface_error: true, tcp: true, foo: false }, { os: "linux" }),
    [
      "collectors.interface_error is unexpected key and is ignored. Did you mean collectors.interface_errors ?",
      "collectors.foo is unexpected key and is ignored.",
    ],
  );
  // A Linux collector switched on elsewhere: known, but it has nothing to run there.
  assert.deepEqual(collectorKeyWarnings({ tcp: true, pressure: false }, { os: "darwin" }), [
    "collectors.tcp is ignored: its collector runs on linux, not darwin.",
  ]);
});
