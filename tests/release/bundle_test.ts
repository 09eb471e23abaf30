/**
 * The release binary is compiled from the bundle (`scripts/compile.ts`, `deno bundle`: `main.js`
 * and its chunks), so the bundle must behave as the sources do: the same `once` document from a
 * fixture tree, the same one-line config error and exit code. What the daemon does not need at
 * start is a chunk `deno compile` still embeds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleOne, moduleGraph } from "../../scripts/compile.ts";
import { runAgent } from "../support/agent_process.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("once on a Linux procfs tree");

const FIXTURE = new URL("../fixtures/host/", import.meta.url).pathname;

/**
 * The `once` document without what names the build (the revision comes from git or the build) and
 * without what is live: filesystems are statfs'd on this host, whose disk other tests write to.
 */
function comparable(stdout: string): unknown {
  const doc = JSON.parse(stdout);
  for (const key of ["agent-revision", "agent-name", "filesystem"]) delete doc.host.meta[key];
  for (const metric of doc.metrics) {
    delete metric.time;
    if (metric.name.startsWith("filesystem.")) delete metric.value;
  }
  return doc;
}

linux.test("bundle: the bundled agent prints the same once document and config errors", async () => {
  await withTempDir("bundle-", async (dir) => {
    const bundle = await bundleOne({ entry: "main.ts", outDir: join(dir, "bundle") });
    assert.equal(bundle, join(dir, "bundle", "main.js"));
    await staticAndDynamicChunks(bundle);
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(conf, 'cloud_platform = "none"\nroles = ["web:app"]\n');
    const once = [
      "once",
      `-conf=${conf}`,
      "-skip-checks",
      `-procfs=${join(FIXTURE, "proc")}`,
      `-sysfs=${join(FIXTURE, "sys")}`,
    ];
    const [fromSource, fromBundle] = await Promise.all([
      runAgent(once),
      runAgent(once, { entry: bundle }),
    ]);
    assert.equal(fromSource.code, 0, fromSource.stderr);
    assert.equal(fromBundle.code, 0, fromBundle.stderr);
    assert.deepEqual(comparable(fromBundle.stdout), comparable(fromSource.stdout));
    assert.ok((comparable(fromBundle.stdout) as { metrics: unknown[] }).metrics.length > 10);

    const broken = join(dir, "broken.conf");
    await Deno.writeTextFile(broken, 'apikey = "k"\n[plugin.metrics.x]\ncommand = 42\n');
    const check = ["configtest", `-conf=${broken}`];
    const [sourceCheck, bundleCheck] = await Promise.all([
      runAgent(check),
      runAgent(check, { entry: bundle }),
    ]);
    assert.notEqual(sourceCheck.code, 0);
    assert.equal(bundleCheck.code, sourceCheck.code);
    assert.equal(bundleCheck.stderr, sourceCheck.stderr);
    assert.doesNotMatch(bundleCheck.stderr, /\n\s+at /, "no stack trace");
  });
});

/**
 * The [otlp] exporter the daemon imports on demand is a chunk of its own, imported by a literal
 * path (which `deno compile` follows), and `node:http2` is not in what the daemon loads at start.
 */
async function staticAndDynamicChunks(main: string): Promise<void> {
  const graph = await moduleGraph(main);
  const byUrl = new Map(graph.modules.map((m) => [m.specifier, m]));
  const atStart = new Set<string>();
  const visit = (specifier: string) => {
    if (atStart.has(specifier)) return;
    atStart.add(specifier);
    for (const dependency of byUrl.get(specifier)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code) visit(dependency.code.specifier);
    }
  };
  const mainUrl = new URL(`file://${main}`).href;
  visit(mainUrl);
  const dynamic = (byUrl.get(mainUrl)?.dependencies ?? []).filter((d) => d.isDynamic);
  assert.ok(dynamic.length >= 1, "the [otlp] pipeline is imported dynamically");
  for (const dependency of dynamic) assert.match(dependency.specifier, /^\.\/[\w-]+\.js$/);
  const late = graph.modules.filter((m) => !atStart.has(m.specifier)).map((m) => m.specifier);
  assert.ok(late.some((s) => /\/pipeline-[\w]+\.js$/.test(s)), `late chunks: ${late}`);
  assert.ok(late.includes("node:http2"), "node:http2 is loaded with [otlp] only");
  assert.ok(atStart.has("node:process"), "the static graph was followed");
}
