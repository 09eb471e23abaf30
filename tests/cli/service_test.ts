import assert from "node:assert/strict";
import { servicePlan } from "../../src/cli/service.ts";
import type { RunStep, WriteStep } from "../../src/service/plan.ts";
import { windowsBinPath } from "../../src/service/windows.ts";
import { runAgent } from "../support/agent_process.ts";
import { parsePlist } from "../support/plist.ts";

const EXE = "C:\\Program Files\\Mackerel\\mackerel-agent\\mackerel-agent.exe";

Deno.test("service: install needs the compiled agent; uninstall works from anywhere", () => {
  const request = {
    os: "windows" as const,
    execPath: EXE,
    standalone: true,
    agentArgs: ["-interval=5", "-apibase=http://127.0.0.1:8080"],
  };
  const install = servicePlan({ ...request, action: "install" });
  assert.ok(typeof install !== "string");
  assert.equal(
    (install.steps[0] as RunStep).args[3],
    windowsBinPath({ agentExe: EXE, agentArgs: request.agentArgs }),
  );
  assert.match(
    servicePlan({ ...request, action: "install", standalone: false }) as string,
    /registers the compiled mackerel-agent executable/,
  );
  assert.ok(
    typeof servicePlan({ ...request, action: "uninstall", standalone: false }) !== "string",
  );

  const mac = servicePlan({
    ...request,
    os: "darwin",
    execPath: "/usr/local/bin/mackerel-agent",
    action: "install",
  });
  assert.ok(typeof mac !== "string");
  const plist = parsePlist((mac.steps[1] as WriteStep).text) as Record<string, unknown>;
  assert.deepEqual((plist.ProgramArguments as string[]).slice(0, 3), [
    "/usr/local/bin/mackerel-agent",
    "-interval=5",
    "-apibase=http://127.0.0.1:8080",
  ]);
  for (const os of ["linux", "freebsd"] as const) {
    assert.match(
      servicePlan({ ...request, os, action: "install" }) as string,
      /for Windows and macOS; on Linux the \.deb and \.rpm packages/,
    );
  }
});

Deno.test({
  name: "service: the command's usage mistakes exit 2, and on Linux it points at the packages" +
    (Deno.build.os === "linux" ? "" : " (skipped: the Linux answer)"),
  ignore: Deno.build.os !== "linux",
}, async () => {
  const none = await runAgent(["service"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^mackerel-agent service: an action is needed: install or uninstall\n/);
  assert.match(
    none.stderr,
    /Usage: mackerel-agent service install \[options\] \| service uninstall/,
  );

  const bogus = await runAgent(["service", "start"]);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /unknown action "start": install or uninstall/);

  // Flags go after the action; -apikey is not passed on (a service's command line is public).
  for (const args of [["service", "-conf=x", "install"], ["service", "install", "-apikey=k"]]) {
    const early = await runAgent(args);
    assert.equal(early.code, 2, args.join(" "));
    assert.match(early.stderr, /flag provided but not defined: -(conf|apikey)/);
  }

  const help = await runAgent(["service", "install", "-h"]);
  assert.equal(help.code, 0);
  assert.match(help.stderr, /^Usage: mackerel-agent service install \[options\]\n/);
  assert.match(help.stderr, /-dry-run\n/);
  assert.match(help.stderr, /-conf FILE\n\s+config file\n/);

  const linux = await runAgent(["service", "install", "-dry-run"]);
  assert.equal(linux.code, 1);
  assert.equal(
    linux.stderr,
    "service install: this command is for Windows and macOS; on Linux the .deb and .rpm " +
      "packages and scripts/install.sh install the systemd unit (see packaging/README.md)\n",
  );
});
