/**
 * Real Nagios plugins from Debian's `monitoring-plugins-basic` as check plugins. Skipped, with
 * the reason in the test name, where the package is not installed.
 */
import { NEVER_ABORTS } from "../../src/async/abort.ts";
import assert from "node:assert/strict";
import type { CheckPluginConfig } from "../../src/config/schema.ts";
import type { CheckReport } from "../../src/mackerel/api_types.ts";
import { runChecks } from "../../src/plugins/check.ts";
import { createCheckSender } from "../../src/delivery/check_sender.ts";
import { openSpool } from "../../src/delivery/spool.ts";
import { clientFor } from "../support/api_client.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";
import { waitFor } from "../support/wait.ts";

const PLUGINS = "/usr/lib/nagios/plugins";
const START = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;

const installed = ["check_dummy", "check_load"].every((p) => {
  try {
    return Deno.statSync(`${PLUGINS}/${p}`).isFile;
  } catch {
    return false;
  }
});

function nagiosTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: installed ? name : `${name} (skipped: monitoring-plugins-basic not installed)`,
    ignore: !installed,
    fn,
  });
}

function check(name: string, argv: string[]): CheckPluginConfig {
  return {
    name,
    command: { kind: "argv", argv: [`${PLUGINS}/${argv[0]}`, ...argv.slice(1)] },
    env: [],
    timeoutSeconds: 10,
    checkIntervalMinutes: 5,
    preventAlertAutoClose: false,
  };
}

nagiosTest("nagios: check_dummy's exit codes become statuses, its stdout the message", async () => {
  const clock = createVirtualClock(START);
  const reports: CheckReport[] = [];
  const controller = new AbortController();
  const checks = [0, 1, 2, 3, 4].map((code) =>
    check(`dummy${code}`, ["check_dummy", String(code), `text ${code}`])
  );
  const done = runChecks({
    checks,
    hostIdFor: () => "host1",
    clock,
    minuteMs: MINUTE,
    sink: { putCheckReport: (r) => Promise.resolve(void reports.push(r)), wakeChecks: () => {} },
    signal: controller.signal,
  });
  await waitFor(() => clock.pending === checks.length, "every check to run");
  controller.abort();
  await done;
  assert.deepEqual(
    reports.map((r) => [r.name, r.status, r.message]).sort(),
    [
      ["dummy0", "OK", "OK: text 0\n"],
      ["dummy1", "WARNING", "WARNING: text 1\n"],
      ["dummy2", "CRITICAL", "CRITICAL: text 2\n"],
      ["dummy3", "UNKNOWN", "UNKNOWN: text 3\n"],
      // check_dummy refuses codes above 3 and says so, exiting UNKNOWN.
      ["dummy4", "UNKNOWN", "UNKNOWN: Status 4 is not a supported error state\n"],
    ],
  );
});

nagiosTest("nagios: check_dummy and check_load reports reach the API", async () => {
  const fake = await startFakeMackerel();
  const client = clientFor(fake);
  const clock = createVirtualClock(START);
  const controller = new AbortController();
  const checks = [
    check("boom", ["check_dummy", "2", "boom"]),
    check("calm", ["check_dummy", "0"]),
    check("load", ["check_load", "-w", "1000,1000,1000", "-c", "2000,2000,2000"]),
    check("load_misconfigured", ["check_load", "-w", "2,2,2", "-c", "1,1,1"]),
  ];
  const { spool } = await openSpool({ maxBytes: 1 << 20, maxAgeMs: 60 * MINUTE });
  const sender = createCheckSender({
    spool,
    send: (reports, signal) => client.reportCheckMonitors(reports, signal),
    clock,
    minuteMs: MINUTE,
    checkCount: checks.length,
  });
  const stopSender = new AbortController();
  const sending = sender.run(stopSender.signal, NEVER_ABORTS);
  try {
    const done = runChecks({
      checks,
      hostIdFor: () => "host1",
      clock,
      minuteMs: MINUTE,
      sink: { putCheckReport: sender.put, wakeChecks: sender.wake },
      signal: controller.signal,
    });
    // The checkers and the sender all sleep: the failures went out at once, the OKs wait.
    const idle = () => waitFor(() => clock.pending === checks.length + 1, "everything to sleep");
    await idle();
    await clock.advance(MINUTE);
    await idle();
    controller.abort();
    await done;
    stopSender.abort();
    await sending;

    const received = (fake.checkReports() as {
      source: unknown;
      name: string;
      status: string;
      message: string;
      occurredAt: number;
    }[]).toSorted((a, b) => a.name.localeCompare(b.name));
    const source = { type: "host", hostId: "host1" };
    assert.deepEqual(received.map((r) => [r.source, r.name, r.status, r.occurredAt]), [
      [source, "boom", "CRITICAL", START / 1000],
      [source, "calm", "OK", START / 1000],
      [source, "load", "OK", START / 1000],
      [source, "load_misconfigured", "UNKNOWN", START / 1000],
    ]);
    assert.equal(received[0].message, "CRITICAL: boom\n");
    assert.equal(received[1].message, "OK\n");
    assert.match(
      received[2].message,
      /^LOAD OK - total load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d\|load1=\d+\.\d+;1000\.000;2000\.000;0; /,
    );
    assert.match(received[3].message, /^Parameter inconsistency: /);
    assert.deepEqual(fake.violations, []);
  } finally {
    controller.abort();
    stopSender.abort();
    await sending;
    client.close();
    await fake.close();
  }
});
