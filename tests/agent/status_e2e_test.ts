/**
 * End-to-end: `status` tells a running, a degraded and a stopped agent apart, from the status
 * file the real daemon writes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, spawnAgent, waitFor } from "../support/agent_process.ts";
import { setupDaemon, stopAgent, teardownDaemon } from "../support/daemon_run.ts";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("tells a live agent by /proc");

const TSDB = "/api/v0/tsdb";

linux.test("status: healthy while posting, degraded in an outage, not running once stopped", async () => {
  const s = await setupDaemon();
  const root = join(s.dir, "root");
  const status = (...flags: string[]) =>
    runAgent(["status", `-conf=${join(s.dir, "agent.conf")}`, `-root=${root}`, ...flags]);
  const statusFile = async () => {
    try {
      return JSON.parse(await Deno.readTextFile(join(root, "status.json")));
    } catch {
      return undefined;
    }
  };
  try {
    const before = await status();
    assert.equal(before.code, 3, before.stdout);
    assert.match(before.stdout, /no agent has run for root/);

    const agent = spawnAgent(s.args);
    await waitFor(
      async () => (await statusFile())?.delivery?.lastSuccessAt !== undefined,
      "a post",
    );
    const healthy = await status();
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
    assert.match(
      healthy.stdout,
      /^mackerel-agent .* is running: pid \d+, since .*, posting as host fake/,
    );
    assert.match(healthy.stdout, /\nhealthy\n/);
    assert.match(healthy.stdout, /\ncollectors: \d+, 0 failing\n/);

    const json = await status("-json");
    assert.equal(json.code, 0);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.pid, agent.pid);
    assert.equal(doc.mode, "api");
    assert.ok(doc.delivery.kinds.metrics.delivered > 0);
    assert.equal(doc.delivery.spool.durable, true);

    const recover = s.api.failWhile((r) => r.path === TSDB, 503);
    await waitFor(
      async () => (await statusFile())?.delivery?.failingSince !== undefined,
      "the outage",
    );
    const degraded = await status();
    assert.equal(degraded.code, 1, degraded.stdout);
    assert.match(degraded.stdout, /degraded:\n {2}- posting metrics has failed since .*503/);
    assert.match(
      agent.stderr(),
      /INFO <main> Posting metrics to Mackerel is failing \(.*503.*\); what is collected is kept/,
    );

    recover();
    await waitFor(
      () => agent.stderr().includes("Posting metrics to Mackerel recovered"),
      "the recovery",
    );
    await waitFor(async () => (await status()).code === 0, "healthy again");
    await waitFor(() => agent.stderr().includes("The backlog is posted"), "the backlog line");

    assert.equal(await stopAgent(agent), 0, agent.stderr());
    const stopped = await status();
    assert.equal(stopped.code, 3);
    assert.match(stopped.stdout, /mackerel-agent is not running for root .*: stopped at /);

    const killed = spawnAgent(s.args);
    await waitFor(async () => (await statusFile())?.pid === killed.pid, "the new agent's file");
    killed.kill("SIGKILL");
    await killed.exited;
    const gone = await status();
    assert.equal(gone.code, 3);
    assert.match(gone.stdout, new RegExp(`process ${killed.pid} is gone`));
  } finally {
    await teardownDaemon(s);
  }
});
