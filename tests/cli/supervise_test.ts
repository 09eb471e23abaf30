/**
 * `supervise` end to end: the real agent (`deno run -A … -interval 1`, so the spawn window is
 * 500 ms) under a real supervisor, driven by real signals. The entry script
 * `tests/fixtures/supervise/entry.ts` wires `runSupervise` in front of the agent's dispatcher.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { supervisedArgs, superviseExitCode } from "../../src/cli/supervise.ts";
import { parseFlags } from "../../src/cli/flags.ts";
import { COMMON_FLAGS } from "../../src/cli/options.ts";
import { runAgent, spawnAgent } from "../support/agent_process.ts";
import { alive } from "../support/pids.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { waitFor } from "../support/wait.ts";

const ENTRY = new URL("../fixtures/supervise/entry.ts", import.meta.url).pathname;

/** Pids of the supervised agents (`-child`) whose parent is `ppid`, read from /proc. */
async function agentChildren(ppid: number): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // The command name may hold spaces and parentheses: the fields start after the last ")".
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== ppid) continue;
      const cmdline = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).split("\0");
      if (cmdline.includes("-child")) pids.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Polls `check` every 50 ms (each look scans /proc) until it holds; fails after 20 s. */
const until = (check: () => Promise<boolean> | boolean, what: string) =>
  waitFor(check, what, { intervalMs: 50 });

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("supervise: restarts a killed agent and refuses a broken config on HUP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "supervise-" });
  const conf = join(dir, "agent.conf");
  const pidfile = join(dir, "agent.pid");
  await Deno.writeTextFile(conf, 'cloud_platform = "none"\n');
  const supervisor = spawnAgent(
    ["supervise", "-conf", conf, "-root", join(dir, "root"), "-pidfile", pidfile, "-interval", "1"],
    { entry: ENTRY },
  );
  const seen = new Set<number>();
  // Whatever happens, nothing outlives the test: the supervisor and every child seen.
  const guard = setTimeout(() => killAll(), 45_000);
  const killAll = () => {
    for (const pid of [supervisor.pid, ...seen]) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  };
  const err = () => supervisor.stderr();
  const children = async () => {
    const pids = await agentChildren(supervisor.pid);
    for (const pid of pids) seen.add(pid);
    return pids;
  };
  /** Metric lines printed after the `n`th host line, i.e. by the `n`th agent once it runs. */
  const metricLinesOfAgent = (n: number) => {
    const out = supervisor.stdout();
    return out.split("\n").slice(nthIndex(out.split("\n"), '{"host":', n)).filter((l) =>
      l.startsWith('{"metrics":')
    ).length;
  };
  try {
    await until(async () => (await readOr(pidfile)) === String(supervisor.pid), "the pidfile");
    await until(async () => (await children()).length === 1, "the first agent");
    const [first] = await children();
    await until(() => metricLinesOfAgent(1) > 0, "the first agent's metrics");
    await delay(600); // past the 500 ms spawn window, whatever the start-up took

    Deno.kill(first, "SIGKILL");
    await until(async () => (await children()).some((pid) => pid !== first), "a new agent");
    const [second] = await children();
    assert.notEqual(second, first);
    assert.equal(alive(first), false);
    assert.match(
      err(),
      /WARNING <supervisor> mackerel-agent abnormally finished with following error and try to restart it: signal: killed\n/,
    );
    await until(() => metricLinesOfAgent(2) > 0, "the second agent's metrics");

    await Deno.writeTextFile(conf, "[filesystems\n");
    Deno.kill(supervisor.pid, "SIGHUP");
    await until(() => err().includes("failed to reload"), "the refused reload");
    assert.match(err(), /INFO <supervisor> receiving HUP, spawning a new mackerel-agent\n/);
    assert.match(
      err(),
      /WARNING <supervisor> failed to reload: configtest failed: \[CRITICAL\] failed to test config: .*agent\.conf/,
    );
    assert.deepEqual(await children(), [second]);

    Deno.kill(supervisor.pid, "SIGTERM");
    assert.equal(await supervisor.exited, 0, err());
    assert.equal(alive(second), false);
    assert.equal(await readOr(pidfile), undefined);
  } finally {
    clearTimeout(guard);
    killAll();
    await supervisor.exited;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("supervise: a broken config fails early, before the pidfile and any child", async () => {
  await withTempDir("supervise-", async (dir) => {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(conf, "[filesystems\n");
    const output = await runAgent(["supervise", "-conf", conf, "-pidfile", join(dir, "pid")], {
      entry: ENTRY,
      timeoutMs: 20_000,
    });
    const stderr = output.stderr;
    assert.equal(output.code, 1);
    assert.match(stderr, /^failed to load config: .*agent\.conf.*line 1.*\n$/);
    assert.equal(stderr.split("\n").length, 2, stderr);
    assert.equal(await readOr(join(dir, "pid")), undefined);
  });
});

Deno.test("supervise: the child and configtest get the parsed flags back, without -child", () => {
  const parsed = parseFlags(
    [
      "-conf",
      "/etc/a.conf",
      "-v",
      "-role=a:b",
      "-role",
      "c:d",
      "-pidfile=",
      "-child",
      "-interval=5",
    ],
    COMMON_FLAGS,
  );
  assert.deepEqual(supervisedArgs(parsed), [
    "-conf=/etc/a.conf",
    "-verbose=true",
    "-role=a:b",
    "-role=c:d",
    "-pidfile=",
    "-interval=5",
  ]);
});

Deno.test("supervise: the exit code is the child's, 1 for a signal or a crash loop", () => {
  const exit = (code: number) => ({ success: code === 0, code, signal: null });
  assert.equal(superviseExitCode({ reason: "signalled", status: exit(0) }), 0);
  assert.equal(superviseExitCode({ reason: "early-exit", status: exit(2) }), 2);
  assert.equal(superviseExitCode({ reason: "crash-loop", status: exit(0) }), 1);
  assert.equal(superviseExitCode({ reason: "crash-loop", status: exit(7) }), 7);
  assert.equal(
    superviseExitCode({
      reason: "signalled",
      status: { success: false, code: 143, signal: "SIGTERM" },
    }),
    1,
  );
});

function nthIndex(lines: readonly string[], prefix: string, n: number): number {
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith(prefix) && ++count === n) return i;
  }
  return lines.length;
}

async function readOr(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
