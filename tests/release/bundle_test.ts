/**
 * The release binary is compiled from the bundle (`scripts/compile.ts`, `deno bundle`: `main.js`
 * and its chunks), so the bundle must behave as the sources do: the same `once` document from a
 * fixture tree, the same one-line config error and exit code. What the daemon does not need at
 * start is a chunk `deno compile` still embeds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
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
 * What the daemon loads (main.js and the daemon's chunk, with their static imports) leaves out the
 * [otlp] exporter, the other commands and every `node:` module (Deno's Node polyfills); those are chunks
 * imported by a literal path, which `deno compile` follows, or built-ins of the runtime.
 */
async function staticAndDynamicChunks(main: string): Promise<void> {
  const graph = await moduleGraph(main);
  const byUrl = new Map(graph.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    if (loaded.has(specifier)) return;
    loaded.add(specifier);
    for (const dependency of byUrl.get(specifier)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code) visit(dependency.code.specifier);
    }
  };
  const dynamic = graph.modules.flatMap((m) => m.dependencies ?? []).filter((d) => d.isDynamic);
  for (const dependency of dynamic) {
    assert.match(dependency.specifier, /^(\.\/[\w-]+\.js|node:[\w/]+)$/);
  }
  const chunk = (name: string) => {
    const found = dynamic.find((d) => d.specifier.startsWith(`./${name}-`));
    assert.ok(found?.code, `${name} is a chunk imported dynamically`);
    return found.code.specifier;
  };
  visit(pathToFileURL(main).href);
  visit(chunk("daemon"));
  for (const other of ["pipeline", "once", "status", "service", "init", "retire", "supervise"]) {
    assert.ok(!loaded.has(chunk(other)), `the daemon does not load ${other}`);
  }
  // Each `node:` module loads Deno's Node polyfills; the daemon imports none (src/file_path.ts).
  assert.deepEqual([...loaded].filter((s) => s.startsWith("node:")), [], "no node: module");
  const chunks = [...loaded].filter((s) => /\/chunk-[\w-]+\.js$/.test(s));
  assert.ok(chunks.length >= 3, `the static graph was followed: ${chunks.length} chunks`);
}
