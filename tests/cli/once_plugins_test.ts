import assert from "node:assert/strict";
import { runAgent } from "../support/agent_process.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("shell-script plugins");

const PLUGINS = new URL("../fixtures/plugins/", import.meta.url).pathname;

unix.test("once: metric plugin values and check results are in the document", async () => {
  const conf = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(
      conf,
      `cloud_platform = "none"
[plugin.metrics.dice]
command = ["${PLUGINS}dice.sh"]
[plugin.metrics.other]
command = "printf 'load.x\\t1.5\\t0\\n'"
custom_identifier = "db-1.example.com"
[plugin.checks.broken]
command = "echo boom; exit 2"
memo = "pager"
[plugin.checks.fine]
command = ["/bin/sh", "-c", "printf 'all good'"]
`,
    );
    const { code, stdout, stderr } = await runAgent(["once", `-conf=${conf}`]);
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(stdout);
    const dice = doc.metrics.filter((m: { name: string }) => m.name.startsWith("custom.dice."));
    assert.deepEqual(dice.map((m: { name: string; value: number }) => [m.name, m.value]), [
      ["custom.dice.d6", 3],
      ["custom.dice.d20", 17],
    ]);
    const other = doc.metrics.find((m: { name: string }) => m.name === "custom.load.x");
    assert.equal(other.value, 1.5);
    assert.equal(other.customIdentifier, "db-1.example.com");
    const checks = doc.checks.map((c: { name: string; status: string; message: string }) => [
      c.name,
      c.status,
      c.message,
    ]);
    assert.deepEqual(checks, [["broken", "CRITICAL", "boom\n"], ["fine", "OK", "all good"]]);
    assert.deepEqual(doc.host.checks, [{ name: "broken", memo: "pager" }, { name: "fine" }]);
  } finally {
    await Deno.remove(conf);
  }
});

unix.test("once: a plugin timeout past any timer's range still lets the plugin run to its end", async () => {
  const conf = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    // 2^31 ms is about 24.9 days: an uncapped timer of 99999999 s would fire after 1 ms and kill
    // the plugin before it prints.
    await Deno.writeTextFile(
      conf,
      `cloud_platform = "none"
[plugin.metrics.slow]
command = "sleep 0.3; printf 'slow.done\\t1\\t0\\n'"
timeout_seconds = 99999999
`,
    );
    const { code, stdout, stderr } = await runAgent(["once", "-skip-checks", `-conf=${conf}`]);
    assert.equal(code, 0, stderr);
    const done = JSON.parse(stdout).metrics.find((m: { name: string }) =>
      m.name === "custom.slow.done"
    );
    assert.equal(done?.value, 1, stderr);
    assert.match(stderr, /'plugin\.metrics\.slow\.timeout_seconds' = 99999999 is more than 86400/);
  } finally {
    await Deno.remove(conf);
  }
});
