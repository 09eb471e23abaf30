import assert from "node:assert/strict";
import { postTimings } from "../../src/delivery/delay.ts";
import { EXIT_CONFIG } from "../../src/exit_codes.ts";
import type { RunStep, WaitStep } from "../../src/service/plan.ts";
import {
  failureActions,
  serviceState,
  STOP_TIMEOUT_MS,
  windowsBinPath,
  windowsInstallPlan,
  windowsServiceArgv,
  windowsUninstallPlan,
} from "../../src/service/windows.ts";
import { splitWindowsArgs } from "../support/windows_args.ts";

const DIR = "C:\\Program Files\\Mackerel\\mackerel-agent";
const EXE = `${DIR}\\mackerel-agent.exe`;

Deno.test("windows service: binPath runs shawl from beside the agent, then the agent with its flags", () => {
  const options = { agentExe: EXE, agentArgs: ["-conf=D:\\conf dir\\agent.conf", "-verbose"] };
  const argv = splitWindowsArgs(windowsBinPath(options));
  assert.deepEqual(argv, windowsServiceArgv(options));
  assert.deepEqual(argv, [
    `${DIR}\\shawl.exe`,
    "run",
    "--name",
    "mackerel-agent",
    "--cwd",
    DIR,
    "--stop-timeout",
    "40000",
    "--no-restart",
    "--pass",
    `0,${EXIT_CONFIG}`,
    "--kill-process-tree",
    "--log-dir",
    `${DIR}\\logs`,
    "--log-as",
    "shawl",
    "--log-cmd-as",
    "mackerel-agent",
    "--log-rotate",
    "bytes=10485760",
    "--log-retain",
    "5",
    "--",
    EXE,
    "-conf=D:\\conf dir\\agent.conf",
    "-verbose",
  ]);
  // The paths with spaces are quoted in the line the service manager starts.
  assert.match(
    windowsBinPath(options),
    /^"C:\\Program Files\\Mackerel\\mackerel-agent\\shawl\.exe" run /,
  );
  assert.throws(() => windowsBinPath({ agentExe: "mackerel-agent.exe" }), RangeError);
});

Deno.test("windows service: the wrapper waits out the agent's graceful stop before it kills", () => {
  // The agent drains for at most its graceful limit at the real pace, then exits on its own.
  assert.ok(STOP_TIMEOUT_MS >= postTimings(60_000).maxTerminatingMs + 5_000);
});

Deno.test("windows service: install is four sc.exe calls: create, description, failure actions", () => {
  const plan = windowsInstallPlan({ agentExe: EXE });
  const runs = plan.steps as RunStep[];
  assert.deepEqual(runs.map((s) => [s.kind, s.program]), Array(4).fill(["run", "sc.exe"]));
  assert.deepEqual(runs[0].args, [
    "create",
    "mackerel-agent",
    "binPath=",
    windowsBinPath({ agentExe: EXE }),
    "start=",
    "auto",
    "DisplayName=",
    "mackerel-agent",
    "depend=",
    "RPCSS",
  ]);
  assert.deepEqual(runs[1].args.slice(0, 2), ["description", "mackerel-agent"]);
  assert.deepEqual(runs[2].args, [
    "failure",
    "mackerel-agent",
    "reset=",
    "86400",
    "actions=",
    "restart/10000/restart/10000/restart/60000",
  ]);
  assert.deepEqual(runs[3].args, ["failureflag", "mackerel-agent", "1"]);
  // Nothing but success is accepted while installing (1073: the service exists already).
  assert.ok(runs.every((s) => s.accept === undefined));
  assert.match(plan.next.join("\n"), /sc\.exe start mackerel-agent/);
  assert.match(plan.next.join("\n"), /logs\\mackerel-agent_rCURRENT\.log/);
  assert.equal(failureActions([1, 2]), "restart/1/restart/2");
});

Deno.test("windows service: uninstall stops, waits for the stop, then deletes", () => {
  const [stop, wait, remove] = windowsUninstallPlan().steps as [RunStep, WaitStep, RunStep];
  assert.deepEqual([stop.program, stop.args], ["sc.exe", ["stop", "mackerel-agent"]]);
  assert.deepEqual(Object.keys(stop.accept ?? {}), ["1060", "1062"]);
  assert.deepEqual([wait.program, wait.args], ["sc.exe", ["query", "mackerel-agent"]]);
  assert.ok(wait.timeoutMs > STOP_TIMEOUT_MS);
  assert.deepEqual([remove.program, remove.args], ["sc.exe", ["delete", "mackerel-agent"]]);
  assert.deepEqual(Object.keys(remove.accept ?? {}), ["1060"]);
});

/** `sc.exe query` as Windows prints it (the state's words may be translated, its number not). */
function queryOutput(state: string): string {
  return [
    "",
    "SERVICE_NAME: mackerel-agent ",
    "        TYPE               : 10  WIN32_OWN_PROCESS  ",
    `        STATE              : ${state}`,
    "                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)",
    "        WIN32_EXIT_CODE    : 0  (0x0)",
    "        SERVICE_EXIT_CODE  : 0  (0x0)",
    "        CHECKPOINT         : 0x0",
    "        WAIT_HINT          : 0x0",
    "",
  ].join("\r\n");
}

Deno.test("windows service: the state is read from sc.exe query's number", () => {
  assert.equal(serviceState(queryOutput("4  RUNNING")), "RUNNING");
  assert.equal(serviceState(queryOutput("3  STOP_PENDING")), "STOP_PENDING");
  assert.equal(serviceState(queryOutput("1  ARRETE")), "STOPPED");
  assert.equal(serviceState(queryOutput("9  ODD")), "state 9");
  assert.equal(serviceState("[SC] EnumQueryServicesStatus:OpenService FAILED 1060:"), undefined);
  const wait = windowsUninstallPlan().steps[1] as WaitStep;
  assert.equal(wait.done(queryOutput("1  STOPPED")), true);
  assert.equal(wait.done(queryOutput("3  STOP_PENDING")), false);
});
