import assert from "node:assert/strict";
import { join } from "node:path";
import {
  agentConf,
  assertNames,
  expectedNames,
  launchctlPid,
  main,
  missingNames,
  namePattern,
  SmokeError,
  tasklistPid,
  win32ExitCode,
} from "../../scripts/os_smoke.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { withTempDir } from "../support/temp_dir.ts";

Deno.test("os smoke: * stands for one device, filesystem or interface key", () => {
  assert.ok(namePattern("disk.*.reads.delta").test("disk.sda.reads.delta"));
  assert.ok(!namePattern("disk.*.reads.delta").test("disk.reads.delta"));
  assert.ok(!namePattern("disk.*.reads.delta").test("disk.a.b.reads.delta"));
  assert.ok(namePattern("filesystem.*.size").test("filesystem.C:.size"));
  assert.ok(namePattern("disk.<device>.reads.delta").test("disk.nvme0n1.reads.delta"));
  assert.ok(!namePattern("disk.<device>.reads.delta").test("disk.<device>.writes.delta"));
  // Everything else is literal: a dot is a dot.
  assert.ok(!namePattern("loadavg5").test("loadavg15"));
  assert.ok(!namePattern("cpu.user.percentage").test("cpu_user_percentage"));
  assert.deepEqual(
    missingNames(
      ["loadavg5", "interface.*.rxBytes.delta", "memory.used", "disk.*.writes.delta"],
      ["loadavg5", "interface.eth0.rxBytes.delta", "memory.free"],
    ),
    ["memory.used", "disk.*.writes.delta"],
  );
  assert.throws(
    () => assertNames("once", ["memory.used"], []),
    (error) =>
      error instanceof SmokeError &&
      /1 of upstream's names missing: memory\.used/.test(error.message),
  );
});

Deno.test("os smoke: the names come from --expect, else from the platform module", async () => {
  assert.deepEqual(await expectedNames("linux", ["a", "b"]), ["a", "b"]);
  const exists = await Deno.stat(new URL("../../src/metrics/upstream_names.ts", import.meta.url))
    .then(
      () => true,
      () => false,
    );
  if (exists) {
    // Once the module is in the tree it must answer for every system the workflow runs on.
    for (const os of ["linux", "darwin", "windows"]) {
      const names = await expectedNames(os);
      assert.ok(names.length > 0 && names.every((n) => typeof n === "string"), os);
    }
  } else {
    await assert.rejects(
      expectedNames("linux"),
      (error) =>
        error instanceof SmokeError &&
        /src\/platform\/names\.ts cannot be loaded/.test(error.message),
    );
  }
});

Deno.test("os smoke: the agent's config points at the fake API and probes no cloud", async () => {
  await withTempDir("os_smoke_test_", async (dir) => {
    const file = join(dir, "agent.conf");
    await Deno.writeTextFile(file, agentConf({ url: "http://127.0.0.1:4321" }));
    const config = await loadConfigFile(file);
    assert.equal(config.apibase, "http://127.0.0.1:4321");
    assert.equal(config.apikey, "os-smoke-key");
    assert.equal(config.cloudPlatform, "none");
  });
});

Deno.test("os smoke: process ids and exit codes are read from the service managers' output", () => {
  assert.equal(
    tasklistPid('"mackerel-agent.exe","5120","Services","0","48,212 K"\r\n'),
    5120,
  );
  assert.equal(
    tasklistPid("INFO: No tasks are running which match the specified criteria.\r\n"),
    undefined,
  );
  const print = "system/mackerel-agent = {\n\tactive count = 1\n\tpath = /Library/LaunchDaemons/" +
    "mackerel-agent.plist\n\tstate = running\n\n\tprogram = /usr/local/bin/mackerel-agent\n" +
    "\tpid = 812\n\timmediate reason = speculative\n}\n";
  assert.equal(launchctlPid(print), 812);
  assert.equal(launchctlPid(print.replace("\tpid = 812\n", "")), undefined);
  assert.equal(win32ExitCode("        WIN32_EXIT_CODE    : 1066  (0x42a)\r\n"), 1066);
  assert.equal(win32ExitCode("        WIN32_EXIT_CODE    : 0  (0x0)\r\n"), 0);
});

Deno.test("os smoke: once checks a document's names; a usage mistake exits 2", async () => {
  await withTempDir("os_smoke_test_", async (dir) => {
    const file = join(dir, "once.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        host: { name: "h" },
        metrics: [{ name: "loadavg5", value: 1, time: 1 }, {
          name: "disk.sda.reads.delta",
          value: 0,
          time: 1,
        }],
      }),
    );
    const errors: string[] = [];
    const original = { log: console.log, error: console.error };
    console.log = () => {};
    console.error = (line: string) => errors.push(line);
    try {
      assert.equal(await main(["once", file, "--expect=loadavg5,disk.*.reads.delta"]), 0);
      assert.equal(await main(["once", file, "--expect=loadavg5,memory.used"]), 1);
      assert.equal(await main(["bogus", "--expect=a"]), 2);
      assert.equal(await main(["once", file, "--nope"]), 2);
    } finally {
      Object.assign(console, original);
    }
    assert.match(
      errors[0],
      /^os_smoke: once \(.*once\.json\): 1 of upstream's names missing: memory\.used$/,
    );
  });
});
