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
import { EXIT_CONFIG } from "../../src/exit_codes.ts";
import { runAgent, spawnAgent, type SpawnedAgent } from "../support/agent_process.ts";
import { type FakeMackerel, startFakeMackerel } from "../support/fake_mackerel.ts";
import { alive } from "../support/pids.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { waitFor } from "../support/wait.ts";
import { linuxOnly, onLinux } from "../support/platform.ts";

const linux = onLinux("finds the supervised agents in /proc; Unix signals");

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

/** Whether this tree's configtest takes `-lenient` (another branch adds it; the HUP test needs it). */
const HAS_LENIENT = (await runAgent(["configtest", "-lenient", "-h"], { timeoutMs: 20_000 }))
  .code === 0;

/** A supervisor over the real agent posting to a fake API, and what it takes to watch it. */
interface Supervised {
  readonly dir: string;
  readonly conf: string;
  readonly api: FakeMackerel;
  readonly supervisor: SpawnedAgent;
  /** Pids of the current agents (and remembers them, to kill them all at the end). */
  children(): Promise<number[]>;
  /** Metric posts the fake received after `time` (ms since the epoch). */
  postsAfter(time: number): number;
}

/** Runs `body` against a fresh supervisor; nothing outlives it, whatever happens. */
async function withSupervisor(
  confText: (api: FakeMackerel) => string,
  body: (s: Supervised) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "supervise-" });
  const api = await startFakeMackerel();
  const conf = join(dir, "agent.conf");
  const pidfile = join(dir, "agent.pid");
  await Deno.writeTextFile(conf, confText(api));
  const supervisor = spawnAgent([
    "supervise",
    "-conf",
    conf,
    "-apibase",
    api.url,
    "-root",
    join(dir, "root"),
    "-pidfile",
    pidfile,
    "-interval",
    "1",
  ], { entry: ENTRY });
  const seen = new Set<number>();
  const killAll = () => {
    for (const pid of [supervisor.pid, ...seen]) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  };
  const guard = setTimeout(killAll, 45_000);
  try {
    await until(async () => (await readOr(pidfile)) === String(supervisor.pid), "the pidfile");
    await body({
      dir,
      conf,
      api,
      supervisor,
      children: async () => {
        const pids = await agentChildren(supervisor.pid);
        for (const pid of pids) seen.add(pid);
        return pids;
      },
      postsAfter: (time) =>
        api.requests.filter((r) => r.path === "/api/v0/tsdb" && r.time > time).length,
    });
    Deno.kill(supervisor.pid, "SIGTERM");
    assert.equal(await supervisor.exited, 0, supervisor.stderr());
    assert.equal(await readOr(pidfile), undefined);
    for (const pid of seen) assert.equal(alive(pid), false, `agent ${pid} outlived supervise`);
  } finally {
    clearTimeout(guard);
    killAll();
    await supervisor.exited;
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const keyed = (api: FakeMackerel) => `apikey = "${api.apiKey}"\ncloud_platform = "none"\n`;

linux.test("supervise: restarts a killed agent", async () => {
  await withSupervisor(keyed, async (s) => {
    await until(async () => (await s.children()).length === 1, "the first agent");
    const [first] = await s.children();
    await until(() => s.postsAfter(0) > 0, "the first agent's metrics");
    await delay(600); // past the 500 ms spawn window, whatever the start-up took

    const killedAt = Date.now();
    Deno.kill(first, "SIGKILL");
    await until(async () => (await s.children()).some((pid) => pid !== first), "a new agent");
    const [second] = await s.children();
    assert.notEqual(second, first);
    assert.equal(alive(first), false);
    assert.match(
      s.supervisor.stderr(),
      /WARNING <supervisor> mackerel-agent abnormally finished with following error and try to restart it: signal: killed\n/,
    );
    await until(() => s.postsAfter(killedAt) > 0, "the second agent's metrics");
  });
});

Deno.test({
  ...linuxOnly(
    "supervise: HUP reloads a config with unknown keys and refuses a broken one" +
      (HAS_LENIENT ? "" : " (skipped: configtest -lenient is not in this tree yet)"),
    "finds the supervised agents in /proc; Unix signals",
  ),
  ignore: !HAS_LENIENT || Deno.build.os !== "linux",
}, async () => {
  await withSupervisor(keyed, async (s) => {
    await until(async () => (await s.children()).length === 1, "the first agent");
    const [first] = await s.children();
    const err = () => s.supervisor.stderr();

    // Upstream ignores unknown keys at run time (plugin snippets still carry `type = "metric"`).
    await Deno.writeTextFile(
      s.conf,
      `${keyed(s.api)}[plugin.metrics.x]\ncommand = "true"\ntype = "metric"\n`,
    );
    const reloadedAt = Date.now();
    Deno.kill(s.supervisor.pid, "SIGHUP");
    await until(
      async () => (await s.children()).some((pid) => pid !== first),
      "the reloaded agent",
    );
    const [second] = await s.children();
    // Up and posting: it has read its config, so breaking the file now tests the reload only. The
    // old agent drains its queue as it stops, so only posts after it is gone are the new one's.
    await until(() => !alive(first), "the old agent's end");
    const oldGoneAt = Date.now();
    await until(() => s.postsAfter(Math.max(reloadedAt, oldGoneAt)) > 0, "the new agent's metrics");
    assert.match(err(), /INFO <supervisor> receiving HUP, spawning a new mackerel-agent\n/);
    assert.doesNotMatch(err(), /failed to reload/);

    await Deno.writeTextFile(s.conf, "[filesystems\n");
    Deno.kill(s.supervisor.pid, "SIGHUP");
    await until(() => err().includes("failed to reload"), "the refused reload");
    assert.match(
      err(),
      /WARNING <supervisor> failed to reload: configtest failed: \[CRITICAL\] failed to test config: .*agent\.conf/,
    );
    assert.deepEqual(await s.children(), [second]);
  });
});

linux.test(`supervise: a broken config fails early, before the pidfile and any child, exit ${EXIT_CONFIG}`, async () => {
  await withTempDir("supervise-", async (dir) => {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(conf, "[filesystems\n");
    const output = await runAgent(["supervise", "-conf", conf, "-pidfile", join(dir, "pid")], {
      entry: ENTRY,
      timeoutMs: 20_000,
    });
    const stderr = output.stderr;
    assert.equal(output.code, EXIT_CONFIG, output.stderr);
    assert.match(stderr, /^failed to load config: .*agent\.conf.*line 1.*\n$/);
    assert.equal(stderr.split("\n").length, 2, stderr);
    assert.equal(await readOr(join(dir, "pid")), undefined);
  });
});

linux.test(`supervise: no API key fails early with upstream's line and a hint, exit ${EXIT_CONFIG}`, async () => {
  await withTempDir("supervise-", async (dir) => {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(conf, 'cloud_platform = "none"\n');
    const output = await runAgent(["supervise", "-conf", conf, "-pidfile", join(dir, "pid")], {
      entry: ENTRY,
      timeoutMs: 20_000,
    });
    assert.equal(output.code, EXIT_CONFIG, output.stderr);
    assert.equal(
      output.stderr,
      "failed to load config: apikey must be specified in the config file (or by the DEPRECATED " +
        "command-line flag)\n" +
        `run "mackerel-agent init -apikey=<key> -conf=${conf}" to write your API key into ${conf}\n`,
    );
    assert.equal(await readOr(join(dir, "pid")), undefined);
  });
});

linux.test("supervise: the child and configtest get the parsed flags back, without -child", () => {
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

linux.test("supervise: the exit code is the child's, 1 for a signal or a crash loop of exit 0", () => {
  const exit = (code: number) => ({ success: code === 0, code, signal: null });
  assert.equal(superviseExitCode({ reason: "signalled", status: exit(0) }), 0);
  assert.equal(superviseExitCode({ reason: "early-exit", status: exit(2) }), 2);
  assert.equal(superviseExitCode({ reason: "crash-loop", status: exit(0) }), 1);
  assert.equal(superviseExitCode({ reason: "crash-loop", status: exit(7) }), 7);
  assert.equal(superviseExitCode({ reason: "fatal", status: exit(EXIT_CONFIG) }), EXIT_CONFIG);
  assert.equal(superviseExitCode({ reason: "early-exit", status: exit(EXIT_CONFIG) }), EXIT_CONFIG);
  assert.equal(
    superviseExitCode({
      reason: "signalled",
      status: { success: false, code: 143, signal: "SIGTERM" },
    }),
    1,
  );
});

async function readOr(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
