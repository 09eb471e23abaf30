/**
 * The supervisor against a real child (`tests/fixtures/supervise/child.sh`) that records its pid,
 * traps TERM/INT/QUIT and can be told to crash. Only the supervisor's own signals are injected;
 * everything it sends to its children is a real signal.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CrashLoopBound,
  crashLoopReached,
  describeExit,
  selfProgram,
  supervise,
  type SupervisedSignal,
  type SuperviseResult,
} from "../../src/agent/supervisor.ts";
import { EXIT_CONFIG } from "../../src/exit_codes.ts";
import { resetLogging, setupLogging } from "../../src/log.ts";
import { alive } from "../support/pids.ts";
import { waitFor } from "../support/wait.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("sh children and Unix signals");

const CHILD = new URL("../fixtures/supervise/child.sh", import.meta.url).pathname;

interface Harness {
  readonly dir: string;
  /** Delivers a signal to the supervisor. */
  send(signal: SupervisedSignal): void;
  /** Child pids in start order, with the arguments each was given. */
  children(): Promise<{ pid: number; args: string }[]>;
  /** `<pid> <SIG>` lines the children wrote when signalled. */
  events(): Promise<string[]>;
  /** Log lines without the timestamp: `WARNING <supervisor> …`. */
  readonly logs: string[];
  readonly result: Promise<SuperviseResult>;
  cleanup(): Promise<void>;
}

interface HarnessOptions {
  /** The child's LIFETIME[:COUNT][/CODE] argument (see child.sh). */
  readonly lifetime: string;
  readonly spawnWindowMs: number;
  readonly crashLoop?: CrashLoopBound;
  /** Content of DIR/conf: "bad" makes configtest fail, "unknown-key" only a strict one. */
  readonly conf?: string;
}

async function startSupervisor(options: HarnessOptions): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "supervisor-" });
  await Deno.writeTextFile(join(dir, "conf"), options.conf ?? "good");
  const logs: string[] = [];
  await setupLogging({ level: "info", write: (line) => logs.push(line.replace(/^\S+ \S+ /, "")) });
  let handler: ((signal: SupervisedSignal) => void) | undefined;
  let settled = false;
  const result = supervise({
    program: { command: "sh", prefix: [CHILD] },
    args: [dir, options.lifetime],
    spawnWindowMs: options.spawnWindowMs,
    crashLoop: options.crashLoop,
    signals: (h) => {
      handler = h;
      return () => handler = undefined;
    },
  }).finally(() => settled = true);
  const lines = async (name: string) =>
    (await readIfExists(join(dir, name))).split("\n").filter(Boolean);
  const children = async () =>
    (await lines("pids")).map((line) => {
      const [pid, ...args] = line.split(" ");
      return { pid: Number(pid), args: args.join(" ") };
    });
  return {
    dir,
    send: (signal) => handler?.(signal),
    children,
    events: () => lines("events"),
    logs,
    result,
    cleanup: async () => {
      if (!settled) handler?.("SIGTERM");
      await result.catch(() => {});
      // A child killed by a failed assertion's cleanup leaves its `sleep` behind; end it too.
      for (const { pid } of await children()) killQuietly(pid);
      await Deno.remove(dir, { recursive: true });
      await resetLogging();
    },
  };
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // Already gone, as it should be.
  }
}

/** Polls `check` every 20 ms until it holds; fails after 10 s. */
const until = (check: () => Promise<boolean> | boolean, what: string) =>
  waitFor(check, what, { timeoutMs: 10_000, intervalMs: 20 });

async function childCount(h: Harness, n: number): Promise<void> {
  await until(async () => (await h.children()).length >= n, `${n} children`);
}

const TRAPPED_EXIT = { success: false, code: 3, signal: null };
const CRASH_EXIT = { success: false, code: 7, signal: null };

for (const signal of ["SIGTERM", "SIGINT", "SIGQUIT"] as const) {
  unix.test(`supervisor: ${signal} is forwarded and the child's exit status returned`, async () => {
    const h = await startSupervisor({ lifetime: "forever", spawnWindowMs: 60_000 });
    try {
      await childCount(h, 1);
      const [child] = await h.children();
      assert.equal(child.args, `${h.dir} forever -child`);
      h.send(signal);
      assert.deepEqual(await h.result, { reason: "signalled", status: TRAPPED_EXIT });
      assert.deepEqual(await h.events(), [`${child.pid} ${signal.slice(3)}`]);
      assert.equal((await h.children()).length, 1);
    } finally {
      await h.cleanup();
    }
  });
}

unix.test("supervisor: HUP with a passing configtest replaces the child", async () => {
  // A long window: a reload restarts the child however young it is.
  const h = await startSupervisor({ lifetime: "forever", spawnWindowMs: 60_000 });
  try {
    await childCount(h, 1);
    const [first] = await h.children();
    h.send("SIGHUP");
    await childCount(h, 2);
    const [, second] = await h.children();
    assert.notEqual(second.pid, first.pid);
    assert.equal(second.args, `${h.dir} forever -child`);
    assert.deepEqual(await h.events(), [`${first.pid} TERM`]);
    assert.equal(alive(first.pid), false);
    assert.equal(alive(second.pid), true);
    assert.deepEqual(h.logs, ["INFO <supervisor> receiving HUP, spawning a new mackerel-agent"]);
    h.send("SIGTERM");
    assert.deepEqual(await h.result, { reason: "signalled", status: TRAPPED_EXIT });
    assert.deepEqual(await h.events(), [`${first.pid} TERM`, `${second.pid} TERM`]);
  } finally {
    await h.cleanup();
  }
});

unix.test("supervisor: HUP with a failing configtest keeps the child", async () => {
  const h = await startSupervisor({ lifetime: "forever", spawnWindowMs: 60_000, conf: "bad" });
  try {
    await childCount(h, 1);
    const [child] = await h.children();
    h.send("SIGHUP");
    await until(() => h.logs.length >= 2, "the reload's warning");
    assert.deepEqual(h.logs, [
      "INFO <supervisor> receiving HUP, spawning a new mackerel-agent",
      `WARNING <supervisor> failed to reload: configtest failed: broken config in ${h.dir}/conf`,
    ]);
    assert.equal(alive(child.pid), true);
    assert.deepEqual(await h.events(), []);
    h.send("SIGTERM");
    assert.deepEqual(await h.result, { reason: "signalled", status: TRAPPED_EXIT });
    assert.deepEqual((await h.children()).map((c) => c.pid), [child.pid]);
  } finally {
    await h.cleanup();
  }
});

unix.test("supervisor: HUP reloads a config with only unknown keys (configtest -lenient)", async () => {
  const h = await startSupervisor({
    lifetime: "forever",
    spawnWindowMs: 60_000,
    conf: "unknown-key",
  });
  try {
    await childCount(h, 1);
    const [first] = await h.children();
    h.send("SIGHUP");
    await childCount(h, 2);
    assert.deepEqual(await h.events(), [`${first.pid} TERM`]);
    assert.deepEqual(h.logs, ["INFO <supervisor> receiving HUP, spawning a new mackerel-agent"]);
    // A real error still refuses, as before.
    await Deno.writeTextFile(join(h.dir, "conf"), "unknown-key bad");
    h.send("SIGHUP");
    await until(() => h.logs.length >= 3, "the refused reload");
    assert.equal(
      h.logs[2],
      `WARNING <supervisor> failed to reload: configtest failed: broken config in ${h.dir}/conf`,
    );
    assert.equal((await h.children()).length, 2);
  } finally {
    await h.cleanup();
  }
});

unix.test(`supervisor: a child exiting ${EXIT_CONFIG} after the spawn window is not restarted`, async () => {
  const h = await startSupervisor({ lifetime: `0.3/${EXIT_CONFIG}`, spawnWindowMs: 100 });
  try {
    const status = { success: false, code: EXIT_CONFIG, signal: null };
    assert.deepEqual(await h.result, { reason: "fatal", status });
    assert.equal((await h.children()).length, 1);
    assert.deepEqual(h.logs, [
      "ERROR <supervisor> mackerel-agent finished with a configuration or credentials error; " +
      `not restarting it: exit status ${EXIT_CONFIG}`,
    ]);
  } finally {
    await h.cleanup();
  }
});

unix.test("supervisor: a child dying within the spawn window ends supervision", async () => {
  const h = await startSupervisor({ lifetime: "0", spawnWindowMs: 60_000 });
  try {
    assert.deepEqual(await h.result, { reason: "early-exit", status: CRASH_EXIT });
    assert.equal((await h.children()).length, 1);
    assert.deepEqual(h.logs, []);
  } finally {
    await h.cleanup();
  }
});

unix.test("supervisor: a child crashing after the spawn window is restarted", async () => {
  const h = await startSupervisor({ lifetime: "0.4:1", spawnWindowMs: 200 });
  try {
    await childCount(h, 2);
    const [first, second] = await h.children();
    assert.equal(alive(first.pid), false);
    assert.equal(second.args, first.args);
    assert.deepEqual(h.logs, [
      "WARNING <supervisor> mackerel-agent abnormally finished with following error and try to " +
      "restart it: exit status 7",
    ]);
    h.send("SIGTERM");
    assert.deepEqual(await h.result, { reason: "signalled", status: TRAPPED_EXIT });
    assert.deepEqual(await h.events(), [`${second.pid} TERM`]);
  } finally {
    await h.cleanup();
  }
});

unix.test("supervisor: a crash loop ends after the restart bound", async () => {
  const h = await startSupervisor({
    lifetime: "0.15",
    spawnWindowMs: 100,
    crashLoop: { maxRestarts: 3, periodMs: 60_000 },
  });
  try {
    assert.deepEqual(await h.result, { reason: "crash-loop", status: CRASH_EXIT });
    assert.equal((await h.children()).length, 4);
    const warning = "WARNING <supervisor> mackerel-agent abnormally finished with following " +
      "error and try to restart it: exit status 7";
    assert.deepEqual(h.logs, [
      warning,
      warning,
      warning,
      "ERROR <supervisor> mackerel-agent finished 4 times within 60 seconds; giving up " +
      "restarting it: exit status 7",
    ]);
  } finally {
    await h.cleanup();
  }
});

unix.test("supervisor: the crash-loop bound counts only restarts within the period", () => {
  const bound = { maxRestarts: 3, periodMs: 1_000 };
  assert.equal(crashLoopReached([], 5_000, bound), false);
  assert.equal(crashLoopReached([4_100, 4_500], 5_000, bound), false);
  assert.equal(crashLoopReached([4_100, 4_500, 4_900], 5_000, bound), true);
  assert.equal(crashLoopReached([4_000, 4_500, 4_900], 5_000, bound), false);
  assert.equal(crashLoopReached([1_000, 2_000, 3_000, 4_500, 4_900], 5_000, bound), false);
});

unix.test("supervisor: exits are described in Go's words", () => {
  assert.equal(describeExit({ success: true, code: 0, signal: null }), undefined);
  assert.equal(describeExit({ success: false, code: 1, signal: null }), "exit status 1");
  assert.equal(describeExit({ success: false, code: 137, signal: "SIGKILL" }), "signal: killed");
  assert.equal(
    describeExit({ success: false, code: 143, signal: "SIGTERM" }),
    "signal: terminated",
  );
  assert.equal(describeExit({ success: false, code: 159, signal: "SIGSYS" }), "signal: SIGSYS");
});

unix.test("supervisor: under deno run the program is deno run -A <main module>", () => {
  assert.deepEqual(
    selfProgram({ execPath: "/usr/local/bin/deno", mainModule: "file:///opt/agent/main.ts" }),
    { command: "/usr/local/bin/deno", prefix: ["run", "-A", "file:///opt/agent/main.ts"] },
  );
  assert.deepEqual(
    selfProgram({ execPath: "C:\\deno\\deno.exe", mainModule: "file:///C:/agent/main.ts" }),
    { command: "C:\\deno\\deno.exe", prefix: ["run", "-A", "file:///C:/agent/main.ts"] },
  );
});

unix.test("supervisor: a compiled binary is its own program", () => {
  assert.deepEqual(
    selfProgram({
      execPath: "/usr/bin/mackerel-agent",
      mainModule: "file:///tmp/deno-compile-mackerel-agent/main.ts",
    }),
    { command: "/usr/bin/mackerel-agent", prefix: [] },
  );
  // Even if the binary were named deno, its main module gives it away.
  assert.deepEqual(
    selfProgram({ execPath: "/opt/deno", mainModule: "file:///tmp/deno-compile-deno/main.ts" }),
    { command: "/opt/deno", prefix: [] },
  );
});
