/**
 * End-to-end: the spool's promises with the real agent (`-interval 1`) against the fake API - one
 * owner per root, damage costing only the damaged records, a refused key or a refusal of every
 * point keeping the data, a read-only or full disk - counting what arrived.
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
  stopAgent,
  withDaemon,
} from "../support/daemon_run.ts";
import { onUnix } from "../support/platform.ts";
import { tmpfsUnavailable, withTmpfs } from "../support/tmpfs.ts";

const unix = onUnix("stops the agent with SIGTERM and kill -9");

const TSDB = "/api/v0/tsdb";

const refused = (s: DaemonSetup, status: number) =>
  s.api.requests.filter((r) => r.path === TSDB && r.status === status).length;

/** The same flags with another pidfile (as the README's container example runs a second agent). */
const withPidfile = (args: readonly string[], path: string) =>
  args.map((a) => a.startsWith("-pidfile=") ? `-pidfile=${path}` : a);

unix.test("spool e2e: a second agent on the same root is refused; the first loses nothing, even after kill -9", async () => {
  await withDaemon("", async (s) => {
    const outage = s.api.failWhile((r) => r.path === TSDB, 503);
    const first = spawnAgent(s.args);
    await waitFor(() => enqueued(first).size >= 3, "the first agent's rounds");
    const second = spawnAgent(withPidfile(s.args, join(s.dir, "second.pid")));
    assert.equal(await second.exited, 1, second.stderr());
    assert.match(second.stderr(), /is held by another mackerel-agent \(pid \d+\); waiting up to/);
    assert.match(
      second.stderr(),
      /another mackerel-agent \(pid \d+\) holds .*spool\/lock: two agents on one root would lose or repeat each other's data/,
    );
    assert.deepEqual(enqueued(second).size, 0, "the second one collected nothing");
    await waitFor(() => enqueued(first).size >= 6, "more rounds of the first agent");
    first.kill("SIGKILL");
    await first.exited;
    await pastRoundsOf(first);

    outage();
    const third = spawnAgent(s.args);
    await waitFor(allArrived(s, [first, third]), "every round of the first agent", {
      timeoutMs: 30_000,
    });
    assert.equal(await stopAgent(third), 0, third.stderr());
    assertAllDelivered(s, [first, third]);
  });
});

unix.test("spool e2e: an agent started while the last one drains waits for it, then takes over", async () => {
  await withDaemon("", async (s) => {
    const first = spawnAgent(s.args);
    await waitFor(() => enqueued(first).size >= 2, "the first agent's rounds");
    first.kill("SIGTERM");
    const second = spawnAgent(withPidfile(s.args, join(s.dir, "second.pid")));
    assert.equal(await first.exited, 0, first.stderr());
    await waitFor(() => enqueued(second).size >= 2, "the second agent's rounds");
    await waitFor(allArrived(s, [first, second]), "both agents' rounds", { timeoutMs: 30_000 });
    assert.equal(await stopAgent(second), 0, second.stderr());
  });
});

unix.test("spool e2e: flipped bytes in the middle of a segment cost only the damaged round, and say so", async () => {
  await withDaemon("", async (s) => {
    const outage = s.api.failWhile((r) => r.path === TSDB, 503);
    const first = spawnAgent(s.args);
    await waitFor(() => enqueued(first).size >= 6, "six rounds kept during the outage");
    first.kill("SIGKILL");
    await first.exited;
    const dir = join(s.dir, "root", "spool");
    const segments = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /\.seg$/.test(n))
      .sort();
    const path = join(dir, segments[0]);
    const bytes = Deno.readFileSync(path);
    const text = new TextDecoder("latin1").decode(bytes);
    // 16 bytes flipped inside the body of the third round's frame.
    const starts = [...text.matchAll(/\{"op":"put","id":\d+,"kind":"metrics"/g)].map((m) =>
      m.index
    );
    assert.ok(starts.length >= 4, `${starts.length} rounds in the first segment`);
    const target = text.indexOf("[", starts[2]) + 40;
    for (let i = 0; i < 16; i++) bytes[target + i] ^= 0x5a;
    Deno.writeFileSync(path, bytes);

    outage();
    const second = spawnAgent(s.args);
    await waitFor(() => enqueued(second).size >= 2, "the restarted agent's rounds");
    const warning = second.stderr().split("\n").find((l) => l.includes("damaged bytes"));
    assert.ok(warning, second.stderr());
    assert.match(
      warning,
      /are skipped: 1 round \(\d+ points\) lost; the records around them are kept/,
    );
    const damagedTime = Number(/"time":(\d+)/.exec(text.slice(starts[2]))![1]);
    const kept = new Map([...enqueued(first)].filter(([t]) => t !== damagedTime));
    const times = () => new Set(s.api.metrics().map((p) => p.time));
    await waitFor(() => [...kept.keys()].every((t) => times().has(t)), "every undamaged round", {
      timeoutMs: 30_000,
    });
    assert.equal(await stopAgent(second), 0, second.stderr());
  });
});

unix.test("spool e2e: 12 seconds of 401 (twelve agent minutes) lose no point", async () => {
  await withDaemon("", async (s) => {
    const agent = spawnAgent(s.args);
    await waitFor(() => enqueued(agent).size >= 2, "the first rounds");
    const keyRefused = s.api.failWhile((r) => r.path === TSDB, 401);
    const since = Date.now();
    await waitFor(() => Date.now() - since >= 12_000 && refused(s, 401) >= 3, "12 s of 401", {
      timeoutMs: 30_000,
    });
    keyRefused();
    await waitFor(allArrived(s, [agent]), "every round", { timeoutMs: 30_000 });
    assert.equal(await stopAgent(agent), 0, agent.stderr());
    assertAllDelivered(s, [agent]);
    assert.doesNotMatch(agent.stderr(), /dropped|not posted/);
  });
});

unix.test("spool e2e: a 400 to every point (a broken proxy) drops nothing and costs few requests", async () => {
  await withDaemon("", async (s) => {
    const agent = spawnAgent(s.args);
    await waitFor(() => enqueued(agent).size >= 1, "the first round");
    const broken = s.api.failWhile((r) => r.path === TSDB, 400);
    const since = Date.now();
    await waitFor(() => Date.now() - since >= 8_000, "8 s of 400", { timeoutMs: 20_000 });
    const during = refused(s, 400);
    broken();
    await waitFor(allArrived(s, [agent]), "every round", { timeoutMs: 30_000 });
    assert.equal(await stopAgent(agent), 0, agent.stderr());
    assertAllDelivered(s, [agent]);
    // One search of at most 32 requests, then a few a minute: not hundreds.
    assert.ok(during <= 32 + 3 * 8, `${during} refused requests in eight agent minutes`);
    assert.match(agent.stderr(), /the API refuses every point it is sent/);
    assert.doesNotMatch(agent.stderr(), /dropped/);
  });
});

Deno.test({
  name: "spool e2e: a read-only root with its id file starts, keeps the spool in memory, and posts",
  ignore: tmpfsUnavailable !== undefined,
  fn: async () => {
    await withDaemon("", async (s) => {
      // A first run registers the host and leaves its id file.
      const first = spawnAgent(s.args);
      await waitFor(() => s.api.metrics().length > 0, "a first post");
      assert.equal(await stopAgent(first), 0, first.stderr());
      const id = Deno.readTextFileSync(join(s.dir, "root", "id"));
      await withTmpfs(1 << 20, async (fs) => {
        Deno.writeTextFileSync(join(fs.dir, "id"), id);
        fs.readOnly(true);
        const args = s.args.map((a) => a.startsWith("-root=") ? `-root=${fs.dir}` : a);
        const agent = spawnAgent(args);
        await waitFor(() => enqueued(agent).size >= 3, "rounds on a read-only root");
        await waitFor(allArrived(s, [agent]), "its rounds posted");
        assert.equal(await stopAgent(agent), 0, agent.stderr());
        assert.match(agent.stderr(), /cannot write the spool in .*: .*; keeping data in memory/);
        assert.doesNotMatch(agent.stderr(), /failed to save host ID/);
      });
    });
  },
});

Deno.test({
  name:
    "spool e2e: a full disk keeps data in memory, and once space returns a kill -9 loses nothing",
  ignore: tmpfsUnavailable !== undefined,
  fn: async () => {
    await withTmpfs(2 << 20, async (fs) => {
      await withDaemon("", async (s) => {
        const args = s.args.map((a) => a.startsWith("-root=") ? `-root=${fs.dir}/root` : a);
        const warm = spawnAgent(args);
        await waitFor(() => s.api.metrics().length > 0, "registration");
        assert.equal(await stopAgent(warm), 0, warm.stderr());

        const outage = s.api.failWhile((r) => r.path === TSDB, 503);
        const filler = await fs.fill();
        const agent = spawnAgent(args);
        await waitFor(
          () => /keeping data in memory/.test(agent.stderr()) && enqueued(agent).size >= 3,
          "rounds kept in memory",
        );
        await Deno.remove(filler);
        await waitFor(
          () => /kept in memory meanwhile are on disk now/.test(agent.stderr()),
          "the memory written to disk once there is room",
          { timeoutMs: 20_000 },
        );
        const onDisk = enqueued(agent).size;
        agent.kill("SIGKILL");
        await agent.exited;
        await pastRoundsOf(agent);

        outage();
        const next = spawnAgent(args);
        const times = () => new Set(s.api.metrics().map((p) => p.time));
        const kept = [...enqueued(agent).keys()].slice(0, onDisk);
        await waitFor(() => kept.every((t) => times().has(t)), "every round of the full disk", {
          timeoutMs: 30_000,
        });
        assert.equal(await stopAgent(next), 0, next.stderr());
      });
    });
  },
});
