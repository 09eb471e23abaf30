/**
 * End-to-end: a stop in every phase of the start and with a plugin that will not stop is a clean
 * stop - exit 0, nothing half done - never a death by the signal.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnAgent, waitFor } from "../support/agent_process.ts";
import { enqueued, withDaemon } from "../support/daemon_run.ts";
import { onLinux, onUnix } from "../support/platform.ts";

const unix = onUnix("sends SIGTERM to the agent");
const linux = onLinux("reads /proc/<pid>");

/** The exit code, or a failure when the agent is still running after `ms`. */
async function exitWithin(agent: { exited: Promise<number> }, ms: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after the stop`)), ms);
  });
  try {
    return await Promise.race([agent.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

unix.test("stop: SIGTERM while registration retries is a clean exit 0", async () => {
  await withDaemon("", async (s) => {
    s.api.failWhile((r) => r.method === "POST" && r.path === "/api/v0/hosts", 503);
    const agent = spawnAgent(s.args);
    await waitFor(() => /retrying/.test(agent.stderr()), "a registration retry");
    agent.kill("SIGTERM");
    assert.equal(await exitWithin(agent, 10_000), 0, agent.stderr());
    assert.match(agent.stderr(), /Stopped before the host was registered; nothing was collected/);
  });
});

unix.test("stop: SIGTERM right after the start line is a clean exit 0", async () => {
  await withDaemon("", async (s) => {
    const agent = spawnAgent(s.args);
    await waitFor(() => /Starting mackerel-agent/.test(agent.stderr()), "the start line");
    agent.kill("SIGTERM");
    assert.equal(await exitWithin(agent, 10_000), 0, agent.stderr());
  });
});

unix.test("stop: SIGTERM while waiting for another agent's spool is a clean exit 0", async () => {
  await withDaemon("", async (s) => {
    const first = spawnAgent(s.args);
    await waitFor(() => enqueued(first).size >= 1, "the first agent's round");
    // A long minute: the second agent waits for the lock for most of it.
    const args = s.args.map((a) =>
      a.startsWith("-pidfile=") ? `-pidfile=${join(s.dir, "second.pid")}` : a
    ).map((a) => a === "-interval=1" ? "-interval=60" : a);
    const second = spawnAgent(args);
    await waitFor(() => /waiting up to \d+ seconds/.test(second.stderr()), "the wait");
    second.kill("SIGTERM");
    assert.equal(await exitWithin(second, 10_000), 0, second.stderr());
    assert.match(second.stderr(), /Stopped while waiting for the spool/);
    first.kill("SIGTERM");
    assert.equal(await first.exited, 0, first.stderr());
  });
});

linux.test("stop: plugins that ignore SIGTERM do not hold the stop; they are killed and the exit is 0", async () => {
  await withDaemon("", async (s) => {
    const pids = join(s.dir, "plugin.pids");
    await Deno.writeTextFile(
      join(s.dir, "agent.conf"),
      `cloud_platform = "none"\n[plugin.metrics.stuck]\n` +
        `command = "echo $$ >> ${pids}; trap '' TERM; while :; do sleep 1; done"\n` +
        `timeout_seconds = 120\n` +
        `[plugin.checks.stuck]\n` +
        `command = "echo $$ >> ${pids}; trap '' TERM; while :; do sleep 1; done"\n` +
        `timeout_seconds = 120\n`,
    );
    // Five seconds a minute: the graceful limit is 2.5 s.
    const args = s.args.map((a) => a === "-interval=1" ? "-interval=5" : a);
    const agent = spawnAgent(args);
    const started = () => {
      try {
        return Deno.readTextFileSync(pids).trim().split("\n").map(Number);
      } catch {
        return [];
      }
    };
    // The metric run of the first round and its meta run (graph definitions), which holds the
    // plugin loops: the check plugin never gets its turn.
    await waitFor(() => started().length >= 2, "two plugin runs under way", { timeoutMs: 30_000 });
    agent.kill("SIGTERM");
    assert.equal(await exitWithin(agent, 10_000), 0, agent.stderr());
    assert.doesNotMatch(agent.stderr(), /force return|Timed out\. force shutdown/);
    await waitFor(() =>
      started().every((pid) => {
        try {
          Deno.statSync(`/proc/${pid}`);
          return false;
        } catch {
          return true;
        }
      }), "every plugin gone");
  });
});
