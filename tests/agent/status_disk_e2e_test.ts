/**
 * End-to-end: an agent whose root is full or read-only cannot rewrite `status.json`; `status` still
 * calls it running (degraded, exit 1: its backlog may be in memory, and a supervisor restarting on
 * exit 3 would lose it), and says where its spool is once the file can be written again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, spawnAgent, type SpawnedAgent, waitFor } from "../support/agent_process.ts";
import {
  assertAllArrived,
  type DaemonSetup,
  enqueued,
  receivedByTime,
  stopAgent,
  withDaemon,
} from "../support/daemon_run.ts";
import { tmpfsUnavailable, withTmpfs } from "../support/tmpfs.ts";

const skip = tmpfsUnavailable();
const skipped = skip === undefined ? "" : ` (skipped: ${skip})`;

/** `status` for the setup's root, and the status file as the agent last wrote it. */
function statusOf(s: DaemonSetup) {
  const root = join(s.dir, "root");
  return {
    root,
    run: () => runAgent(["status", `-conf=${join(s.dir, "agent.conf")}`, `-root=${root}`]),
    async file() {
      try {
        return JSON.parse(await Deno.readTextFile(join(root, "status.json")));
      } catch {
        return undefined;
      }
    },
  };
}

/** Runs `fn` with a spawned agent, killed (and waited for) if `fn` leaves it running. */
async function withAgent(
  args: readonly string[],
  fn: (agent: SpawnedAgent) => Promise<void>,
): Promise<void> {
  const agent = spawnAgent(args);
  let done = false;
  agent.exited.then(() => done = true);
  try {
    await fn(agent);
  } finally {
    if (!done) agent.kill("SIGKILL");
    await agent.exited;
  }
}

Deno.test({
  name:
    `status: an agent on a full root is running with a stale file, then its spool in memory${skipped}`,
  ignore: skip !== undefined,
  fn: () =>
    withDaemon("", async (s) => {
      const status = statusOf(s);
      await withTmpfs({ path: status.root, sizeBytes: 1024 * 1024 }, async (tmpfs) => {
        await withAgent(s.args, async (agent) => {
          await waitFor(async () => (await status.file())?.delivery?.lastSuccessAt, "a post");
          assert.equal((await status.run()).code, 0);

          // Full: the spool goes to memory (and drops its segment, freeing a little); fill again.
          const fillers = [await tmpfs.fill()];
          await waitFor(() => agent.stderr().includes("keeping data in memory"), "the spool");
          fillers.push(await tmpfs.fill());
          const warning = `cannot write ${join(status.root, "status.json")}: `;
          await waitFor(() => agent.stderr().includes(warning), "the WARNING");
          let stale = await status.run();
          await waitFor(async () => (stale = await status.run()).stdout.includes("stale"), "stale");
          assert.equal(stale.code, 1);
          assert.match(
            stale.stdout,
            new RegExp(
              `^mackerel-agent \\S+ \\(rev \\S+\\) is running: pid ${agent.pid}, .*\\ndegraded:\\n` +
                ` {2}- status file stale since \\S+ \\(the agent cannot write ${status.root}: ` +
                "full or read-only\\?\\); its spool may be in memory; what follows is as of then\\n",
            ),
          );

          // Space again: the file says where the spool is (in memory until the disk is retried).
          for (const filler of fillers) await Deno.remove(filler);
          await waitFor(
            async () => /; spool in memory: \d+ bytes \(.+\)/.test((await status.run()).stdout),
            "the spool in memory",
          );
          const doc = await status.file();
          assert.equal(doc.delivery.spool.durable, false);
          assert.equal(doc.delivery.spool.dir, undefined);
          assert.match(doc.delivery.spool.diskError, /No space left on device/);
          assert.equal(agent.stderr().split(warning).length - 1, 1, "one WARNING");

          assert.equal(await stopAgent(agent), 0, agent.stderr());
          assertAllArrived(receivedByTime(s.api), enqueued(agent));
          const stopped = await status.run();
          assert.equal(stopped.code, 3, stopped.stdout);
          assert.match(stopped.stdout, /is not running for root .*: stopped at /);
        });
      });
    }),
});

Deno.test({
  name: `status: an agent started on a read-only root holds the spool's lock: running${skipped}`,
  ignore: skip !== undefined,
  fn: () =>
    withDaemon("", async (s) => {
      const status = statusOf(s);
      await withTmpfs({ path: status.root, sizeBytes: 1024 * 1024 }, async (tmpfs) => {
        // A first run leaves the host id, the lock file and a file saying "stopped".
        await withAgent(s.args, async (agent) => {
          await waitFor(async () => (await status.file())?.delivery?.lastSuccessAt, "a post");
          assert.equal(await stopAgent(agent), 0, agent.stderr());
        });
        const earlier = await status.file();
        await tmpfs.readOnly();
        await withAgent(s.args, async (agent) => {
          const posted = s.api.metrics().length;
          await waitFor(() => s.api.metrics().length > posted, "a post from the read-only root");
          const running = await status.run();
          assert.equal(running.code, 1, running.stdout + running.stderr);
          // The lock file still names the first agent: the pid is unknown, the lock is what counts.
          assert.equal(
            running.stdout.trimEnd(),
            `mackerel-agent is running for root ${status.root}: it holds ` +
              `${join(status.root, "spool", "lock")}; its pid is unknown\ndegraded:\n  - status ` +
              `file stale since ${earlier.updatedAt} (the agent cannot write ${status.root}: ` +
              "full or read-only?); its spool may be in memory",
          );
          assert.equal(await stopAgent(agent), 0, agent.stderr());
        });
        const stopped = await status.run();
        assert.equal(stopped.code, 3, stopped.stdout);
      });
    }),
});
