/**
 * End-to-end: an agent whose root is full or read-only cannot rewrite `status.json`; `status` still
 * calls it running (degraded, exit 1: its backlog may be in memory, and a supervisor restarting on
 * exit 3 would lose it). With only its spool's disk full, the file says where the spool is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, spawnAgent, type SpawnedAgent, waitFor } from "../support/agent_process.ts";
import { type DaemonSetup, stopAgent, withDaemon } from "../support/daemon_run.ts";
import { tmpfsUnavailable, withTmpfs } from "../support/tmpfs.ts";

const skipped = tmpfsUnavailable === undefined ? "" : ` (skipped: ${tmpfsUnavailable})`;

/** The setup's flags with `-root=root`, `status` for that root, and the file the agent wrote. */
function onRoot(s: DaemonSetup, root: string) {
  return {
    args: s.args.map((a) => a.startsWith("-root=") ? `-root=${root}` : a),
    status: () => runAgent(["status", `-conf=${join(s.dir, "agent.conf")}`, `-root=${root}`]),
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
  name: `status: an agent on a full root is running, its file stale${skipped}`,
  ignore: tmpfsUnavailable !== undefined,
  fn: () =>
    withTmpfs(1 << 20, (fs) =>
      withDaemon("", async (s) => {
        const root = onRoot(s, fs.dir);
        await withAgent(root.args, async (agent) => {
          await waitFor(async () => (await root.file())?.delivery?.lastSuccessAt, "a post");
          assert.equal((await root.status()).code, 0);

          // Full: the spool goes to memory, drops its segment (freeing a little) and writes again
          // whenever space is freed; so the disk is kept full while the file goes stale.
          await fs.fill();
          await waitFor(() => agent.stderr().includes("keeping data in memory"), "the spool");
          const stopFilling = await fs.keepFull();
          const warning = `cannot write ${join(fs.dir, "status.json")}: `;
          const warnings = () => agent.stderr().split(warning).length - 1;
          try {
            await waitFor(() => warnings() > 0, "the WARNING");
            let stale = await root.status();
            await waitFor(
              async () => (stale = await root.status()).stdout.includes("stale"),
              "stale",
            );
            assert.equal(stale.code, 1, stale.stdout);
            assert.match(
              stale.stdout,
              new RegExp(
                `^mackerel-agent \\S+ \\(rev \\S+\\) is running: pid ${agent.pid}, .*\\ndegraded:\\n` +
                  ` {2}- status file stale since \\S+ \\(the agent cannot write ${fs.dir}: ` +
                  "full or read-only\\?\\); its spool may be in memory; what follows is as of then\\n",
              ),
            );
            // Said once while the disk stays full, not at every round.
            const said = warnings();
            const rounds = () => agent.stderr().split("> Enqueued ").length;
            const then = rounds();
            await waitFor(() => rounds() >= then + 2, "two more rounds");
            assert.equal(warnings(), said, agent.stderr());
          } finally {
            await stopFilling();
          }

          // Stopped, it could not say so in its file: the released lock and the pid tell.
          assert.equal(await stopAgent(agent), 0, agent.stderr());
          const gone = await root.status();
          assert.equal(gone.code, 3, gone.stdout);
          assert.match(
            gone.stdout.trimEnd(),
            new RegExp(`is not running .*: process ${agent.pid} is gone$`),
          );
        });
      })),
});

Deno.test({
  name: `status: an agent whose spool's disk is full says its spool is in memory${skipped}`,
  ignore: tmpfsUnavailable !== undefined,
  fn: () =>
    withTmpfs(256 << 10, (fs) =>
      withDaemon("", async (s) => {
        const root = join(s.dir, "root");
        await Deno.mkdir(root);
        await Deno.symlink(fs.dir, join(root, "spool"));
        await fs.fill();
        const { args, status, file } = onRoot(s, root);
        await withAgent(args, async (agent) => {
          await waitFor(async () => (await file())?.delivery?.lastSuccessAt, "a post");
          const doc = await file();
          assert.equal(doc.delivery.spool.durable, false);
          assert.equal(doc.delivery.spool.dir, undefined);
          assert.match(doc.delivery.spool.diskError, /No space left on device/);
          const report = await status();
          assert.equal(report.code, 1, report.stdout);
          assert.match(
            report.stdout,
            /\n {2}- the spool is in memory: .*No space left on device.*\n/,
          );
          assert.match(
            report.stdout,
            /\nwaiting: \d+ rounds \(\d+ points\); spool in memory: \d+ bytes \(.*No space left on device.*\)\n/,
          );
          assert.equal(await stopAgent(agent), 0, agent.stderr());
        });
      })),
});

Deno.test({
  name: `status: an agent started on a read-only root holds the spool's lock: running${skipped}`,
  ignore: tmpfsUnavailable !== undefined,
  fn: () =>
    withTmpfs(1 << 20, (fs) =>
      withDaemon("", async (s) => {
        const root = onRoot(s, fs.dir);
        // A first run leaves the host id, the lock file and a file saying "stopped".
        await withAgent(root.args, async (agent) => {
          await waitFor(async () => (await root.file())?.delivery?.lastSuccessAt, "a post");
          assert.equal(await stopAgent(agent), 0, agent.stderr());
        });
        const earlier = await root.file();
        fs.readOnly(true);
        await withAgent(root.args, async (agent) => {
          const posted = s.api.metrics().length;
          await waitFor(() => s.api.metrics().length > posted, "a post from the read-only root");
          const running = await root.status();
          assert.equal(running.code, 1, running.stdout + running.stderr);
          // The lock file still names the first agent: the pid is unknown, the lock is what counts.
          assert.equal(
            running.stdout.trimEnd(),
            `mackerel-agent is running for root ${fs.dir}: it holds ` +
              `${join(fs.dir, "spool", "lock")}; its pid is unknown\ndegraded:\n  - status ` +
              `file stale since ${earlier.updatedAt} (the agent cannot write ${fs.dir}: ` +
              "full or read-only?); its spool may be in memory",
          );
          assert.equal(await stopAgent(agent), 0, agent.stderr());
        });
        const stopped = await root.status();
        assert.equal(stopped.code, 3, stopped.stdout);
      })),
});
