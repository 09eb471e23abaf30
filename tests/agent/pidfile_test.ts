import assert from "node:assert/strict";
import { waitFor } from "../support/wait.ts";
import { basename, join } from "node:path";
import {
  createPidfile,
  PidfileError,
  processKind,
  removePidfile,
} from "../../src/agent/pidfile.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onLinux, onUnix } from "../support/platform.ts";
import { currentUmask } from "../support/umask.ts";

const linux = onLinux("tells an agent by /proc/<pid>/cmdline");

const unix = onUnix("runs sleep");

/** No process has this pid: Linux pids stay below 2^22. */
const DEAD_PID = 2147483647;

/** Runs `fn` with a temp dir and the log lines (without timestamps) it produced. */
const withDir = (fn: (dir: string, logs: string[]) => Promise<void>): Promise<void> =>
  withTempDir("pidfile_test_", (dir) => withLogs((logs) => fn(dir, logs)));

/** Runs `fn` while a child process runs; kills and reaps it afterwards. */
async function withChild(
  command: Deno.Command,
  fn: (child: Deno.ChildProcess) => Promise<void>,
): Promise<void> {
  const child = command.spawn();
  try {
    await fn(child);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

const staleWarning = (path: string) =>
  `WARNING <pidfile> Pidfile found, but there seems no another process of mackerel-agent. Ignoring ${path}`;

Deno.test("pidfile: an empty path does nothing", async () => {
  await withDir(async (dir, logs) => {
    await createPidfile({ path: "" });
    await removePidfile({ path: "" });
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    assert.deepEqual(logs, []);
  });
});

Deno.test("pidfile: holds our own pid without a newline, in a created directory", async () => {
  await withDir(async (dir, logs) => {
    const path = join(dir, "run", "mackerel-agent.pid");
    await createPidfile({ path });
    assert.equal(await Deno.readTextFile(path), String(Deno.pid));
    assert.equal(
      (await Deno.stat(join(dir, "run"))).mode! & 0o777,
      0o755 & ~(await currentUmask()),
    );
    assert.deepEqual(logs, []);
  });
});

Deno.test("pidfile: create → remove → create (TestCreateAndRemovePidFile)", async () => {
  await withDir(async (dir, logs) => {
    const path = join(dir, "agent.pid");
    await createPidfile({ path });
    await removePidfile({ path });
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    await createPidfile({ path });
    assert.equal(await Deno.readTextFile(path), String(Deno.pid));
    // Created again over our own pid: fine, silently.
    await createPidfile({ path });
    assert.equal(await Deno.readTextFile(path), String(Deno.pid));
    assert.deepEqual(logs, []);
  });
});

Deno.test("pidfile: a pid of no process is overwritten with a WARNING", async () => {
  await withDir(async (dir, logs) => {
    const path = join(dir, "agent.pid");
    await Deno.writeTextFile(path, String(DEAD_PID));
    await createPidfile({ path });
    assert.equal(await Deno.readTextFile(path), String(Deno.pid));
    assert.deepEqual(logs, [staleWarning(path)]);
  });
});

Deno.test("pidfile: malformed content is overwritten with a WARNING", async () => {
  for (const content of [`${DEAD_PID}\n`, "abc", "", " 123", "12a"]) {
    await withDir(async (dir, logs) => {
      const path = join(dir, "agent.pid");
      await Deno.writeTextFile(path, content);
      await createPidfile({ path });
      assert.equal(await Deno.readTextFile(path), String(Deno.pid), JSON.stringify(content));
      assert.deepEqual(logs, [`WARNING <pidfile> Malformed pidfile found. Ignoring ${path}`]);
    });
  }
});

Deno.test("pidfile: even our own pid followed by a newline counts as malformed", async () => {
  await withDir(async (dir, logs) => {
    const path = join(dir, "agent.pid");
    await Deno.writeTextFile(path, `${Deno.pid}\n`);
    await createPidfile({ path });
    assert.equal(await Deno.readTextFile(path), String(Deno.pid));
    assert.deepEqual(logs, [`WARNING <pidfile> Malformed pidfile found. Ignoring ${path}`]);
  });
});

unix.test("pidfile: a live process that is not an agent (sleep) is overwritten", async () => {
  await withDir(async (dir, logs) => {
    const path = join(dir, "agent.pid");
    const sleep = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" });
    await withChild(sleep, async (child) => {
      await Deno.writeTextFile(path, String(child.pid));
      await createPidfile({ path });
      assert.equal(await Deno.readTextFile(path), String(Deno.pid));
      assert.deepEqual(logs, [staleWarning(path)]);
    });
  });
});

linux.test("pidfile: a live agent (deno running our main module's name) is refused", async () => {
  await withDir(async (dir, logs) => {
    // Under `deno test` our main module is this file: a child `deno run` of a script of the same
    // name looks like a second agent.
    const script = join(dir, basename(new URL(Deno.mainModule).pathname));
    await Deno.writeTextFile(script, "setTimeout(() => {}, 30_000);\n");
    const path = join(dir, "agent.pid");
    const agent = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-config", script],
      stdout: "null",
      stderr: "null",
    });
    await withChild(agent, async (child) => {
      // Until the child has exec'd, /proc/<pid>/cmdline is still this test runner's.
      await waitFor(
        () => Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).includes(basename(script)),
        "the child's exec",
      );
      await Deno.writeTextFile(path, String(child.pid));
      await assert.rejects(
        createPidfile({ path }),
        new PidfileError(
          `pidfile found, try stopping another running mackerel-agent or delete ${path}`,
        ),
      );
      assert.equal(await Deno.readTextFile(path), String(child.pid));
      // Not ours: left alone at exit.
      await removePidfile({ path });
      assert.equal(await Deno.readTextFile(path), String(child.pid));
    });
    assert.deepEqual(logs, []);
  });
});

Deno.test("pidfile: a live deno running another program is not an agent", async () => {
  await withDir(async (dir, logs) => {
    const script = join(dir, "other_program.ts");
    await Deno.writeTextFile(script, "setTimeout(() => {}, 30_000);\n");
    const path = join(dir, "agent.pid");
    const other = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-config", script],
      stdout: "null",
      stderr: "null",
    });
    await withChild(other, async (child) => {
      await Deno.writeTextFile(path, String(child.pid));
      await createPidfile({ path });
      assert.equal(await Deno.readTextFile(path), String(Deno.pid));
      assert.deepEqual(logs, [staleWarning(path)]);
    });
  });
});

Deno.test("pidfile: liveness and identity are read from the given procfs", async () => {
  await withDir(async (dir, logs) => {
    const procfs = join(dir, "proc");
    const mainModule = basename(new URL(Deno.mainModule).pathname);
    const cmdlines: Record<string, string> = {
      // argv[0] named as our executable, running our main module: an agent.
      "4001": ["/opt/deno/bin/deno", "run", "-A", `/srv/agent/${mainModule}`, ""].join("\0"),
      // Our executable's name, another main module: not an agent.
      "4002": ["/opt/deno/bin/deno", "run", "-A", "/srv/other.ts", ""].join("\0"),
      // A zombie: empty cmdline.
      "4003": "",
    };
    for (const [pid, cmdline] of Object.entries(cmdlines)) {
      await Deno.mkdir(join(procfs, pid), { recursive: true });
      await Deno.writeTextFile(join(procfs, pid, "cmdline"), cmdline);
    }
    const path = join(dir, "agent.pid");
    await Deno.writeTextFile(path, "4001");
    await assert.rejects(createPidfile({ path, procfs }), PidfileError);
    for (const pid of ["4002", "4003", "4004"]) {
      await Deno.writeTextFile(path, pid);
      await createPidfile({ path, procfs, pid: 777 });
      assert.equal(await Deno.readTextFile(path), "777");
    }
    assert.deepEqual(logs, Array(3).fill(staleWarning(path)));
  });
});

Deno.test("pidfile: remove deletes the file only while it holds our pid", async () => {
  await withDir(async (dir, logs) => {
    const path = join(dir, "agent.pid");
    await Deno.writeTextFile(path, "4242");
    await removePidfile({ path });
    assert.equal(await Deno.readTextFile(path), "4242");
    await removePidfile({ path, pid: 4242 });
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    // Already gone: nothing to do, nothing logged.
    await removePidfile({ path, pid: 4242 });
    assert.deepEqual(logs, []);
  });
});

Deno.test("pidfile: a remove that fails is logged, not thrown", async () => {
  await withDir(async (dir, logs) => {
    // A directory at the path: reading it fails.
    const path = join(dir, "agent.pid");
    await Deno.mkdir(path);
    await removePidfile({ path });
    assert.equal(logs.length, 1);
    assert.ok(logs[0].startsWith(`ERROR <pidfile> Failed to remove the pidfile: ${path}: `));
  });
});

Deno.test("pidfile: processKind tells an agent, another program, no process and no procfs apart", async () => {
  await withDir(async (dir) => {
    const procfs = join(dir, "proc");
    const mainModule = basename(new URL(Deno.mainModule).pathname);
    const deno = basename(Deno.execPath());
    const cmdlines: Record<string, string> = {
      "4001": [`/usr/bin/${deno}`, "run", "-A", `/srv/${mainModule}`, ""].join("\0"),
      "4002": ["/bin/sleep", "30", ""].join("\0"),
      "4003": "",
    };
    for (const [pid, cmdline] of Object.entries(cmdlines)) {
      await Deno.mkdir(join(procfs, pid), { recursive: true });
      await Deno.writeTextFile(join(procfs, pid, "cmdline"), cmdline);
    }
    assert.equal(processKind(4001, procfs), "agent");
    assert.equal(processKind(4002, procfs), "other");
    assert.equal(processKind(4003, procfs), "other", "a zombie or kernel thread");
    assert.equal(processKind(4004, procfs), "gone");
    assert.equal(processKind(4001, join(dir, "no-proc")), "unknown", "no procfs (macOS)");
  });
});
