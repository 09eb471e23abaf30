/**
 * End-to-end: the real agent (`deno run -A main.ts -interval 1 …`) against the fake Mackerel API.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnAgent, waitFor } from "../support/agent_process.ts";
import {
  assertAllArrived,
  enqueued,
  receivedByTime,
  setupDaemon as setup,
  stopAgent as stop,
  teardownDaemon as teardown,
} from "../support/daemon_run.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onLinux, onUnix } from "../support/platform.ts";

const unix = onUnix("stops the agent with SIGTERM, SIGHUP or SIGINT");

const linux = onLinux("expects Linux's system metrics");

unix.test("daemon: first start creates the host and saves its id; a restart updates it", async () => {
  const s = await setup();
  try {
    const first = spawnAgent(s.args);
    await waitFor(() => s.api.metrics().length > 0, "the first tsdb post");
    assert.equal(await stop(first), 0, first.stderr());
    const creates = s.api.requests.filter((r) => r.method === "POST" && r.path === "/api/v0/hosts");
    assert.equal(creates.length, 1);
    const id = await Deno.readTextFile(join(s.dir, "root", "id"));
    assert.ok(s.api.hosts.has(id), `id file holds a created host id: ${id}`);

    const putsBefore = s.api.requests.filter((r) => r.method === "PUT").length;
    const pointsBefore = s.api.metrics().length;
    const second = spawnAgent(s.args);
    await waitFor(
      () =>
        s.api.requests.filter((r) => r.method === "PUT" && r.path === `/api/v0/hosts/${id}`)
            .length > putsBefore && s.api.metrics().length > pointsBefore,
      "the host update and a post of the second agent",
    );
    assert.equal(await stop(second), 0, second.stderr());
    const createsAfter = s.api.requests.filter((r) =>
      r.method === "POST" && r.path === "/api/v0/hosts"
    );
    assert.equal(createsAfter.length, 1, "no second host created");
    assert.ok(s.api.requests.some((r) => r.method === "GET" && r.path === `/api/v0/hosts/${id}`));
    assert.deepEqual(s.api.violations, []);
  } finally {
    await teardown(s);
  }
});

linux.test("daemon: tsdb posts carry the system metrics with integer times, each point once", async () => {
  const s = await setup();
  try {
    const agent = spawnAgent(s.args);
    // Rates need two samples: wait until a post carries cpu values.
    await waitFor(
      () => s.api.metrics().some((p) => p.name === "cpu.user.percentage"),
      "cpu rates",
    );
    assert.equal(await stop(agent), 0, agent.stderr());
    // Said once at start, so nobody wonders why the first round has no cpu (issue 10, item 13).
    assert.equal(
      agent.stderr().split("\n").filter((l) =>
        l.includes(
          "INFO <agent> The first round sends no cpu, disk or interface values: rates need a " +
            "second sample, a minute later",
        )
      ).length,
      1,
    );
    const first = Math.min(
      ...s.api.metrics().filter((p) => p.name === "loadavg1").map((p) => p.time),
    );
    assert.ok(
      !s.api.metrics().some((p) => p.name === "cpu.user.percentage" && p.time < first),
      "no rate before the first round",
    );
    const names = new Set(s.api.metrics().map((p) => p.name));
    for (
      const name of [
        "loadavg1",
        "loadavg5",
        "loadavg15",
        "memory.total",
        "memory.used",
        "cpu.idle.percentage",
      ]
    ) {
      assert.ok(names.has(name), `${name} posted`);
    }
    for (const point of s.api.metrics()) {
      assert.ok(Number.isInteger(point.time), `integer time: ${point.time}`);
      assert.ok(Number.isFinite(point.value));
    }
    // A rate is stamped with the start of its window, the previous round's time, as upstream.
    const timesOf = (name: string) =>
      s.api.metrics().filter((p) => p.name === name).map((p) => p.time);
    const [cpu, load] = [timesOf("cpu.user.percentage"), timesOf("loadavg1")];
    for (const time of cpu) assert.ok(load.includes(time), `cpu at ${time} is a round's time`);
    assert.ok(Math.max(...cpu) < Math.max(...load), `${cpu} before ${load}`);
    receivedByTime(s.api);
    assert.deepEqual(s.api.violations, []);
  } finally {
    await teardown(s);
  }
});

unix.test("daemon: a 503 window is survived: every enqueued point arrives exactly once", async () => {
  const s = await setup();
  try {
    const agent = spawnAgent(s.args);
    await waitFor(() => s.api.metrics().length > 0, "the first tsdb post");
    // Four agent minutes of outage on the tsdb endpoint.
    const recover = s.api.failWhile((r) => r.path === "/api/v0/tsdb", 503);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    recover();
    const outageEnd = Date.now();
    await waitFor(
      () => {
        const received = receivedByTime(s.api);
        return [...enqueued(agent)].filter(([time]) => time * 1000 < outageEnd)
          .every(([time]) => received.has(time));
      },
      "the backlog to drain",
      { timeoutMs: 30_000 },
    );
    assert.equal(await stop(agent), 0, agent.stderr());
    const failed = s.api.requests.filter((r) => r.path === "/api/v0/tsdb" && r.status === 503);
    assert.ok(failed.length >= 2, `posts failed during the outage: ${failed.length}`);
    const sent = enqueued(agent);
    const received = receivedByTime(s.api);
    assertAllArrived(received, sent);
    assert.ok(!agent.stderr().includes("abandoned"));
    assert.ok(!agent.stderr().includes("dropped"));
  } finally {
    await teardown(s);
  }
});

unix.test("daemon: SIGTERM drains the queue, posts on_stop, removes the pidfile, exits 0", async () => {
  const s = await setup('[host_status]\non_start = "maintenance"\non_stop = "standby"\n');
  try {
    const agent = spawnAgent(s.args);
    await waitFor(() => s.api.metrics().length > 0, "the first tsdb post");
    assert.equal(await Deno.readTextFile(join(s.dir, "agent.pid")), String(agent.pid));
    // Hold posts back so a backlog exists at stop time.
    const recover = s.api.failWhile((r) => r.path === "/api/v0/tsdb", 503);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    recover();
    const code = await stop(agent);
    assert.equal(code, 0, agent.stderr());
    assertAllArrived(receivedByTime(s.api), enqueued(agent));
    const statuses = s.api.requests.filter((r) => r.path.endsWith("/status"));
    assert.deepEqual(statuses.map((r) => r.body), [{ status: "maintenance" }, {
      status: "standby",
    }]);
    assert.equal(s.api.requests.at(-1)?.path.endsWith("/status"), true, "on_stop is the last call");
    await assert.rejects(Deno.stat(join(s.dir, "agent.pid")), Deno.errors.NotFound);
  } finally {
    await teardown(s);
  }
});

unix.test("daemon: a second agent is refused by the pidfile", async () => {
  const s = await setup();
  try {
    const first = spawnAgent(s.args);
    await waitFor(() => s.api.metrics().length > 0, "the first agent to run");
    const second = spawnAgent(s.args);
    const code = await second.exited;
    assert.equal(code, 1);
    assert.match(
      second.stderr(),
      /pidfile found, try stopping another running mackerel-agent or delete /,
    );
    assert.equal(await stop(first), 0, first.stderr());
  } finally {
    await teardown(s);
  }
});

unix.test("daemon: SIGHUP sends the host spec again", async () => {
  const s = await setup();
  try {
    const agent = spawnAgent(s.args);
    await waitFor(() => s.api.metrics().length > 0, "the first tsdb post");
    const puts = () => s.api.requests.filter((r) => r.method === "PUT").length;
    await waitFor(() => puts() >= 1, "the update at loop start");
    const before = puts();
    agent.kill("SIGHUP");
    await waitFor(() => puts() > before, "an update after SIGHUP");
    assert.equal(await stop(agent), 0, agent.stderr());
  } finally {
    await teardown(s);
  }
});

unix.test("daemon: -stdout without an API key prints the spec and each batch as JSON lines", async () => {
  await withTempDir("agent-stdout-", async (dir) => {
    await Deno.writeTextFile(join(dir, "agent.conf"), 'cloud_platform = "none"\n');
    const agent = spawnAgent([
      `-conf=${join(dir, "agent.conf")}`,
      `-root=${dir}`,
      `-pidfile=${join(dir, "pid")}`,
      "-interval=1",
      "-stdout",
    ]);
    await waitFor(() => agent.stdout().split("\n").length >= 4, "three lines on stdout");
    agent.kill("SIGINT");
    assert.equal(await agent.exited, 0);
    const lines = agent.stdout().trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.equal(typeof lines[0].host.name, "string");
    for (const line of lines.slice(1)) {
      assert.ok(Array.isArray(line.metrics));
      assert.ok(line.metrics.some((m: { name: string }) => m.name === "loadavg1"));
    }
    assert.match(agent.stderr(), /apikey is not configured/);
  });
});
