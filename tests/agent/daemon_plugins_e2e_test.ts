/**
 * End-to-end: the real agent with plugins against the fake Mackerel API — custom metrics, graph
 * definitions, check reports from a real Nagios plugin, and metadata.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { daemonArgs, spawnAgent, waitFor } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("shell-script plugins, stopped with SIGTERM");

const PLUGINS = new URL("../fixtures/plugins/", import.meta.url).pathname;
const CHECK_DUMMY = "/usr/lib/nagios/plugins/check_dummy";
const haveNagios = await Deno.stat(CHECK_DUMMY).then(() => true, () => false);

Deno.test({
  name: "daemon plugins: custom metrics, graph defs, Nagios check reports and metadata arrive" +
    (haveNagios ? "" : " (skipped: monitoring-plugins-basic not installed)"),
  ignore: !haveNagios,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "agent-plugins-" });
    const api = await startFakeMackerel();
    try {
      const conf = join(dir, "agent.conf");
      await Deno.writeTextFile(
        conf,
        `cloud_platform = "none"
[plugin.metrics.dice]
command = ["${PLUGINS}dice.sh"]
[plugin.checks.nagios]
command = ["${CHECK_DUMMY}", "2", "disk on fire"]
max_check_attempts = 3
[plugin.metadata.inventory]
command = "echo '{\\"rack\\": \\"A-12\\"}'"
`,
      );
      const agent = spawnAgent([...daemonArgs(dir, api), "-interval=1"], {
        env: { MACKEREL_PLUGIN_WORKDIR: dir },
      });
      await waitFor(
        () => api.metrics().some((p) => p.name === "custom.dice.d20"),
        "custom metrics",
      );
      await waitFor(() => api.checkReports().length > 0, "a check report");
      // Metadata runs 10 agent seconds after start: a sixth of a second here.
      await waitFor(() => api.metadata.size > 0, "metadata");
      agent.kill("SIGTERM");
      assert.equal(await agent.exited, 0, agent.stderr());

      const id = await Deno.readTextFile(join(dir, "root", "id"));
      const dice = api.metrics().find((p) => p.name === "custom.dice.d6");
      assert.deepEqual({ ...dice, time: 0 }, {
        hostId: id,
        name: "custom.dice.d6",
        time: 0,
        value: 3,
      });
      assert.deepEqual(api.graphDefs(), [{
        name: "custom.dice",
        displayName: "My Dice",
        unit: "integer",
        metrics: [
          { name: "custom.dice.d6", displayName: "Die (d6)", isStacked: false },
          { name: "custom.dice.d20", displayName: "Die (d20)", isStacked: false },
        ],
      }]);
      const report = api.checkReports()[0] as Record<string, unknown>;
      assert.deepEqual({ ...report, occurredAt: 0 }, {
        source: { type: "host", hostId: id },
        name: "nagios",
        status: "CRITICAL",
        message: "CRITICAL: disk on fire\n",
        occurredAt: 0,
        maxCheckAttempts: 3,
      });
      assert.deepEqual(api.metadata.get(`${id}/inventory`), { rack: "A-12" });
      const host = api.hosts.get(id)!;
      assert.deepEqual((host.payload as { checks: unknown }).checks, [{ name: "nagios" }]);
      assert.deepEqual(api.violations, []);
    } finally {
      await api.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

unix.test("daemon plugins: a slow plugin does not turn SIGTERM into a forced stop", async () => {
  const dir = await Deno.makeTempDir({ prefix: "agent-slow-" });
  const api = await startFakeMackerel();
  try {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(
      conf,
      `cloud_platform = "none"\n[plugin.metrics.dice]\ncommand = ["${PLUGINS}dice.sh"]\n` +
        `[plugin.metrics.slow]\ncommand = "sleep 20"\n`,
    );
    const agent = spawnAgent([...daemonArgs(dir, api), "-interval=2"]);
    await waitFor(() => api.metrics().some((p) => p.name === "custom.dice.d6"), "custom metrics");
    const stopped = Date.now();
    agent.kill("SIGTERM");
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.ok(Date.now() - stopped < 10_000, `stopped in ${Date.now() - stopped} ms`);
    assert.ok(!agent.stderr().includes("force return"), agent.stderr());
    assert.ok(!agent.stderr().includes("Timed out. force shutdown."), agent.stderr());
  } finally {
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
});
