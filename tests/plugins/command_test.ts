import assert from "node:assert/strict";
import { buildEnv, commandArgv, pluginPath, runCommand } from "../../src/plugins/command.ts";
import { isRunning } from "../support/pids.ts";
import { onLinux, onUnix } from "../support/platform.ts";
import { withTempDir } from "../support/temp_dir.ts";

const unix = onUnix("runs shell-script plugins and commands");

const linux = onLinux("util-linux setsid puts a plugin in a process group of its own");

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).pathname;
const fixture = (name: string) => FIXTURES + name;
const GRACE = 500;
/** Long enough for a fixture to install its traps and start its grandchild on a busy machine. */
const SETUP_TIMEOUT = 800;

/** Whether a pid is gone (or a zombie nobody will run again), polling briefly for the reaper. */
async function isGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

unix.test("command: a shell line runs through sh -c", async () => {
  const r = await runCommand({ command: { kind: "shell", line: "echo 1" }, timeoutMs: 5000 });
  assert.deepEqual(r, {
    stdout: "1\n",
    stderr: "",
    exitCode: 0,
    timedOut: false,
    truncated: false,
  });
});

unix.test("command: stderr and the exit code are captured", async () => {
  const r = await runCommand({
    command: { kind: "shell", line: "echo out; echo err >&2; exit 3" },
    timeoutMs: 5000,
  });
  assert.equal(r.stdout, "out\n");
  assert.equal(r.stderr, "err\n");
  assert.equal(r.exitCode, 3);
  assert.equal(r.error, undefined);
});

unix.test("command: config env and extra env reach the child, extra env wins", async () => {
  const r = await runCommand({
    command: { kind: "shell", line: fixture("env.sh") },
    env: ["FOO=from config", "BAR=config bar", "LANG=en_US.UTF-8"],
    extraEnv: { BAR: "extra" },
    timeoutMs: 5000,
  });
  const lines = r.stdout.split("\n");
  assert.deepEqual(lines.slice(0, 4), [
    "FOO=from config",
    "BAR=extra",
    "LANG=en_US.UTF-8",
    "LC_ALL=C",
  ]);
  assert.equal(lines[4], "PATH=" + pluginPath(Deno.env.get("PATH")));
});

Deno.test("command: the env is agent env, then config env, then extra env", () => {
  const env = buildEnv(
    { HOME: "/root", PATH: "/usr/local/bin", LANG: "ja_JP.UTF-8" },
    ["A=1", "B=x=y", "=nokey", "A=2"],
    { MACKEREL_AGENT_PLUGIN_META: "" },
  );
  assert.deepEqual({ ...env }, {
    HOME: "/root",
    PATH: "/sbin:/usr/sbin:/bin:/usr/bin:/usr/local/bin:/opt/mackerel-agent/plugins/bin",
    LANG: "C",
    LC_ALL: "C",
    A: "2",
    B: "x=y",
    MACKEREL_AGENT_PLUGIN_META: "",
  });
});

Deno.test("command: PATH as upstream sets it, empty PATH, and no double prefix", () => {
  assert.equal(pluginPath(""), "/sbin:/usr/sbin:/bin:/usr/bin:/opt/mackerel-agent/plugins/bin");
  assert.equal(
    pluginPath(undefined),
    "/sbin:/usr/sbin:/bin:/usr/bin:/opt/mackerel-agent/plugins/bin",
  );
  const once = pluginPath("/a:/b");
  assert.equal(once, "/sbin:/usr/sbin:/bin:/usr/bin:/a:/b:/opt/mackerel-agent/plugins/bin");
  assert.equal(pluginPath(once), once);
});

Deno.test("command: argv for a shell line, an array and a user", () => {
  assert.deepEqual(commandArgv({ kind: "shell", line: "echo 1" }), ["sh", "-c", "echo 1"]);
  assert.deepEqual(commandArgv({ kind: "argv", argv: ["a", "b c"] }), ["a", "b c"]);
  assert.deepEqual(commandArgv({ kind: "shell", line: "id" }, "nobody"), [
    "sudo",
    "-Eu",
    "nobody",
    "sh",
    "-c",
    "id",
  ]);
});

unix.test("command: an array runs without a shell", async () => {
  const r = await runCommand({
    command: { kind: "argv", argv: [fixture("print_args.sh"), "a b", "$HOME", "*"] },
    timeoutMs: 5000,
  });
  assert.equal(r.stdout, "a b\n$HOME\n*\n");
  assert.equal(r.exitCode, 0);
});

unix.test("command: SIGTERM trapped and exit 23 gives 23 without error", async () => {
  const r = await runCommand({
    command: { kind: "argv", argv: [fixture("trap_term.sh")] },
    timeoutMs: SETUP_TIMEOUT,
    killGraceMs: 5000,
  });
  assert.equal(r.stdout, "signal received\n");
  assert.equal(r.exitCode, 23);
  assert.equal(r.timedOut, true);
  assert.equal(r.error, undefined);
});

unix.test("command: a command not in PATH gives 127 and Go's exec error", async () => {
  const r = await runCommand({ command: { kind: "argv", argv: ["notfound"] }, timeoutMs: 5000 });
  assert.equal(r.exitCode, 127);
  assert.equal(r.error, 'exit code: 127, exec: "notfound": executable file not found in $PATH');
});

unix.test("command: a missing path gives 127", async () => {
  const r = await runCommand({
    command: { kind: "argv", argv: [fixture("no-such-plugin")] },
    timeoutMs: 5000,
  });
  assert.equal(r.exitCode, 127);
  assert.equal(
    r.error,
    `exit code: 127, fork/exec ${fixture("no-such-plugin")}: no such file or directory`,
  );
});

unix.test("command: a directory gives 126", async () => {
  const dir = FIXTURES.replace(/\/$/, "");
  const r = await runCommand({ command: { kind: "argv", argv: [dir] }, timeoutMs: 5000 });
  assert.equal(r.exitCode, 126);
  assert.equal(r.error, `exit code: 126, fork/exec ${dir}: permission denied`);
});

unix.test("command: a file without execute permission gives 126", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "#!/bin/sh\necho hi\n");
    await Deno.chmod(file, 0o644);
    const r = await runCommand({ command: { kind: "argv", argv: [file] }, timeoutMs: 5000 });
    assert.equal(r.exitCode, 126);
    assert.equal(r.error, `exit code: 126, fork/exec ${file}: permission denied`);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test({
  name: "command: a user prefixes sudo, which must be found in PATH",
  // Windows runs no plugin as another user (upstream ignores `user` there).
  ignore: Deno.build.os === "windows" || pluginPath(Deno.env.get("PATH")).split(":").some((d) => {
    try {
      return Deno.statSync(`${d}/sudo`).isFile;
    } catch {
      return false;
    }
  }),
  fn: async () => {
    const r = await runCommand({
      command: { kind: "shell", line: "id" },
      user: "nobody",
      timeoutMs: 5000,
    });
    assert.equal(r.exitCode, 127);
    assert.equal(r.error, 'exit code: 127, exec: "sudo": executable file not found in $PATH');
  },
});

unix.test("command: a sleeper past a 300 ms timeout gives 143 and `command timed out`", async () => {
  const r = await runCommand({
    command: { kind: "shell", line: "sleep 10; echo done" },
    timeoutMs: 300,
    killGraceMs: GRACE,
  });
  assert.equal(r.exitCode, 143);
  assert.equal(r.error, "command timed out");
  assert.equal(r.timedOut, true);
  assert.equal(r.stdout, "");
});

linux.test("command: SIGTERM at the timeout reaches a grandchild holding stdout", async () => {
  const r = await runCommand({
    command: { kind: "argv", argv: [fixture("fork_and_hang.sh")] },
    timeoutMs: SETUP_TIMEOUT,
    killGraceMs: 10_000,
  });
  // Only the grandchild's pid: neither process lived to print more.
  assert.match(r.stdout, /^\d+\n$/);
  assert.equal(r.exitCode, 143);
  assert.equal(r.error, "command timed out");
  assert.equal(await isGone(Number(r.stdout)), true);
});

linux.test("command: SIGKILL after the grace period ends a group that ignores SIGTERM", async () => {
  const r = await runCommand({
    command: { kind: "argv", argv: [fixture("ignore_term.sh")] },
    timeoutMs: SETUP_TIMEOUT,
    killGraceMs: GRACE,
  });
  assert.match(r.stdout, /^\d+\n$/);
  assert.equal(r.exitCode, 137);
  assert.equal(r.error, "command timed out");
  assert.equal(await isGone(Number(r.stdout)), true);
});

linux.test("command: a grandchild outside the group cannot hold the run open", async () => {
  const r = await runCommand({
    command: { kind: "argv", argv: [fixture("escape_group.sh")] },
    timeoutMs: SETUP_TIMEOUT,
    killGraceMs: GRACE,
  });
  const escaped = Number(r.stdout);
  try {
    assert.match(r.stdout, /^\d+\n$/);
    assert.equal(r.exitCode, 143);
    assert.equal(r.error, "command timed out");
    assert.equal(isRunning(escaped), true);
  } finally {
    // Never `-0`: that is the test's own process group (deno test, the task, CI's shell).
    if (escaped > 0) Deno.kill(-escaped, "SIGKILL");
  }
  assert.equal(await isGone(escaped), true);
});

unix.test("command: past the cap the plugin is stopped and its complete lines are kept", async () => {
  const r = await runCommand({
    // Never ends on its own: without the cap it would be read until the timeout.
    command: { kind: "shell", line: "yes 'custom.runaway.value\t1\t1700000000'" },
    timeoutMs: 30_000,
    maxOutputBytes: 1 << 20,
  });
  assert.equal(r.truncated, true);
  assert.ok(r.stdout.length <= 1 << 20 && r.stdout.length > (1 << 20) - 64, `${r.stdout.length}`);
  assert.ok(r.stdout.endsWith("\n"), "no line cut in the middle");
  assert.ok(
    r.stdout.split("\n").slice(0, -1).every((l) => l === "custom.runaway.value\t1\t1700000000"),
  );
  assert.equal(r.exitCode, 128 + 15, "stopped with SIGTERM");
  assert.equal(r.error, undefined);
  assert.equal(r.timedOut, false, "stopped at the cap, not at its timeout");
});

unix.test("command: output of many reads comes back whole, characters across reads intact", async () => {
  await withTempDir("command_test_", async (dir) => {
    // 300 kB on each stream, read in many pieces: 1-, 2-, 3- and 4-byte characters cross every
    // boundary a read can end at.
    const text = Array.from(
      { length: 6000 },
      (_, i) => `l${i}\té€\u{1f600}x${"y".repeat(i % 37)}\n`,
    )
      .join("");
    const file = `${dir}/out.txt`;
    await Deno.writeTextFile(file, text);
    const r = await runCommand({
      command: { kind: "shell", line: `cat '${file}'; cat '${file}' >&2` },
      timeoutMs: 10_000,
    });
    assert.equal(r.exitCode, 0);
    assert.equal(r.truncated, false);
    assert.equal(r.stdout, text);
    assert.equal(r.stderr, text);
  });
});

unix.test("command: output without a newline before the cap keeps nothing of it", async () => {
  const r = await runCommand({
    command: { kind: "argv", argv: [fixture("big_output.sh")] },
    timeoutMs: 10_000,
    maxOutputBytes: 1 << 20,
  });
  assert.equal(r.truncated, true);
  assert.equal(r.stdout, "");
});

unix.test("command: output at the cap is not flagged", async () => {
  const r = await runCommand({
    command: { kind: "shell", line: "printf 12345" },
    timeoutMs: 5000,
    maxOutputBytes: 5,
  });
  assert.equal(r.stdout, "12345");
  assert.equal(r.truncated, false);
});

linux.test("command: aborting terminates the group with `command canceled`", async () => {
  const controller = new AbortController();
  const pending = runCommand({
    command: { kind: "shell", line: "sleep 10" },
    timeoutMs: 60_000,
    killGraceMs: GRACE,
    signal: controller.signal,
  });
  controller.abort();
  const r = await pending;
  assert.equal(r.exitCode, 143);
  assert.equal(r.timedOut, false);
  assert.equal(r.error, "command canceled");
});

unix.test("command: a negative timeout times out at once", async () => {
  const r = await runCommand({
    command: { kind: "shell", line: "sleep 10" },
    timeoutMs: -1000,
    killGraceMs: GRACE,
  });
  assert.equal(r.exitCode, 143);
  assert.equal(r.error, "command timed out");
});

Deno.test("command: on Windows a line runs through cmd /U /c, trailing newlines trimmed, no sudo", () => {
  assert.deepEqual(commandArgv({ kind: "shell", line: "dir C:\\\r\n" }, undefined, "windows"), [
    "cmd",
    "/U",
    "/c",
    "dir C:\\",
  ]);
  assert.deepEqual(commandArgv({ kind: "argv", argv: ["a.exe", "-x"] }, "nobody", "windows"), [
    "a.exe",
    "-x",
  ]);
});
