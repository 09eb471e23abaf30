/**
 * Issue "Plugins", done-when: the sample config with its plugin sections uncommented, pointing at
 * plugins that exist here, passes configtest and runs against the fake API.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, spawnAgent, waitFor } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";

const SAMPLE = new URL("../../packaging/mackerel-agent.conf", import.meta.url);
const PLUGINS = new URL("../fixtures/plugins/", import.meta.url).pathname;
const CHECK_PROCS = "/usr/lib/nagios/plugins/check_procs";
const haveNagios = await Deno.stat(CHECK_PROCS).then(() => true, () => false);

/** Uncomments the sample's plugin sections and points their commands at plugins found here. */
function uncommentPlugins(sample: string, confD: string): string {
  const out: string[] = [];
  let inPlugin = false;
  for (const line of sample.split("\n")) {
    const header = line.match(/^# (\[plugin\.[^\]]+\])$/);
    if (header) inPlugin = true;
    else if (!line.startsWith("# ") || line.startsWith("#  ")) inPlugin = inPlugin && line !== "";
    out.push(inPlugin && line.startsWith("# ") ? line.slice(2) : line);
  }
  return out.join("\n")
    .replace(/^include = .*$/m, `include = "${confD}/*.conf"`)
    .replaceAll(/^command = .*mackerel-plugin-.*$/gm, `command = ["${PLUGINS}dice.sh"]`)
    .replace(
      /^command = "check-procs --pattern sshd"$/m,
      `command = ["${CHECK_PROCS}", "-w", "1:"]`,
    )
    .replace(/^action = .*$/m, `action = { command = "true", env = { LEVEL = "x" } }`)
    .replace(/^command = "\/usr\/local\/bin\/list-packages-as-json"$/m, `command = "echo '[]'"`);
}

Deno.test({
  name: "sample config: plugin sections uncommented pass configtest and run" +
    (haveNagios ? "" : " (skipped: monitoring-plugins-basic not installed)"),
  ignore: !haveNagios,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sample-conf-" });
    const api = await startFakeMackerel();
    try {
      const confD = join(dir, "conf.d");
      await Deno.mkdir(confD);
      await Deno.writeTextFile(
        join(confD, "key.conf"),
        `apikey = "${api.apiKey}"\ncloud_platform = "none"\n`,
      );
      const conf = join(dir, "mackerel-agent.conf");
      const text = uncommentPlugins(await Deno.readTextFile(SAMPLE), confD);
      for (const section of ["linux", "mysql", "nginx", "redis"]) {
        assert.match(text, new RegExp(`^\\[plugin\\.metrics\\.${section}\\]$`, "m"));
      }
      assert.match(text, /^\[plugin\.checks\.ssh\]$/m);
      await Deno.writeTextFile(conf, text);

      const test = await runAgent(["configtest", `-conf=${conf}`]);
      assert.equal(test.stderr, `SUCCESS (${conf})\n`);
      assert.equal(test.code, 0);

      const agent = spawnAgent([
        `-conf=${conf}`,
        `-apibase=${api.url}`,
        `-root=${join(dir, "root")}`,
        `-pidfile=${join(dir, "pid")}`,
        "-interval=1",
      ]);
      await waitFor(() => api.metrics().some((p) => p.name === "custom.dice.d6"), "plugin metrics");
      await waitFor(() => api.checkReports().length > 0, "the ssh check report");
      agent.kill("SIGTERM");
      assert.equal(await agent.exited, 0, agent.stderr());
      const report = api.checkReports()[0] as { name: string; status: string; message: string };
      assert.equal(report.name, "ssh");
      assert.equal(report.status, "OK");
      assert.match(report.message, /^PROCS OK: /);
      assert.deepEqual(api.violations, []);
    } finally {
      await api.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
