import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_CONFFILE } from "../../src/config/schema.ts";
import { runAgent } from "../support/agent_process.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("reads a procfs tree or /proc, and Linux's collectors");

const FIXTURE = new URL("../fixtures/host/", import.meta.url).pathname;

interface OnceMetric {
  name: string;
  value: number;
  time: number;
}

/** A config that keeps `once` off the network (no cloud probing). */
async function offlineConf(): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  await Deno.writeTextFile(file, 'cloud_platform = "none"\nroles = ["web:app"]\n');
  return file;
}

function byName(metrics: OnceMetric[]): Map<string, number> {
  return new Map(metrics.map((m) => [m.name, m.value]));
}

linux.test("once: a fixture tree is the only source of metrics and host parts", async () => {
  const conf = await offlineConf();
  try {
    const { code, stdout, stderr } = await runAgent([
      "once",
      `-conf=${conf}`,
      `-procfs=${join(FIXTURE, "proc")}`,
      `-sysfs=${join(FIXTURE, "sys")}`,
    ]);
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(stdout);
    assert.equal(stdout.trimEnd().split("\n").length, 1, "one document on one line");
    assert.equal(doc.host.name, "web-01");
    assert.equal(doc.host.meta.kernel.release, "6.8.0-1015-aws");
    assert.deepEqual(doc.host.roleFullnames, ["web:app"]);
    assert.equal(doc.host.meta.cpu.length, 2);
    assert.equal(doc.host.meta.memory.total, "16303428kB");
    assert.deepEqual(Object.keys(doc.host.meta.block_device).sort(), ["loop0", "nvme0n1", "sda"]);
    const values = byName(doc.metrics);
    assert.equal(values.get("loadavg1"), 0.52);
    assert.equal(values.get("loadavg15"), 0.59);
    assert.equal(values.get("memory.total"), 16303428 * 1024);
    // A static tree has no activity: rates are zero, and cpu has no elapsed jiffies to divide.
    assert.equal(values.get("disk.sda.reads.delta"), 0);
    assert.equal(values.get("interface.eth0.rxBytes.delta"), 0);
    assert.ok(![...values.keys()].some((name) => name.startsWith("cpu.")));
    assert.ok(!values.has("interface.lo.rxBytes.delta"));
    // Rates cover the 1 s window before the round and carry its start; the rest the round's time.
    const timeOf = new Map(doc.metrics.map((m: OnceMetric) => [m.name, m.time]));
    const round = timeOf.get("loadavg1") as number;
    assert.ok(Number.isInteger(round));
    assert.equal(timeOf.get("memory.total"), round);
    assert.equal(timeOf.get("disk.sda.reads.delta"), round - 1);
    assert.equal(timeOf.get("interface.eth0.txBytes.delta"), round - 1);
    assert.deepEqual(new Set(timeOf.values()), new Set([round - 1, round]));
  } finally {
    await Deno.remove(conf);
  }
});

linux.test("once: a procfs or rootfs that does not exist or is empty is one clear line, exit 1", async () => {
  const conf = await offlineConf();
  const empty = await Deno.makeTempDir();
  try {
    const missing = await runAgent(["once", `-conf=${conf}`, "-procfs=/nonexistent/proc"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, "");
    assert.equal(missing.stderr, "-procfs /nonexistent/proc: no such directory\n");
    const blank = await runAgent(["once", `-conf=${conf}`, `-procfs=${empty}`]);
    assert.equal(blank.code, 1);
    assert.equal(blank.stderr, `-procfs ${empty}: empty directory\n`);
    const rootfs = await runAgent(["once", `-conf=${conf}`, "-rootfs=/nonexistent/rootfs"]);
    assert.equal(rootfs.code, 1);
    assert.equal(rootfs.stderr, "-rootfs /nonexistent/rootfs: no such directory\n");
  } finally {
    await Deno.remove(conf);
    await Deno.remove(empty);
  }
});

linux.test("once: a missing or empty sysfs is one warning; the spec has no block devices", async () => {
  const conf = await offlineConf();
  const empty = await Deno.makeTempDir();
  try {
    for (
      const [sysfs, problem] of [["/nonexistent/sys", "no such directory"], [
        empty,
        "empty directory",
      ]]
    ) {
      const { code, stdout, stderr } = await runAgent([
        "once",
        `-conf=${conf}`,
        `-procfs=${join(FIXTURE, "proc")}`,
        `-sysfs=${sysfs}`,
        "-skip-checks",
      ]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(
        stderr.trimEnd().split("\n").map((line) => line.replace(/^\S+ \S+ /, "")),
        [`WARNING <main> -sysfs ${sysfs}: ${problem}; the host spec has no block devices`],
      );
      const doc = JSON.parse(stdout);
      assert.equal(doc.host.meta.block_device, undefined);
      assert.equal(doc.host.name, "web-01");
      assert.equal(byName(doc.metrics).get("loadavg1"), 0.52);
    }
  } finally {
    await Deno.remove(conf);
    await Deno.remove(empty);
  }
});

Deno.test({
  name: "once: without -conf and without the default file, upstream's warning and nil roles",
  // The default file of a machine that has one would be read instead.
  ignore: await Deno.stat(DEFAULT_CONFFILE).then(() => true, () => false),
  async fn() {
    const { code, stdout, stderr } = await runAgent([
      "once",
      `-procfs=${join(FIXTURE, "proc")}`,
      `-sysfs=${join(FIXTURE, "sys")}`,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      new RegExp(
        "^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d WARNING <main> failed to load config " +
          "\\(but `once` must not required conf\\): failed to load the config file: " +
          `open ${DEFAULT_CONFFILE}: no such file or directory\n`,
      ),
    );
    const doc = JSON.parse(stdout);
    // Go's nil slice: upstream's once has no roles without a config file.
    assert.equal(doc.host.roleFullnames, null);
    assert.deepEqual(doc.host.checks, []);
    assert.deepEqual(doc.checks, []);
  },
});

linux.test("once: a config file without roles gives an empty array, as the API payload", async () => {
  const conf = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(conf, 'cloud_platform = "none"\n');
    const { code, stdout, stderr } = await runAgent([
      "once",
      `-conf=${conf}`,
      `-procfs=${join(FIXTURE, "proc")}`,
      `-sysfs=${join(FIXTURE, "sys")}`,
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    assert.deepEqual(JSON.parse(stdout).host.roleFullnames, []);
  } finally {
    await Deno.remove(conf);
  }
});

linux.test("once: -skip-checks runs no check plugin and leaves the checks key out", async () => {
  await withTempDir("once-skip-checks-", async (dir) => {
    const conf = join(dir, "agent.conf");
    const marker = join(dir, "ran");
    await Deno.writeTextFile(
      conf,
      `cloud_platform = "none"\n[plugin.checks.log]\ncommand = ["/bin/sh", "-c", "echo >> '${marker}'"]\n`,
    );
    const args = ["once", `-conf=${conf}`, `-procfs=${join(FIXTURE, "proc")}`];
    const skipped = await runAgent([...args, "-skip-checks"]);
    assert.equal(skipped.code, 0, skipped.stderr);
    const doc = JSON.parse(skipped.stdout);
    assert.equal("checks" in doc, false);
    // The monitor is still part of the host's description.
    assert.deepEqual(doc.host.checks, [{ name: "log" }]);
    assert.equal(await Deno.stat(marker).then(() => true, () => false), false, "the check ran");
    const ran = await runAgent(args);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout).checks.map((c: { name: string }) => c.name), ["log"]);
    assert.equal(await Deno.readTextFile(marker), "\n");
  });
});

linux.test("once: on the live machine the numbers match /proc read by the test", async () => {
  const conf = await offlineConf();
  try {
    const { code, stdout, stderr } = await runAgent(["once", `-conf=${conf}`]);
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(stdout);
    const values = byName(doc.metrics);
    const meminfo = await Deno.readTextFile("/proc/meminfo");
    const memTotalKb = Number(meminfo.match(/^MemTotal:\s+(\d+) kB$/m)?.[1]);
    assert.equal(values.get("memory.total"), memTotalKb * 1024);
    assert.equal(doc.host.meta.memory.total, `${memTotalKb}kB`);
    assert.equal(doc.host.name, (await Deno.readTextFile("/proc/sys/kernel/hostname")).trim());
    assert.equal(doc.host.meta.kernel.release, Deno.osRelease());
    const cpus = (await Deno.readTextFile("/proc/cpuinfo")).match(/^processor\s*:/gm)?.length;
    assert.equal(doc.host.meta.cpu.length, cpus);
    // Rates over the 1 s window: cpu percentages add up to about 100 per CPU.
    const cpuSum = [...values].filter(([name]) => name.startsWith("cpu."))
      .reduce((sum, [, value]) => sum + value, 0);
    assert.ok(Math.abs(cpuSum - cpus! * 100) < 1, `cpu sum ${cpuSum}`);
    // Rates are divided by the nominal 1 s window, not a measured gap: whole numbers, as upstream.
    const deltas = [...values].filter(([name]) => name.endsWith(".delta"));
    assert.ok(deltas.length > 0);
    for (const [name, value] of deltas) assert.ok(Number.isInteger(value), `${name} = ${value}`);
  } finally {
    await Deno.remove(conf);
  }
});

linux.test("once: without -A the built-in fallbacks still give a valid document", async () => {
  const conf = await offlineConf();
  try {
    const { code, stdout, stderr } = await runAgent(["once", `-conf=${conf}`], {
      permissions: ["--allow-sys", "--allow-read"],
    });
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(stdout);
    const names = new Set(doc.metrics.map((m: OnceMetric) => m.name));
    for (const name of ["loadavg1", "memory.total", "memory.used", "cpu.idle.percentage"]) {
      assert.ok(names.has(name), name);
    }
    const collectorLines = stderr.split("\n").filter((line) =>
      line.includes("<metrics> collector")
    );
    assert.equal(collectorLines.length, 6, stderr);
    for (const name of ["disk", "interface", "filesystem"]) {
      assert.ok(
        collectorLines.some((line) =>
          line.includes(`collector ${name} disabled`) && line.includes("--allow-all")
        ),
        name,
      );
    }
  } finally {
    await Deno.remove(conf);
  }
});
