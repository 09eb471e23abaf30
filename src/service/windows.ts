/**
 * The Windows service, as upstream's MSI installs it: named `mackerel-agent`, started at boot,
 * stopped gracefully, restarted by the service manager after a crash, with its config beside the
 * executable (`C:\Program Files\Mackerel\mackerel-agent\mackerel-agent.conf` in upstream's layout).
 *
 * Like upstream, which registers a small wrapper (`wrapper.exe`) as the service and runs
 * `mackerel-agent.exe` as its child, the service is a wrapper: shawl (github.com/mtkennerly/shawl,
 * MIT; the release bundles a pinned build beside the agent, see `scripts/shawl.ts`). It answers
 * the service manager, starts the agent, and on a stop or at system shutdown sends it a console
 * Ctrl-C, which the agent takes as SIGINT: the same graceful stop as Ctrl-C in a terminal (it
 * drains its queue; what is not posted stays in the spool). The agent's own graceful limit is 30 s
 * (`delivery/delay.ts`); shawl kills it, and the plugins it started, only after
 * {@linkcode STOP_TIMEOUT_MS}. The agent's stderr goes to a log file shawl rotates.
 *
 * When the agent exits on its own with an error (a crash, `taskkill /F`), shawl stops the service
 * with that code as a service-specific error, and the service manager's failure actions (set
 * with `sc.exe failure`, applied to such stops by `sc.exe failureflag`) start it again. Exit 78,
 * a config or credentials error, is reported as a clean stop instead: no restart would heal it,
 * as the systemd unit's `RestartPreventExitStatus=78` says on Linux.
 *
 * The flags below need shawl 1.8 or later (`--kill-process-tree`).
 *
 * @module
 */
import { win32 } from "node:path";
import { EXIT_CONFIG } from "../exit_codes.ts";
import type { ServicePlan, ServiceStep } from "./plan.ts";
import { joinWindowsArgs } from "./windows_command_line.ts";

/** The service's name, upstream's. */
export const WINDOWS_SERVICE_NAME = "mackerel-agent";

/** The wrapper's file name; it sits beside the agent's executable. */
export const WRAPPER_EXE = "shawl.exe";

/** The service's description in the Services console. */
export const WINDOWS_SERVICE_DESCRIPTION =
  "Mackerel host monitoring agent: collects this host's metrics and posts them to Mackerel.";

/**
 * How long a stop waits for the agent before the wrapper kills it: the agent's graceful limit
 * (30 s at the real pace) plus time to write its status and flush its log.
 */
export const STOP_TIMEOUT_MS = 40_000;

/** The service manager's restarts after a failure: 10 s, 10 s, then every minute. */
export const RESTART_DELAYS_MS: readonly number[] = [10_000, 10_000, 60_000];

/** After a day without a failure, the count of failures (and so the delay) starts over. */
export const FAILURE_RESET_SECONDS = 86_400;

/** The log files' size before rotation, and how many old ones are kept. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
const LOG_RETAIN = 5;

/** Where the service's files are. */
export interface WindowsServiceOptions {
  /** The agent's executable, absolute (`C:\Program Files\Mackerel\mackerel-agent\mackerel-agent.exe`). */
  readonly agentExe: string;
  /** Flags the service gives the agent, e.g. `-conf=D:\agent.conf`; none by default. */
  readonly agentArgs?: readonly string[];
}

/** The folder of the agent's executable: the wrapper, the logs and (by default) the config. */
export function installDir(agentExe: string): string {
  if (!win32.isAbsolute(agentExe)) {
    throw new RangeError(`agentExe must be an absolute Windows path, not ${agentExe}`);
  }
  return win32.dirname(agentExe);
}

/** The folder of the service's log files: the agent's lines and the wrapper's own. */
export function windowsLogDir(agentExe: string): string {
  return win32.join(installDir(agentExe), "logs");
}

/** The argv of the service's process: shawl, its settings, then the agent and its flags. */
export function windowsServiceArgv(options: WindowsServiceOptions): string[] {
  const dir = installDir(options.agentExe);
  return [
    win32.join(dir, WRAPPER_EXE),
    "run",
    "--name",
    WINDOWS_SERVICE_NAME,
    "--cwd",
    dir,
    "--stop-timeout",
    String(STOP_TIMEOUT_MS),
    // The service manager restarts it (failure actions below), not the wrapper.
    "--no-restart",
    "--pass",
    `0,${EXIT_CONFIG}`,
    "--kill-process-tree",
    "--log-dir",
    windowsLogDir(options.agentExe),
    "--log-as",
    "shawl",
    // The agent's lines as they are (already timestamped), in mackerel-agent_rCURRENT.log.
    "--log-cmd-as",
    "mackerel-agent",
    "--log-rotate",
    `bytes=${LOG_ROTATE_BYTES}`,
    "--log-retain",
    String(LOG_RETAIN),
    "--",
    options.agentExe,
    ...options.agentArgs ?? [],
  ];
}

/** The service's `binPath`: {@linkcode windowsServiceArgv} as one command line. */
export function windowsBinPath(options: WindowsServiceOptions): string {
  return joinWindowsArgs(windowsServiceArgv(options));
}

/** `sc.exe failure`'s `actions=` value: `restart/<ms>` for each delay. */
export function failureActions(delaysMs: readonly number[] = RESTART_DELAYS_MS): string {
  return delaysMs.map((ms) => `restart/${ms}`).join("/");
}

/** Win32 errors `sc.exe` exits with (its exit code is the error number). */
const ERROR_SERVICE_DOES_NOT_EXIST = 1060;
const ERROR_SERVICE_NOT_ACTIVE = 1062;

/** The service control tool every Windows has (in System32, on the PATH). */
const SC = "sc.exe";

/** `service install`: register the service, started at boot, restarted after a failure. */
export function windowsInstallPlan(options: WindowsServiceOptions): ServicePlan {
  const name = WINDOWS_SERVICE_NAME;
  const steps: ServiceStep[] = [
    {
      kind: "run",
      what: `register the service ${name} (starts at boot)`,
      program: SC,
      // sc.exe takes each option as `name=` and its value as the next word.
      args: [
        "create",
        name,
        "binPath=",
        windowsBinPath(options),
        "start=",
        "auto",
        "DisplayName=",
        name,
        // As upstream's: the RPC service is up before the agent starts.
        "depend=",
        "RPCSS",
      ],
    },
    {
      kind: "run",
      what: "describe it",
      program: SC,
      args: ["description", name, WINDOWS_SERVICE_DESCRIPTION],
    },
    {
      kind: "run",
      what: `restart it after a failure (${
        RESTART_DELAYS_MS.map((ms) => `${ms / 1000} s`).join(", ")
      })`,
      program: SC,
      args: [
        "failure",
        name,
        "reset=",
        String(FAILURE_RESET_SECONDS),
        "actions=",
        failureActions(),
      ],
    },
    {
      kind: "run",
      what: "also when it stops with an error code rather than crashing",
      program: SC,
      args: ["failureflag", name, "1"],
    },
  ];
  return {
    steps,
    next: [
      `The service ${name} starts at the next boot. Start it now: sc.exe start ${name}`,
      `Its log: ${win32.join(windowsLogDir(options.agentExe), "mackerel-agent_rCURRENT.log")}`,
    ],
  };
}

/** `service uninstall`: stop the service (gracefully), wait for it, and remove it. */
export function windowsUninstallPlan(): ServicePlan {
  const name = WINDOWS_SERVICE_NAME;
  const notInstalled = `the service ${name} is not installed`;
  return {
    steps: [
      {
        kind: "run",
        what: `stop the service ${name}`,
        program: SC,
        args: ["stop", name],
        accept: {
          [ERROR_SERVICE_NOT_ACTIVE]: "it was not running",
          [ERROR_SERVICE_DOES_NOT_EXIST]: notInstalled,
        },
      },
      {
        kind: "wait",
        what: "wait until it has stopped (the agent drains its queue first)",
        program: SC,
        args: ["query", name],
        done: (output) => serviceState(output) === "STOPPED",
        timeoutMs: STOP_TIMEOUT_MS + 10_000,
        pollMs: 1_000,
      },
      {
        kind: "run",
        what: `remove the service ${name}`,
        program: SC,
        args: ["delete", name],
        accept: { [ERROR_SERVICE_DOES_NOT_EXIST]: notInstalled },
      },
    ],
    next: [
      "The agent's files are left as they were: the executable, the config, the host id and " +
      "the spool beside it, and its logs.",
    ],
  };
}

/** A service's states as `sc.exe query` numbers them. */
const STATES: Readonly<Record<number, string>> = {
  1: "STOPPED",
  2: "START_PENDING",
  3: "STOP_PENDING",
  4: "RUNNING",
  5: "CONTINUE_PENDING",
  6: "PAUSE_PENDING",
  7: "PAUSED",
};

/**
 * The state in `sc.exe query` output (`STATE : 4  RUNNING`), read from its number since the words
 * after it may be translated; undefined when there is none.
 */
export function serviceState(output: string): string | undefined {
  const match = output.match(/^\s*STATE\s*:\s*(\d+)/m);
  return match ? STATES[Number(match[1])] ?? `state ${match[1]}` : undefined;
}
