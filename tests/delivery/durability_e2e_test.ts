/**
 * End-to-end durability: the real agent (`-interval 1`) against the fake API, killed, stopped and
 * restarted on the same root, fed bad plugin output and bad answers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnAgent, waitFor } from "../support/agent_process.ts";
import {
  allArrived,
  assertAllDelivered,
  type DaemonSetup,
  enqueued,
  pastRoundsOf,
  receivedByTime,
  stopAgent,
  withDaemon,
} from "../support/daemon_run.ts";
import { onLinux, onUnix } from "../support/platform.ts";

const unix = onUnix("stops the agent with SIGTERM; shell-script plugins");

const linux = onLinux("reads the agent's memory in /proc/<pid>/status");

const TSDB = "/api/v0/tsdb";
const REPORTS = "/api/v0/monitoring/checks/report";

const failed = (s: DaemonSetup, path: string) =>
  s.api.requests.filter((r) => r.path === path && r.status === 503).length;

unix.test("durability: kill -9 during a 503 outage, then a restart: every kept round arrives once", async () => {
  await withDaemon("", async (s) => {
    const outage = s.api.failWhile((r) => r.path === TSDB, 503);
    const first = spawnAgent(s.args);
    await waitFor(
      () => enqueued(first).size >= 5 && failed(s, TSDB) >= 2,
      "five rounds kept during the outage",
    );
    first.kill("SIGKILL");
    await first.exited;
    await pastRoundsOf(first);

    const second = spawnAgent(s.args);
    await waitFor(() => enqueued(second).size >= 2, "the restarted agent's rounds");
    assert.match(second.stderr(), /Posting what an earlier run left in the spool: \d+ rounds/);
    outage();
    await waitFor(allArrived(s, [first, second]), "every round of both runs", {
      timeoutMs: 30_000,
    });
    assert.equal(await stopAgent(second), 0, second.stderr());
    assertAllDelivered(s, [first, second]);
    assert.deepEqual(s.api.violations, []);
  });
});

unix.test("durability: SIGTERM during an outage ends at once and keeps the rest for the next start", async () => {
  await withDaemon("", async (s) => {
    const outage = s.api.failWhile((r) => r.path === TSDB, 503);
    const first = spawnAgent(s.args);
    await waitFor(() => enqueued(first).size >= 4 && failed(s, TSDB) >= 2, "an outage backlog");
    const stoppedAt = Date.now();
    assert.equal(await stopAgent(first), 0, first.stderr());
    // Upstream drains for its whole graceful limit (30 agent seconds); the spool need not.
    assert.ok(Date.now() - stoppedAt < 5_000, `stopped in ${Date.now() - stoppedAt} ms`);
    assert.match(first.stderr(), /points of \d+ rounds are kept in the spool for the next start/);
    assert.doesNotMatch(first.stderr(), /not posted/);
    await pastRoundsOf(first);

    outage();
    const second = spawnAgent(s.args);
    await waitFor(allArrived(s, [first, second]), "the kept rounds", { timeoutMs: 30_000 });
    assert.equal(await stopAgent(second), 0, second.stderr());
    assertAllDelivered(s, [first, second]);
  });
});

unix.test("durability: a CRITICAL raised during an outage arrives after a restart, with its time", async () => {
  await withDaemon('[plugin.checks.fire]\ncommand = "echo on fire; exit 2"\n', async (s) => {
    const outage = s.api.failWhile((r) => r.path === REPORTS, 503);
    const first = spawnAgent(s.args);
    await waitFor(() => failed(s, REPORTS) >= 1, "a report refused by the outage");
    first.kill("SIGKILL");
    await first.exited;
    const refused = s.api.requests.find((r) => r.path === REPORTS)!;
    const [original] = (refused.body as { reports: { occurredAt: number; status: string }[] })
      .reports;
    assert.equal(original.status, "CRITICAL");

    outage();
    const second = spawnAgent(s.args);
    const arrived = () =>
      (s.api.checkReports() as { occurredAt: number; status: string }[]).some((r) =>
        r.occurredAt === original.occurredAt && r.status === "CRITICAL"
      );
    await waitFor(arrived, "the CRITICAL of the first run");
    assert.equal(await stopAgent(second), 0, second.stderr());
  });
});

unix.test("durability: invalid names from one plugin leave every other metric flowing", async () => {
  const conf = `[plugin.metrics.bad]
command = "printf 'uni.\\\\345\\\\220\\\\215\\\\345\\\\211\\\\215\\\\t1\\\\t0\\\\nslash/x\\\\t2\\\\t0\\\\ncolon:x\\\\t3\\\\t0\\\\nnul\\\\000x\\\\t4\\\\t0\\\\nfine.one\\\\t5\\\\t0\\\\n'"
[plugin.metrics.good]
command = "echo 'good.value 7 0'"
`;
  await withDaemon(conf, async (s) => {
    const agent = spawnAgent(s.args);
    const accepted = () => s.api.requests.filter((r) => r.path === TSDB && r.status === 200);
    await waitFor(() => accepted().length >= 3, "three accepted posts");
    assert.equal(await stopAgent(agent), 0, agent.stderr());
    const names = new Set(s.api.metrics().map((p) => p.name));
    for (const name of ["custom.good.value", "custom.fine.one", "loadavg1", "memory.total"]) {
      assert.ok(names.has(name), `${name} posted`);
    }
    assert.ok([...names].every((n) => /^[A-Za-z0-9._-]+$/.test(n)), [...names].join(" "));
    assert.equal(s.api.requests.filter((r) => r.path === TSDB && r.status !== 200).length, 0);
    for (const bad of ["uni.名前", "slash/x", "colon:x"]) {
      // A busy machine may also skip a run of the plugin, with a WARNING naming its command line
      // (where these names are too): that one is about the run, not the name.
      const warnings = agent.stderr().split("\n").filter((l) =>
        l.includes("WARNING") && l.includes(bad) && !l.includes("skipped this round")
      );
      assert.equal(warnings.length, 1, `one WARNING for ${bad}:\n${agent.stderr()}`);
    }
    assert.deepEqual(s.api.violations, []);
  });
});

unix.test("durability: a 400 refusing one point drops that point; the rest of every batch arrives", async () => {
  const conf = `[plugin.metrics.mixed]
command = "printf 'refused.one\\\\t1\\\\t0\\\\nkept.two\\\\t2\\\\t0\\\\n'"
`;
  await withDaemon(conf, async (s) => {
    s.api.answerWith(
      (r) => r.path === TSDB && r.rawBody.includes('"custom.refused.one"'),
      () => Response.json({ error: { message: "invalid metric" } }, { status: 400 }),
    );
    const agent = spawnAgent(s.args);
    const kept = () => s.api.metrics().filter((p) => p.name === "custom.kept.two").length;
    await waitFor(() => kept() >= 3, "three rounds of the good point");
    assert.equal(await stopAgent(agent), 0, agent.stderr());
    assert.equal(s.api.metrics().some((p) => p.name === "custom.refused.one"), false);
    assert.ok(s.api.metrics().filter((p) => p.name === "loadavg1").length >= 3);
    assert.match(
      agent.stderr(),
      /ERROR <command> The API refused 1 points \("custom\.refused\.one"\), dropped; the other \d+ points were delivered: API request failed: invalid metric/,
    );
    receivedByTime(s.api); // nothing twice
  });
});

linux.test("durability: a 50 MB answer to create-host is refused with a short line, memory stays low", async () => {
  await withDaemon("", async (s) => {
    const huge = `{"id":"${"x".repeat(50 * 1024 * 1024)}"}`;
    s.api.answerWith(
      (r) => r.method === "POST" && r.path === "/api/v0/hosts",
      () => new Response(huge, { headers: { "content-type": "application/json" } }),
    );
    const agent = spawnAgent(s.args);
    let peakKb = 0;
    const sample = () => {
      try {
        const status = Deno.readTextFileSync(`/proc/${agent.pid}/status`);
        peakKb = Math.max(peakKb, Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0));
      } catch {
        // exited
      }
      return /response body larger than/.test(agent.stderr());
    };
    await waitFor(sample, "the refusal of the answer");
    agent.kill("SIGKILL");
    await agent.exited;
    const lines = agent.stderr().split("\n").filter((l) => l.includes("response body larger"));
    assert.ok(lines.length >= 1);
    assert.ok(lines.every((l) => l.length < 1_000), `short lines: ${lines[0].length} characters`);
    assert.ok(peakKb > 0 && peakKb < 200 * 1024, `peak RSS ${peakKb} kB`);
    await assert.rejects(Deno.stat(join(s.dir, "root", "id")), Deno.errors.NotFound);
  });
});

unix.test("durability: a spool directory that cannot be made falls back to memory and keeps posting", async () => {
  await withDaemon("", async (s) => {
    await Deno.mkdir(join(s.dir, "root"));
    await Deno.writeTextFile(join(s.dir, "root", "spool"), "a file where the spool should be");
    const agent = spawnAgent(s.args);
    await waitFor(() => s.api.metrics().some((p) => p.name === "loadavg1"), "posted metrics");
    await waitFor(() => enqueued(agent).size >= 3, "three rounds");
    assert.equal(await stopAgent(agent), 0, agent.stderr());
    const warnings = agent.stderr().split("\n").filter((l) => l.includes("cannot write the spool"));
    assert.equal(warnings.length, 1, agent.stderr());
    assertAllDelivered(s, [agent]);
  });
});
