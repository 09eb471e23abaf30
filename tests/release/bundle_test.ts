/**
 * The release binary is compiled from one bundled file (`scripts/compile.ts`, `deno bundle`), so
 * the bundle must behave as the sources do: the same `once` document from a fixture tree, the same
 * one-line config error and exit code.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleOne } from "../../scripts/compile.ts";
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
    const bundle = join(dir, "agent.js");
    await bundleOne({ entry: "main.ts", output: bundle });
    // The [otlp] modules the daemon imports on demand are inside the bundle, initialised lazily.
    const text = await Deno.readTextFile(bundle);
    assert.doesNotMatch(text, /\bimport\(\s*["'`]/, "no import() of a file left in the bundle");
    assert.match(text, /src\/otlp\/pipeline\.ts/);
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
