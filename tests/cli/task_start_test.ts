/**
 * Ctrl-C as a terminal delivers it: SIGINT to the whole foreground process group, so under
 * `deno task start` the agent gets one from the terminal and one forwarded by the task runner.
 * That must be one graceful stop (exit 0); a second Ctrl-C a moment later still forces the stop.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type AgentOutput, spawnAgent } from "../support/agent_process.ts";
import { type FakeMackerel, startFakeMackerel } from "../support/fake_mackerel.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { waitFor } from "../support/wait.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** A minute of 4 s: rounds come quickly, and the graceful limit (half a minute) is 2 s. */
const INTERVAL = "-interval=4";

/** The process group of `pid`, from the fifth field of `/proc/<pid>/stat`. */
function processGroup(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** The flags that point the agent at the fake API and keep its files in `dir`. */
function agentFlags(dir: string, api: FakeMackerel): string[] {
  return [
    `-root=${join(dir, "root")}`,
    `-pidfile=${join(dir, "agent.pid")}`,
    `-apibase=${api.url}`,
    `-apikey=${api.apiKey}`,
    INTERVAL,
    "-v",
  ];
}

/**
 * Makes the next stop take a while, so that every copy of a signal arrives while the agent still
 * runs: posts fail until a round waits in the queue, then the drain at stop takes `delayMs`.
 */
async function slowDrain(api: FakeMackerel, delayMs: number): Promise<void> {
  const recover = api.failWhile((r) => r.path === "/api/v0/tsdb", 503);
  await waitFor(
    () => api.requests.some((r) => r.path === "/api/v0/tsdb" && r.status === 503),
    "a failed post",
  );
  recover();
  api.setDelay(delayMs);
}

const GRACEFUL = "Received signal 'interrupt', try graceful shutdown";
const STARTED = "INFO <command> Start: ";

Deno.test({
  name: "deno task start: one Ctrl-C to the process group is one graceful stop",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const api = await startFakeMackerel();
    await withTempDir("task-start-", async (dir) => {
      // The task passes its own flags (-conf ./local.conf, maybe more); these come after them and
      // win. With a key the agent posts to the fake, whatever the task asks for when there is none.
      // setsid: the task runner leads a new process group holding only it and the agent.
      const child = new Deno.Command("setsid", {
        args: [Deno.execPath(), "task", "start", ...agentFlags(dir, api)],
        cwd: REPO,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).spawn();
      let err = "";
      const exited = Promise.all([
        (async () => {
          for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) err += text;
        })(),
        child.status,
      ]).then(([, status]) => status.code);
      const group = child.pid;
      try {
        // setsid(1) forks or execs before it calls setsid(2): wait until the group exists.
        await waitFor(() => processGroup(group) === group, "the task runner's own group");
        assert.notEqual(group, processGroup(Deno.pid));
        // Signal handlers are installed once the host is registered (upstream's order).
        await waitFor(() => err.includes(STARTED), "the agent to start");
        await slowDrain(api, 300);
        Deno.kill(-group, "SIGINT");
        const code = await exited;
        assert.ok(!err.includes("force return") && !err.includes("force shutdown."), err);
        assert.equal(code, 0, err);
        assert.equal(err.split(GRACEFUL).length - 1, 1, err);
        // The drain delivered the round the failed post had left in the queue.
        assert.ok(api.requests.some((r) => r.path === "/api/v0/tsdb" && r.status === 200), err);
      } finally {
        try {
          Deno.kill(-group, "SIGKILL");
        } catch {
          // The group has ended.
        }
        await exited.catch(() => undefined);
        await api.close();
      }
    });
  },
});

Deno.test({
  name: "agent: a copy of INT at once is the same stop; another INT a moment later forces it",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const api = await startFakeMackerel();
    await withTempDir("repeat-int-", async (dir) => {
      await Deno.writeTextFile(join(dir, "agent.conf"), "");
      const agent = spawnAgent([`-conf=${join(dir, "agent.conf")}`, ...agentFlags(dir, api)]);
      let result: AgentOutput | undefined;
      try {
        await waitFor(() => agent.stderr().includes(STARTED), "the agent to start");
        // A drain longer than the window: the third INT lands while the agent still drains.
        await slowDrain(api, 1500);
        agent.kill("SIGINT");
        const first = performance.now();
        await waitFor(() => agent.stderr().includes(GRACEFUL), "the graceful stop");
        agent.kill("SIGINT");
        await waitFor(
          () => agent.stderr().includes("again within 500 ms; taken as the same stop request"),
          "the copy to be taken as the same request",
        );
        // The window is the thing under test: let it pass, then Ctrl-C again.
        await waitFor(() => performance.now() - first > 600, "the window to pass");
        agent.kill("SIGINT");
        result = { code: await agent.exited, stdout: agent.stdout(), stderr: agent.stderr() };
      } finally {
        if (!result) agent.kill("SIGKILL");
        await agent.exited;
        await api.close();
      }
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /INFO <main> Received signal 'interrupt' again, force shutdown\./,
      );
      assert.match(result.stderr, /received terminate instruction again\. force return/);
    });
  },
});
