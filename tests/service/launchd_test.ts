import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { postTimings } from "../../src/delivery/delay.ts";
import {
  DEFAULT_PROGRAM,
  EXIT_TIMEOUT_SECONDS,
  launchdInstallPlan,
  launchdPlist,
  launchdUninstallPlan,
} from "../../src/service/launchd.ts";
import type { RunStep, WriteStep } from "../../src/service/plan.ts";
import { hasCommand } from "../support/commands.ts";
import { parsePlist } from "../support/plist.ts";

const PACKAGED = new URL("../../packaging/macos/mackerel-agent.plist", import.meta.url);
const HOME = "/var/root/Library/mackerel-agent";
const LOG = "/Library/Logs/mackerel-agent.log";

Deno.test("launchd: the property list is a valid plist with the daemon's keys", () => {
  assert.deepEqual(parsePlist(launchdPlist({ program: "/opt/mackerel/bin/mackerel-agent" })), {
    Label: "mackerel-agent",
    ProgramArguments: [
      "/opt/mackerel/bin/mackerel-agent",
      `-conf=${HOME}/mackerel-agent.conf`,
      `-root=${HOME}`,
      `-pidfile=${HOME}/pid`,
    ],
    RunAtLoad: true,
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 10,
    ExitTimeOut: 40,
    WorkingDirectory: HOME,
    StandardOutPath: LOG,
    StandardErrorPath: LOG,
  });
});

Deno.test("launchd: flags given to install replace the default paths and run in the root given", () => {
  const plist = parsePlist(launchdPlist({
    program: "/usr/local/bin/mackerel-agent",
    agentArgs: ["-conf=/etc/mackerel & co/<a>.conf", "-root=/var/lib/mackerel-agent", "-v"],
  })) as Record<string, unknown>;
  assert.deepEqual(plist.ProgramArguments, [
    "/usr/local/bin/mackerel-agent",
    "-conf=/etc/mackerel & co/<a>.conf",
    "-root=/var/lib/mackerel-agent",
    "-v",
    `-pidfile=${HOME}/pid`,
  ]);
  assert.equal(plist.WorkingDirectory, "/var/lib/mackerel-agent");
  assert.throws(() => launchdPlist({ program: "mackerel-agent" }), RangeError);
});

Deno.test("launchd: the packaged plist is the one install writes for /usr/local/bin", async () => {
  assert.equal(await Deno.readTextFile(PACKAGED), launchdPlist({ program: DEFAULT_PROGRAM }));
});

Deno.test({
  name: "launchd: Python's plistlib reads the packaged plist as our reader does" +
    (hasCommand("python3") ? "" : " (skipped: python3 is not installed)"),
  ignore: !hasCommand("python3"),
}, async () => {
  const script = "import json, plistlib, sys\n" +
    "with open(sys.argv[1], 'rb') as f: print(json.dumps(plistlib.load(f, fmt=plistlib.FMT_XML)))";
  const result = await new Deno.Command("python3", {
    args: ["-c", script, fileURLToPath(PACKAGED)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode(result.stdout)),
    parsePlist(await Deno.readTextFile(PACKAGED)),
  );
});

Deno.test("launchd: the reader refuses what the plist DTD does not allow", () => {
  const good = launchdPlist({ program: DEFAULT_PROGRAM });
  const broken: [string, RegExp][] = [
    [good.replace(/<!DOCTYPE[^>]*>/, ""), /DOCTYPE/],
    [good.replace("<key>RunAtLoad</key>\n  <true/>", "<key>RunAtLoad</key>"), /<key> is not a/],
    [good.replace("<key>Label</key>", "<string>Label</string>"), /expected <key>/],
    [good.replace("<key>ThrottleInterval</key>", "<key>Label</key>"), /Label twice/],
    [good.replace("<integer>10</integer>", "<integer>ten</integer>"), /not an integer/],
    [good.replace("<true/>", "<yes/>"), /not a plist value/],
    [good.replace("<dict>", '<dict id="x">'), /cannot have attributes/],
    [good.replace("</plist>", "</plist>\n<plist/>"), /after <\/plist>/],
    [good.replace("/usr/local/bin", "/usr/local & bin"), /bare &/],
  ];
  for (const [xml, message] of broken) {
    assert.notEqual(xml, good);
    assert.throws(() => parsePlist(xml), message);
  }
});

Deno.test("launchd: a stop waits out the agent's graceful stop before SIGKILL", () => {
  assert.ok(EXIT_TIMEOUT_SECONDS * 1000 >= postTimings(60_000).maxTerminatingMs + 5_000);
});

Deno.test("launchd: install writes root's folder and the plist; uninstall boots it out", () => {
  const install = launchdInstallPlan({ program: DEFAULT_PROGRAM });
  assert.deepEqual(install.steps.map((s) => s.kind), ["folder", "write"]);
  assert.deepEqual(install.steps[0], {
    kind: "folder",
    what: `create the agent's root ${HOME}`,
    path: HOME,
  });
  const write = install.steps[1] as WriteStep;
  assert.equal(write.path, "/Library/LaunchDaemons/mackerel-agent.plist");
  assert.equal(write.mode, 0o644);
  assert.equal(write.text, launchdPlist({ program: DEFAULT_PROGRAM }));
  assert.match(
    install.next.join("\n"),
    /sudo launchctl bootstrap system \/Library\/LaunchDaemons\/mackerel-agent\.plist/,
  );

  const [bootout, remove] = launchdUninstallPlan().steps;
  assert.deepEqual([(bootout as RunStep).program, (bootout as RunStep).args], [
    "launchctl",
    ["bootout", "system/mackerel-agent"],
  ]);
  assert.deepEqual(Object.keys((bootout as RunStep).accept ?? {}), ["3", "113"]);
  assert.deepEqual(remove, {
    kind: "remove",
    what: "remove /Library/LaunchDaemons/mackerel-agent.plist",
    path: "/Library/LaunchDaemons/mackerel-agent.plist",
  });
});
