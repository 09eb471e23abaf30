import assert from "node:assert/strict";
import { join } from "node:path";
import type { ServicePlan } from "../../src/service/plan.ts";
import { describePlan, type PlanIo, runPlan, systemIo } from "../../src/service/run_plan.ts";
import { windowsUninstallPlan } from "../../src/service/windows.ts";
import { joinWindowsArgs } from "../../src/service/windows_command_line.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";

/** The real file system, with program runs answered from a script and recorded. */
function recordingIo(answers: Record<string, { code: number; output: string }[]>) {
  const runs: string[] = [];
  const printed: string[] = [];
  const clock = createVirtualClock(0);
  const io: PlanIo = {
    ...systemIo,
    clock,
    run(program, args) {
      const line = [program, ...args].join(" ");
      runs.push(line);
      const answer = answers[line]?.shift();
      if (!answer) throw new Deno.errors.NotFound(`no answer scripted for ${line}`);
      return Promise.resolve(answer);
    },
    print: (line) => printed.push(line),
  };
  return { io, runs, printed, clock };
}

const QUERY = (state: string) => ({
  code: 0,
  output: `SERVICE_NAME: mackerel-agent\n  STATE : ${state}`,
});

Deno.test("service plan: steps write real files, run in order, and the next steps are printed", async () => {
  await withTempDir("run_plan_test_", async (dir) => {
    const plist = join(dir, "LaunchDaemons", "agent.plist");
    const plan: ServicePlan = {
      steps: [
        { kind: "folder", what: "make the root", path: join(dir, "root", "deep") },
        { kind: "write", what: "write it", path: plist, text: "<plist/>\n", mode: 0o644 },
        {
          kind: "run",
          what: "load it",
          program: "launchctl",
          args: ["bootstrap", "system", plist],
        },
      ],
      next: ["Its log: somewhere"],
    };
    // An existing file keeps its old mode unless it is set again.
    await Deno.mkdir(join(dir, "LaunchDaemons"));
    await Deno.writeTextFile(plist, "old", { mode: 0o666 });
    const { io, runs, printed } = recordingIo({
      [`launchctl bootstrap system ${plist}`]: [{ code: 0, output: "" }],
    });
    assert.equal(await runPlan(plan, { label: "service install", io }), 0);
    assert.ok((await Deno.stat(join(dir, "root", "deep"))).isDirectory);
    assert.equal(await Deno.readTextFile(plist), "<plist/>\n");
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(plist)).mode! & 0o777, 0o644);
    assert.deepEqual(runs, [`launchctl bootstrap system ${plist}`]);
    assert.deepEqual(printed, [
      "service install: make the root",
      "service install: write it",
      "service install: load it",
      "Its log: somewhere",
    ]);
  });
});

Deno.test("service plan: the first failing step stops the plan with one line naming it", async () => {
  const plan: ServicePlan = {
    steps: [
      { kind: "run", what: "register it", program: "sc.exe", args: ["create", "x"] },
      { kind: "run", what: "never reached", program: "sc.exe", args: ["description", "x"] },
    ],
    next: ["not printed"],
  };
  const { io, runs, printed } = recordingIo({
    "sc.exe create x": [{
      code: 1073,
      output: "[SC] CreateService FAILED 1073:\n\nThe specified service already exists.",
    }],
  });
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    assert.equal(await runPlan(plan, { label: "service install", io }), 1);
  } finally {
    console.error = original;
  }
  assert.deepEqual(runs, ["sc.exe create x"]);
  assert.deepEqual(printed, ["service install: register it"]);
  assert.deepEqual(errors, [
    "service install: failed to register it: sc.exe create exited with 1073: " +
    "[SC] CreateService FAILED 1073: | The specified service already exists.",
  ]);
});

Deno.test("service plan: uninstall accepts a stopped or missing service and waits for the stop", async () => {
  const { io, runs, printed, clock } = recordingIo({
    "sc.exe stop mackerel-agent": [{ code: 0, output: "STATE : 3  STOP_PENDING" }],
    "sc.exe query mackerel-agent": [
      QUERY("3  STOP_PENDING"),
      QUERY("3  STOP_PENDING"),
      QUERY("1  STOPPED"),
    ],
    "sc.exe delete mackerel-agent": [{ code: 0, output: "[SC] DeleteService SUCCESS" }],
  });
  const done = runPlan(windowsUninstallPlan(), { label: "service uninstall", io });
  assert.equal(await clock.run(done), 0);
  assert.deepEqual(runs, [
    "sc.exe stop mackerel-agent",
    "sc.exe query mackerel-agent",
    "sc.exe query mackerel-agent",
    "sc.exe query mackerel-agent",
    "sc.exe delete mackerel-agent",
  ]);
  assert.equal(clock.now(), 2_000);
  assert.match(printed.at(-1)!, /files are left as they were/);

  // Not installed: each step says so and the plan still succeeds.
  const gone = recordingIo({
    "sc.exe stop mackerel-agent": [{ code: 1060, output: "FAILED 1060" }],
    "sc.exe query mackerel-agent": [{ code: 1060, output: "FAILED 1060" }],
    "sc.exe delete mackerel-agent": [{ code: 1060, output: "FAILED 1060" }],
  });
  assert.equal(
    await runPlan(windowsUninstallPlan(), { label: "service uninstall", io: gone.io }),
    0,
  );
  assert.deepEqual(gone.printed.filter((l) => l.startsWith("  (")), [
    "  (the service mackerel-agent is not installed)",
    "  (the service mackerel-agent is not installed)",
  ]);
});

Deno.test("service plan: a service that never stops fails the wait after its timeout", async () => {
  const pending = Array.from({ length: 60 }, () => QUERY("3  STOP_PENDING"));
  const { io, runs, clock } = recordingIo({
    "sc.exe stop mackerel-agent": [{ code: 0, output: "" }],
    "sc.exe query mackerel-agent": pending,
  });
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    const done = runPlan(windowsUninstallPlan(), { label: "service uninstall", io });
    assert.equal(await clock.run(done), 1);
  } finally {
    console.error = original;
  }
  assert.equal(runs.filter((r) => r.endsWith("query mackerel-agent")).length, 51);
  assert.equal(clock.now(), 50_000);
  assert.match(
    errors[0],
    /failed to wait until it has stopped .*: not done after 50 s; .*STOP_PENDING/,
  );
});

Deno.test("service plan: -dry-run lists every step and file without running any", () => {
  const text = describePlan({
    steps: [
      { kind: "folder", what: "make the root", path: "/var/root/x" },
      { kind: "write", what: "write it", path: "/L/a.plist", text: "<plist/>\n", mode: 0o644 },
      { kind: "run", what: "register", program: "sc.exe", args: ["create", "a b"] },
      { kind: "remove", what: "remove it", path: "/L/a.plist" },
    ],
    next: [],
  }, joinWindowsArgs);
  assert.equal(
    text,
    [
      "# make the root",
      "create folder /var/root/x",
      "# write it",
      "write /L/a.plist (mode 0644):",
      "<plist/>",
      "# register",
      'sc.exe create "a b"',
      "# remove it",
      "remove /L/a.plist",
    ].join("\n"),
  );
});
