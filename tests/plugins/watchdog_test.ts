import assert from "node:assert/strict";
import { join } from "node:path";
import { daemonArgs, spawnAgent } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { isRunning } from "../support/pids.ts";
import { PLUGIN_FIXTURES } from "../support/plugin_fixtures.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { waitFor } from "../support/wait.ts";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("util-linux setsid; a sh watchdog ending process groups");

const AGENT_LIKE = PLUGIN_FIXTURES + "agent_like.ts";

/** Reads the pid a fixture recorded in `dir/name`, once the file is there. */
async function recordedPid(dir: string, name: string): Promise<number> {
  let pid = 0;
  await waitFor(() => {
    try {
      pid = Number(Deno.readTextFileSync(join(dir, name)));
    } catch {
      return false;
    }
    return pid > 0;
  }, `the pid in ${name}`);
  return pid;
}

/** The pids of both plugins of record_pids.sh and their grandchildren. */
function pluginPids(dir: string): Promise<number[]> {
  return Promise.all(
    ["plain.parent", "plain.child", "stubborn.parent", "stubborn.child"].map((name) =>
      recordedPid(dir, name)
    ),
  );
}

/** A process of the test's own, in a session of its own, that nobody else should end. */
function startBystander(): Deno.ChildProcess {
  return new Deno.Command("setsid", { args: ["sleep", "60"], stdin: "null" }).spawn();
}

linux.test("watchdog: plugins and their grandchildren end when the agent is SIGKILLed", async () => {
  await withTempDir("watchdog", async (dir) => {
    const bystander = startBystander();
    const agent = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", AGENT_LIKE, dir, String(bystander.pid)],
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    const guard = setTimeout(() => agent.kill("SIGKILL"), 30_000);
    try {
      const pids = await pluginPids(dir);
      const watchdog = await recordedPid(dir, "watchdog");
      for (const pid of [...pids, watchdog]) assert.ok(isRunning(pid), `${pid} runs`);
      agent.kill("SIGKILL");
      assert.equal((await agent.status).signal, "SIGKILL");
      // SIGTERM at once, SIGKILL a second later for the stubborn ones; then the watchdog exits.
      await waitFor(
        () => [...pids, watchdog].every((pid) => !isRunning(pid)),
        "the plugins, their grandchildren and the watchdog to end",
        { timeoutMs: 10_000 },
      );
      assert.ok(isRunning(bystander.pid), "an unlisted pid is left alone");
    } finally {
      clearTimeout(guard);
      try {
        agent.kill("SIGKILL");
      } catch {
        // Already gone, as intended.
      }
      await agent.status;
      bystander.kill("SIGKILL");
      await bystander.status;
    }
  });
});

linux.test("watchdog: the real daemon's plugins end when it is SIGKILLed", async () => {
  await withTempDir("watchdog_daemon", async (dir) => {
    const api = await startFakeMackerel();
    try {
      await Deno.writeTextFile(
        join(dir, "agent.conf"),
        `cloud_platform = "none"
[plugin.metrics.plain]
command = ["${PLUGIN_FIXTURES}runtime/record_pids.sh", "plain", ""]
env = { PID_DIR = "${dir}" }
timeout_seconds = 60
[plugin.metrics.stubborn]
command = ["${PLUGIN_FIXTURES}runtime/record_pids.sh", "stubborn", "stubborn"]
env = { PID_DIR = "${dir}" }
timeout_seconds = 60
`,
      );
      const agent = spawnAgent([...daemonArgs(dir, api), "-interval=1"], { timeoutMs: 30_000 });
      const pids = await pluginPids(dir);
      for (const pid of pids) assert.ok(isRunning(pid), `${pid} runs`);
      agent.kill("SIGKILL");
      assert.equal(await agent.exited, 137);
      await waitFor(
        () => pids.every((pid) => !isRunning(pid)),
        "the plugins and their grandchildren to end",
        { timeoutMs: 10_000 },
      );
    } finally {
      await api.close();
    }
  });
});
