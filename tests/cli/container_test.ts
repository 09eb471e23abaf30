/**
 * Container mode: the agent in a container with the host's `/` at `-rootfs`, its /proc at
 * `-procfs` and its /sys at `-sysfs` (or none) reports the host: its name and distribution from the
 * host's /etc, filesystem sizes by statfs under the rootfs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { daemonArgs, runAgent, spawnAgent } from "../support/agent_process.ts";
import { hasCommand } from "../support/commands.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { withTempDir, writeFiles } from "../support/temp_dir.ts";
import { waitFor } from "../support/wait.ts";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("a Linux host's /, /proc and /sys");

const HOST_PROC = new URL("../fixtures/host/proc/", import.meta.url).pathname;

/** The host's files the agent reads under the rootfs. */
const HOST_ETC = {
  "etc/hostname": "db-01\n",
  "etc/redhat-release": "Rocky Linux release 9.4 (Blue Onyx)\n",
  "etc/os-release": 'ID="rocky"\nVERSION_ID="9.4"\n',
};

/** df -Pk of `path`: the device's size in KiB, as df computes it. */
async function dfSizeKb(path: string): Promise<number> {
  const df = await new Deno.Command("df", { args: ["-Pk", path], env: { LC_ALL: "C" } }).output();
  assert.equal(df.code, 0, new TextDecoder().decode(df.stderr));
  return Number(new TextDecoder().decode(df.stdout).trim().split("\n")[1].split(/\s+/)[1]);
}

/** Copies the directory tree `from` to `to`. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const [source, target] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory) await copyTree(source, target);
    else await Deno.copyFile(source, target);
  }
}

/**
 * A container's view in `dir`: `rootfs` (the host's `/`, with /data on the same disk), and `proc`:
 * the fixture's files, with the host's mount table as the host's init (pid 1) has it.
 */
async function containerView(dir: string): Promise<{ rootfs: string; procfs: string }> {
  const rootfs = join(dir, "rootfs");
  const procfs = join(dir, "proc");
  await writeFiles(rootfs, { ...HOST_ETC, "data/.keep": "" });
  await copyTree(HOST_PROC, procfs);
  await writeFiles(procfs, {
    "sys/kernel/hostname": "3f2a9c1b7d4e\n",
    "1/mounts": "/dev/vda1 / ext4 rw 0 0\n/dev/vdb /data xfs rw 0 0\n" +
      "tmpfs /run tmpfs rw 0 0\nproc /proc proc rw 0 0\n",
    "mounts": "overlay / overlay rw 0 0\n",
  });
  return { rootfs, procfs };
}

linux.test("container: once -rootfs reports the host's name, distribution and filesystems", async () => {
  await withTempDir("container-once-", async (dir) => {
    const { rootfs, procfs } = await containerView(dir);
    await Deno.writeTextFile(join(dir, "agent.conf"), 'cloud_platform = "none"\n');
    const { code, stdout, stderr } = await runAgent([
      "once",
      `-conf=${join(dir, "agent.conf")}`,
      `-rootfs=${rootfs}`,
      `-procfs=${procfs}`,
      `-sysfs=${join(dir, "no-sys")}`,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      new RegExp(`WARNING <main> -sysfs ${dir}/no-sys: no such directory; the host spec has no`),
    );
    const { host } = JSON.parse(stdout);
    // The host's /etc/hostname, not the container's kernel name.
    assert.equal(host.name, "db-01");
    assert.equal(host.meta.kernel.platform_name, "rocky");
    assert.equal(host.meta.kernel.platform_version, "9.4");
    assert.equal(host.meta.block_device, undefined);
    // The host's mounts by their host paths; /data shares the disk here, so it folds into /; /run
    // has no directory under this rootfs and is skipped.
    assert.deepEqual(Object.keys(host.meta.filesystem), ["/dev/vda1"]);
    assert.equal(host.meta.filesystem["/dev/vda1"].mount, "/");
    assert.equal(host.meta.filesystem["/dev/vda1"].kb_size, await dfSizeKb(rootfs));
  });
});

linux.test("container: the daemon with -rootfs and no sysfs registers the host, with one warning", async () => {
  const api = await startFakeMackerel();
  await withTempDir("container-daemon-", async (dir) => {
    const { rootfs, procfs } = await containerView(dir);
    await Deno.writeTextFile(join(dir, "agent.conf"), 'cloud_platform = "none"\n');
    const agent = spawnAgent([
      ...daemonArgs(dir, api),
      `-rootfs=${rootfs}`,
      `-procfs=${procfs}`,
      `-sysfs=${join(dir, "no-sys")}`,
    ]);
    try {
      await waitFor(() => api.hosts.size === 1, "the host to be registered");
      const payload = [...api.hosts.values()][0].payload as {
        name: string;
        meta: Record<string, unknown>;
      };
      assert.equal(payload.name, "db-01");
      assert.equal(payload.meta.block_device, undefined);
      assert.deepEqual(Object.keys(payload.meta.filesystem as object), ["/dev/vda1"]);
      // Signals are handled once the agent has started (upstream's order).
      await waitFor(() => agent.stderr().includes("INFO <command> Start: "), "the agent to start");
      agent.kill("SIGTERM");
      assert.equal(await agent.exited, 0, agent.stderr());
      assert.equal(agent.stderr().split("-sysfs").length - 1, 1, agent.stderr());
      assert.deepEqual(api.violations, []);
    } finally {
      try {
        agent.kill("SIGKILL");
      } catch {
        // It has ended.
      }
      await agent.exited;
      await api.close();
    }
  });
});

/** Whether this process may make mount and pid namespaces (root, with `unshare`). */
const canUnshare = Deno.build.os === "linux" && Deno.uid() === 0 && hasCommand("unshare");

Deno.test({
  name:
    `container: in a container seeing the host's / at -rootfs, statfs measures the host's mounts${
      canUnshare ? "" : " (skipped: needs root and unshare)"
    }`,
  ignore: !canUnshare,
  async fn() {
    await withTempDir("container-ns-", async (dir) => {
      const rootfs = join(dir, "rootfs");
      const data = join(dir, "data");
      await Deno.mkdir(rootfs);
      await Deno.mkdir(data);
      await Deno.writeTextFile(join(dir, "agent.conf"), 'cloud_platform = "none"\n');
      // A small world of its own (mount and pid namespaces, its own /proc): the "host", whose init
      // (pid 1) has an 8 MiB disk at `data`. In it, a "container" (a mount namespace of its own)
      // sees the host's / at the rootfs and has its own 4 MiB disk at `data`. Nothing outside
      // changes; everything goes when the namespaces end. The container shares the host's pids
      // (`--pid=host`: pid 1's mount table is the host's) or has its own (pid 1 is the agent,
      // whose table shows the host's mounts under the rootfs).
      for (const pids of ["host", "own"]) {
        const container =
          'mount --rbind / "$1" && mount -t tmpfs -o size=4m container-disk "$2" && ' +
          'shift 2 && exec "$@"';
        const unshare = pids === "host"
          ? "unshare --mount"
          : "unshare --mount --pid --fork --mount-proc";
        const host = 'mount -t tmpfs -o size=8m host-disk "$2" && ' +
          `${unshare} sh -c '${container}' "$0" "$@" & wait $!`;
        const output = await new Deno.Command("unshare", {
          args: [
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "sh",
            "-c",
            host,
            "sh",
            rootfs,
            data,
            Deno.execPath(),
            "run",
            "--quiet",
            "-A",
            new URL("../../main.ts", import.meta.url).pathname,
            "once",
            `-conf=${join(dir, "agent.conf")}`,
            "-skip-checks",
            `-rootfs=${rootfs}`,
          ],
          env: { NO_COLOR: "1" },
          stdin: "null",
          signal: AbortSignal.timeout(30_000),
        }).output();
        const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
        assert.equal(output.code, 0, decode(output.stderr));
        const filesystems = JSON.parse(decode(output.stdout)).host.meta.filesystem;
        // The host's disk, by its path on the host and its size, not the container's at that path.
        assert.deepEqual(
          { mount: filesystems["host-disk"]?.mount, kb_size: filesystems["host-disk"]?.kb_size },
          { mount: data, kb_size: 8192 },
          `${pids} pids: ${JSON.stringify(filesystems)}`,
        );
        assert.equal(filesystems["container-disk"], undefined);
        // The host's / is there too, by its host path.
        const mounts = Object.values(filesystems).map((fs) => (fs as { mount: string }).mount);
        assert.ok(mounts.includes("/"), `${pids} pids: ${mounts}`);
        assert.ok(!mounts.some((mount) => mount.startsWith(rootfs)), `${pids} pids: ${mounts}`);
      }
    });
  },
});
