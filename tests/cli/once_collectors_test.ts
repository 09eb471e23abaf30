/**
 * `once` with every opt-in collector turned on in `[collectors]`: the real command on this host.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent } from "../support/agent_process.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("the opt-in collectors read /proc");

linux.test("once: [collectors] turns the opt-in metrics on, each one a custom.* with a sane value", async () => {
  await withTempDir("once-collectors-", async (dir) => {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(
      conf,
      "[collectors]\npressure = true\ninodes = true\ninterface_errors = true\ntcp = true\nfiles = true\nprocesses = true\n",
    );
    const { code, stdout, stderr } = await runAgent(["once", `-conf=${conf}`, "-skip-checks"]);
    assert.equal(code, 0, stderr);
    const metrics = JSON.parse(stdout).metrics as { name: string; value: number }[];
    const value = (name: string) => metrics.find((m) => m.name === name)?.value;
    const expected = [
      "custom.tcp.connections.established",
      "custom.tcp.opens.active",
      "custom.files.used",
      "custom.files.limit.max",
      "custom.processes.running",
      "custom.processes.context_switches.per_second",
    ];
    const psi = await Deno.stat("/proc/pressure/cpu").then(() => true, () => false);
    if (psi) expected.push("custom.pressure.cpu.some_avg10", "custom.pressure.stall.cpu_some");
    for (const name of expected) assert.ok(value(name) !== undefined, `${name} in ${stdout}`);
    assert.ok(metrics.some((m) => /^custom\.inode\.percentage\..+\.used$/.test(m.name)));
    assert.ok(value("custom.processes.running")! >= 1, "this process runs");
    assert.ok(
      value("custom.files.used")! > 0 &&
        value("custom.files.used")! <= value("custom.files.limit.max")!,
    );
    // Without the table, none of them.
    const plain = await runAgent(["once", "-skip-checks"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(
      !(JSON.parse(plain.stdout).metrics as { name: string }[]).some((m) =>
        m.name.startsWith("custom.")
      ),
    );
  });
});
