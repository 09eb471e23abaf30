import assert from "node:assert/strict";
import type { CheckPluginConfig } from "../../src/config/schema.ts";
import type { CheckReport } from "../../src/mackerel/api_types.ts";
import { decideReport, runChecks } from "../../src/plugins/check.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";
import { waitFor } from "../support/wait.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands");

const RUNTIME = new URL("../fixtures/plugins/runtime/", import.meta.url).pathname;
const START = Date.UTC(2024, 0, 1);
const START_S = START / 1000;
const MINUTE = 60_000;

function check(name: string, line: string, extra: Partial<CheckPluginConfig> = {}) {
  return {
    name,
    command: { kind: "shell", line },
    env: [],
    timeoutSeconds: 10,
    checkIntervalMinutes: 1,
    preventAlertAutoClose: false,
    ...extra,
  } as CheckPluginConfig;
}

/** Starts the checkers on a virtual clock with a sink that records what it is given. */
function start(
  checks: CheckPluginConfig[],
  hostIdFor: (ci?: string) => string | undefined = (ci) => ci ?? "host1",
) {
  const clock = createVirtualClock(START);
  const reports: CheckReport[] = [];
  const wakes: number[] = [];
  const controller = new AbortController();
  const done = runChecks({
    checks,
    hostIdFor,
    clock,
    minuteMs: MINUTE,
    sink: {
      putCheckReport: (r) => Promise.resolve(void reports.push(r)),
      wakeChecks: () => wakes.push(clock.now() - START),
    },
    signal: controller.signal,
  });
  /** Waits until every checker sleeps again (each checker has one timer while idle). */
  const idle = () => waitFor(() => clock.pending === checks.length, "the checkers to sleep");
  const stop = async () => {
    controller.abort();
    await done;
  };
  return { clock, reports, wakes, idle, stop };
}

/** A temp file listing a check's results, one `<code> <text>` line per run. */
async function sequence(lines: string[]): Promise<{ file: string; runs: () => number }> {
  const file = await Deno.makeTempFile({ prefix: "check_seq" });
  await Deno.writeTextFile(file, lines.map((l) => l + "\n").join(""));
  return {
    file,
    runs: () => Number(Deno.readTextFileSync(file + ".count")),
  };
}

async function removeSequence(file: string) {
  await Deno.remove(file);
  await Deno.remove(file + ".count").catch(() => {});
}

const ok = { status: "OK", message: "fine\n" } as const;
const okOther = { status: "OK", message: "fine again\n" } as const;
const crit = { status: "CRITICAL", message: "down\n" } as const;

Deno.test("check: the report decision of upstream's checker loop", () => {
  const table: [Parameters<typeof decideReport>, ReturnType<typeof decideReport>][] = [
    [[undefined, ok, false], { report: true, wake: false, remember: ok }],
    [[undefined, crit, false], { report: true, wake: true, remember: crit }],
    [[ok, ok, false], { report: false, wake: false, remember: ok }],
    [[ok, okOther, false], { report: true, wake: false, remember: okOther }],
    [[ok, crit, false], { report: true, wake: true, remember: crit }],
    [[crit, crit, false], { report: true, wake: false, remember: crit }],
    [[crit, ok, false], { report: true, wake: true, remember: ok }],
    [[undefined, ok, true], { report: false, wake: false, remember: ok }],
    [[crit, ok, true], { report: false, wake: false, remember: ok }],
    [[ok, crit, true], { report: true, wake: true, remember: crit }],
    [[ok, ok, true], { report: false, wake: false, remember: ok }],
  ];
  for (const [args, expected] of table) assert.deepEqual(decideReport(...args), expected);
});

unix.test("check: exit codes map to statuses, the message is the entire stdout", async () => {
  await withLogs(async (lines) => {
    const extra = { notificationIntervalMinutes: 30, maxCheckAttempts: 2 };
    const run = start([
      check("ok", "printf 'OK\\n'", extra),
      check("warning", "printf 'warn\\n'; exit 1"),
      check("critical", "printf '  crit  '; exit 2"),
      check("unknown", "printf 'unk\\n'; exit 3"),
      check("other", "printf 'weird\\n'; exit 42"),
      check("timeout", "sleep 30", { timeoutSeconds: 1 }),
      check("stderr", "echo oops >&2; printf ok"),
    ]);
    await run.idle();
    await run.stop();
    const at = START_S;
    const sorted = run.reports.toSorted((a, b) => a.name.localeCompare(b.name));
    const base = { hostId: "host1", occurredAt: at };
    assert.deepEqual(
      sorted,
      [
        { ...base, name: "critical", status: "CRITICAL", message: "  crit  " },
        {
          ...base,
          name: "ok",
          status: "OK",
          message: "OK\n",
          notificationInterval: 30,
          maxCheckAttempts: 2,
        },
        { ...base, name: "other", status: "UNKNOWN", message: "weird\n" },
        { ...base, name: "stderr", status: "OK", message: "ok" },
        { ...base, name: "timeout", status: "UNKNOWN", message: "command timed out" },
        { ...base, name: "unknown", status: "UNKNOWN", message: "unk\n" },
        { ...base, name: "warning", status: "WARNING", message: "warn\n" },
      ].map((r) => ({ notificationInterval: undefined, maxCheckAttempts: undefined, ...r })),
    );
    // First runs wake the sender unless they are OK.
    assert.deepEqual(run.wakes, [0, 0, 0, 0, 0]);
    assert.deepEqual(lines.filter((l) => l.includes("<checks>")), [
      'WARNING <checks> Checker "stderr" output stderr: oops\\n',
    ]);
  }, { level: "info" });
});

unix.test("check: runs every interval; unchanged OK is skipped, non-OK re-sent", async () => {
  const seq = await sequence([
    "0 fine\\n",
    "0 fine\\n",
    "2 down\\n",
    "2 down\\n",
    "0 fine\\n",
    "0 fine\\n",
    "0 fine again\\n",
  ]);
  try {
    const run = start([
      check("seq", RUNTIME + "sequence.sh", {
        env: [`SEQ_FILE=${seq.file}`],
        checkIntervalMinutes: 2,
      }),
    ]);
    await run.idle();
    for (let i = 1; i < 7; i++) {
      await run.clock.advance(2 * MINUTE);
      await run.idle();
    }
    await run.stop();
    assert.equal(seq.runs(), 7);
    assert.deepEqual(run.reports.map((r) => [r.occurredAt - START_S, r.status, r.message]), [
      [0, "OK", "fine\n"],
      [240, "CRITICAL", "down\n"],
      [360, "CRITICAL", "down\n"],
      [480, "OK", "fine\n"],
      [720, "OK", "fine again\n"],
    ]);
    assert.deepEqual(run.wakes, [240_000, 480_000]);
  } finally {
    await removeSequence(seq.file);
  }
});

unix.test("check: prevent_alert_auto_close keeps OK results to itself", async () => {
  const seq = await sequence(["2 down\\n", "0 up\\n", "0 up\\n", "2 down\\n"]);
  try {
    const run = start([
      check("sticky", RUNTIME + "sequence.sh", {
        env: [`SEQ_FILE=${seq.file}`],
        preventAlertAutoClose: true,
      }),
    ]);
    await run.idle();
    for (let i = 1; i < 4; i++) {
      await run.clock.advance(MINUTE);
      await run.idle();
    }
    await run.stop();
    assert.deepEqual(run.reports.map((r) => [r.occurredAt - START_S, r.status]), [
      [0, "CRITICAL"],
      [180, "CRITICAL"],
    ]);
    assert.deepEqual(run.wakes, [0, 180_000]);
  } finally {
    await removeSequence(seq.file);
  }
});

unix.test("check: the action runs after every run with the result in its environment", async () => {
  await withLogs(async (lines) => {
    const seq = await sequence(["2 boom\\n", "0 calm\\n", "0 calm\\n"]);
    const out = await Deno.makeTempFile({ prefix: "check_action" });
    try {
      const run = start([
        check("act", RUNTIME + "sequence.sh", {
          env: [`SEQ_FILE=${seq.file}`],
          action: {
            command: { kind: "argv", argv: [RUNTIME + "action_env.sh"] },
            env: [`ACTION_OUT=${out}`],
            timeoutSeconds: 10,
          },
        }),
      ]);
      const records = () => Deno.readTextFileSync(out).split("|\n").filter((r) => r !== "");
      for (let i = 0; i < 3; i++) {
        if (i > 0) await run.clock.advance(MINUTE);
        await run.idle();
        await waitFor(() => records().length === i + 1, `action ${i + 1}`);
      }
      await run.stop();
      assert.deepEqual(records(), [
        "status=CRITICAL previous= message=boom\n",
        "status=OK previous=CRITICAL message=calm\n",
        "status=OK previous=OK message=calm\n",
      ]);
      const stderr = 'WARNING <checks> Checker "act" action output stderr: action says hi\\n';
      assert.deepEqual(lines.filter((l) => l.includes("<checks>")), [stderr, stderr, stderr]);
    } finally {
      await removeSequence(seq.file);
      await Deno.remove(out);
    }
  }, { level: "info" });
});

unix.test("check: a late run skips the slots it missed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "check_late" });
  const started = `${dir}/started`;
  try {
    const run = start([
      check("late", RUNTIME + "wait_for_file.sh", {
        env: [`STARTED=${started}`, `RELEASE=${dir}/release`],
        checkIntervalMinutes: 2,
      }),
    ]);
    await waitFor(() => exists(started), "the first run to start");
    // The run takes five minutes (in virtual time): slots at 2 and 4 minutes are missed.
    await run.clock.advance(5 * MINUTE);
    await Deno.writeTextFile(`${dir}/release`, "");
    await run.idle();
    await Deno.remove(started);
    await run.clock.advance(MINUTE - 1);
    assert.equal(run.clock.pending, 1, "no run before the 6-minute slot");
    await run.clock.advance(1);
    await waitFor(() => exists(started), "the second run, at 6 minutes");
    await run.idle();
    await run.stop();
    assert.deepEqual(run.reports.map((r) => [r.occurredAt - START_S, r.message]), [
      [0, "released\n"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

unix.test("check: reports for an unresolved custom identifier are dropped and counted", async () => {
  await withLogs(async (lines) => {
    const run = start(
      [check("remote", "exit 2", { customIdentifier: "ghost.example" }), check("local", "exit 1")],
      (ci) => ci === undefined ? "host1" : undefined,
    );
    await run.idle();
    await run.stop();
    assert.deepEqual(run.reports.map((r) => [r.hostId, r.name, r.status]), [
      ["host1", "local", "WARNING"],
    ]);
    assert.deepEqual(lines.filter((l) => l.includes("<checks>")), [
      'WARNING <checks> Dropped 1 report of check "remote": ' +
      "custom_identifier ghost.example has no host",
    ]);
  }, { level: "info" });
});

unix.test("check: a run cut short by stop reports nothing", async () => {
  await withTempDir("check_stop", async (dir) => {
    const run = start([
      check("hang", RUNTIME + "wait_for_file.sh", {
        env: [`STARTED=${dir}/started`, `RELEASE=${dir}/never`],
      }),
    ]);
    await waitFor(() => exists(`${dir}/started`), "the run to start");
    await run.stop();
    assert.deepEqual(run.reports, []);
    assert.deepEqual(run.wakes, []);
  });
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
