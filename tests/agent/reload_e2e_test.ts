/**
 * End-to-end: SIGHUP reloads the configuration of the running daemon (`-interval 1`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnAgent, waitFor } from "../support/agent_process.ts";
import { type DaemonSetup, receivedByTime, stopAgent, withDaemon } from "../support/daemon_run.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("reloads on SIGHUP");

const named = (s: DaemonSetup, name: string) => s.api.metrics().filter((p) => p.name === name);

unix.test("reload: SIGHUP adds a plugin, an opt-in collector, roles and a display name, in the same process", async () => {
  // A misspelt [collectors] key turns nothing on, with one WARNING at start; the reload fixes it.
  const conf =
    '[collectors]\nfilez = true\n[plugin.metrics.kept]\ncommand = "echo kept.value 1 0"\n';
  await withDaemon(conf, async (s) => {
    const agent = spawnAgent(s.args);
    await waitFor(() => named(s, "custom.kept.value").length >= 2, "the first plugin's values");
    assert.equal(named(s, "custom.files.used").length, 0);
    const pid = await Deno.readTextFile(join(s.dir, "agent.pid"));
    await Deno.writeTextFile(
      join(s.dir, "agent.conf"),
      `cloud_platform = "none"
display_name = "reloaded"
roles = ["web:app"]
[collectors]
files = true
[plugin.metrics.kept]
command = "echo kept.value 1 0"
[plugin.metrics.added]
command = "echo added.value 2 0"
`,
    );
    agent.kill("SIGHUP");
    await waitFor(() => named(s, "custom.added.value").length >= 2, "the added plugin's values");
    await waitFor(() => named(s, "custom.files.used").length >= 1, "the opt-in collector");
    const update = () =>
      s.api.requests.find((r) =>
        r.method === "PUT" && (r.body as { displayName?: string })?.displayName === "reloaded"
      );
    await waitFor(() => update() !== undefined, "the host update with the new display name");
    assert.deepEqual((update()!.body as { roleFullnames: string[] }).roleFullnames, ["web:app"]);
    assert.equal(await Deno.readTextFile(join(s.dir, "agent.pid")), pid, "the same process");
    assert.match(
      agent.stderr(),
      /INFO <main> Reloaded .*agent\.conf: new collectors, metric plugins/,
    );
    assert.equal(await stopAgent(agent), 0, agent.stderr());

    // No round was skipped: loadavg1 has every second from the first to the last.
    const seconds = named(s, "loadavg1").map((p) => p.time).sort((a, b) => a - b);
    const first = seconds[0];
    assert.deepEqual(seconds, seconds.map((_, i) => first + i), "one loadavg1 a second");
    receivedByTime(s.api); // and nothing twice
    assert.equal(agent.stderr().includes("Starting mackerel-agent"), true);
    assert.equal(agent.stderr().split("Starting mackerel-agent").length, 2, "started once");
    const typo = agent.stderr().split("\n").filter((l) => l.includes("filez"));
    assert.equal(typo.length, 1, typo.join("\n"));
    assert.match(
      typo[0],
      /WARNING <main> collectors\.filez is unexpected key and is ignored\. Did you mean collectors\.files \?$/,
    );
  });
});

unix.test("reload: a broken config on SIGHUP keeps the agent running on the old one", async () => {
  await withDaemon('[plugin.metrics.kept]\ncommand = "echo kept.value 1 0"\n', async (s) => {
    const agent = spawnAgent(s.args);
    await waitFor(() => named(s, "custom.kept.value").length >= 1, "the plugin's values");
    const conf = join(s.dir, "agent.conf");
    await Deno.writeTextFile(conf, 'cloud_platform = "none"\n[plugin.metrics.kept\ncommand = 1\n');
    agent.kill("SIGHUP");
    await waitFor(() => agent.stderr().includes("reload failed"), "the reload error");
    const before = named(s, "custom.kept.value").length;
    await waitFor(() => named(s, "custom.kept.value").length >= before + 2, "more values after");
    assert.equal(await stopAgent(agent), 0, agent.stderr());
    const errors = agent.stderr().split("\n").filter((l) => l.includes("reload failed"));
    assert.equal(errors.length, 1);
    assert.ok(errors[0].includes(conf), errors[0]);
    assert.match(
      errors[0],
      /ERROR <main> reload failed, keeping the running configuration: failed to load the config file: .*line 2/,
    );
  });
});
