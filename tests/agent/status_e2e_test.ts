/**
 * End-to-end: `status` tells a running, a degraded and a stopped agent apart, from the status
 * file the real daemon writes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent, spawnAgent, waitFor } from "../support/agent_process.ts";
import {
  assertAllArrived,
  enqueued,
  receivedByTime,
  setupDaemon,
  stopAgent,
  teardownDaemon,
} from "../support/daemon_run.ts";
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
    assert.match(
      before.stdout,
      /is not running for root .*: no agent has run for it \(no .*status\.json\)/,
    );

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

    // A key the API refuses for a while (a rotation): one ERROR, a reason in `status`, nothing
    // dropped, and the recovery once it works again.
    const keyErrors = () => agent.stderr().match(/ERROR <main> .*refuses the API key.*/g) ?? [];
    const restore = s.api.failWhile((r) => r.path === TSDB, 401);
    await waitFor(async () => (await statusFile())?.delivery?.kinds?.metrics?.keyRefused, "a 401");
    const refused = await status();
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stdout,
      /degraded:\n {2}- the API refuses the API key since \S+ \(401 Unauthorized\) when posting metrics: what is collected is kept in the spool\n/,
    );
    await waitFor(
      () => s.api.requests.filter((r) => r.path === TSDB && r.status === 401).length >= 3,
      "retries refused",
    );
    assert.equal(keyErrors().length, 1, agent.stderr());
    assert.match(
      keyErrors()[0] ?? "",
      /ERROR <main> Posting metrics to Mackerel: the API refuses the API key \(401 Unauthorized\); what is collected is kept in the spool, within its bounds, and posted once the key works again: API request failed: /,
    );
    restore();
    await waitFor(async () => (await status()).code === 0, "healthy once the key works");
    assert.equal(keyErrors().length, 1);

    assert.equal(await stopAgent(agent), 0, agent.stderr());
    // Neither the outage nor the refused key lost a point.
    assertAllArrived(receivedByTime(s.api), enqueued(agent));
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
