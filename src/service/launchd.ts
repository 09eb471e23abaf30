/**
 * The macOS service: a launchd daemon, started at boot and when loaded, restarted when it dies
 * with an error, stopped with SIGTERM (the agent's graceful stop).
 *
 * It runs as root in launchd's system domain, so a host is watched from boot, as the systemd
 * unit does on Linux. Its paths are upstream's defaults for the user it runs as
 * (`~/Library/mackerel-agent/`, here root's home `/var/root`), written out as flags so that the
 * plist says where the config is whatever environment launchd gives it. Upstream's Homebrew
 * formula runs the agent with a property list too (`brew services`, per user, `KeepAlive`).
 *
 * @module
 */
import { platformPaths } from "../config/paths.ts";
import type { ServicePlan } from "./plan.ts";

/** The job's label, also the name launchctl knows it by (`system/mackerel-agent`). */
export const LAUNCHD_LABEL = "mackerel-agent";

/** Where launchd reads system daemons from at boot. */
export const LAUNCHD_PLIST_PATH = "/Library/LaunchDaemons/mackerel-agent.plist";

/** The agent's log: its stderr (and stdout), where Console.app lists system logs. */
export const LAUNCHD_LOG_PATH = "/Library/Logs/mackerel-agent.log";

/** The home of root, whom the daemon runs as; upstream's default paths hang off it. */
export const ROOT_HOME = "/var/root";

/**
 * Seconds between SIGTERM and SIGKILL when the job is stopped: the agent's graceful limit (30 s)
 * plus time to write its status and flush its log. launchd's default is 20.
 */
export const EXIT_TIMEOUT_SECONDS = 40;

/** The least time between two starts after the job died, launchd's default made explicit. */
export const THROTTLE_SECONDS = 10;

/** The executable where the packaged plist expects it. */
export const DEFAULT_PROGRAM = "/usr/local/bin/mackerel-agent";

/** What the property list runs. */
export interface LaunchdOptions {
  /** The agent's executable, absolute. */
  readonly program: string;
  /** Flags given to the agent; `-conf`, `-root` and `-pidfile` default to root's upstream paths. */
  readonly agentArgs?: readonly string[];
}

/** The flags the daemon runs with: those given, then each default path not given. */
export function launchdAgentArgs(agentArgs: readonly string[] = []): string[] {
  const paths = platformPaths("darwin", ROOT_HOME);
  const given = (name: string) =>
    agentArgs.some((arg) => arg === `-${name}` || arg.startsWith(`-${name}=`));
  const defaults = [
    ["conf", paths.conffile],
    ["root", paths.root],
    ["pidfile", paths.pidfile],
  ].filter(([name]) => !given(name)).map(([name, value]) => `-${name}=${value}`);
  return [...agentArgs, ...defaults];
}

/** The folder the daemon works in: its root (`-root`), where its host id and spool are. */
export function launchdRoot(agentArgs: readonly string[]): string {
  const args = launchdAgentArgs(agentArgs);
  const root = args.findLast((arg) => arg.startsWith("-root="));
  return root ? root.slice("-root=".length) : platformPaths("darwin", ROOT_HOME).root;
}

/** The launchd property list (XML) of the daemon. */
export function launchdPlist(options: LaunchdOptions): string {
  if (!options.program.startsWith("/")) {
    throw new RangeError(`program must be an absolute path, not ${options.program}`);
  }
  const args = launchdAgentArgs(options.agentArgs);
  const string = (value: string) => `<string>${escapeXml(value)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" ' +
    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    "<dict>",
    "  <key>Label</key>",
    `  ${string(LAUNCHD_LABEL)}`,
    "  <key>ProgramArguments</key>",
    "  <array>",
    ...[options.program, ...args].map((arg) => `    ${string(arg)}`),
    "  </array>",
    "  <key>RunAtLoad</key>",
    "  <true/>",
    // Restarted when it exits with an error or is killed; a clean stop (exit 0) stays stopped.
    "  <key>KeepAlive</key>",
    "  <dict>",
    "    <key>SuccessfulExit</key>",
    "    <false/>",
    "  </dict>",
    "  <key>ThrottleInterval</key>",
    `  <integer>${THROTTLE_SECONDS}</integer>`,
    "  <key>ExitTimeOut</key>",
    `  <integer>${EXIT_TIMEOUT_SECONDS}</integer>`,
    "  <key>WorkingDirectory</key>",
    `  ${string(launchdRoot(options.agentArgs ?? []))}`,
    "  <key>StandardOutPath</key>",
    `  ${string(LAUNCHD_LOG_PATH)}`,
    "  <key>StandardErrorPath</key>",
    `  ${string(LAUNCHD_LOG_PATH)}`,
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}

/** `service install`: the daemon's root folder and its property list, loaded at every boot. */
export function launchdInstallPlan(options: LaunchdOptions): ServicePlan {
  const root = launchdRoot(options.agentArgs ?? []);
  return {
    steps: [
      { kind: "folder", what: `create the agent's root ${root}`, path: root },
      {
        kind: "write",
        what: `write ${LAUNCHD_PLIST_PATH} (launchd loads it at every boot)`,
        path: LAUNCHD_PLIST_PATH,
        text: launchdPlist(options),
        // launchd refuses a property list that others may write.
        mode: 0o644,
      },
    ],
    next: [
      `Start it now: sudo launchctl bootstrap system ${LAUNCHD_PLIST_PATH}`,
      `Stop it: sudo launchctl bootout system/${LAUNCHD_LABEL}`,
      `Its log: ${LAUNCHD_LOG_PATH}`,
    ],
  };
}

/** launchctl's exit codes for a job that is not loaded (older and newer macOS). */
const NOT_LOADED: Readonly<Record<number, string>> = {
  3: "it was not loaded",
  113: "it was not loaded",
};

/** `service uninstall`: stop and unload the daemon (SIGTERM: a graceful stop), remove its plist. */
export function launchdUninstallPlan(): ServicePlan {
  return {
    steps: [
      {
        kind: "run",
        what: `stop and unload ${LAUNCHD_LABEL} (the agent drains its queue first)`,
        program: "launchctl",
        args: ["bootout", `system/${LAUNCHD_LABEL}`],
        accept: NOT_LOADED,
      },
      { kind: "remove", what: `remove ${LAUNCHD_PLIST_PATH}`, path: LAUNCHD_PLIST_PATH },
    ],
    next: [
      "The agent's files are left as they were: the executable, the config, the host id, the " +
      `spool and ${LAUNCHD_LOG_PATH}.`,
    ],
  };
}

/** Text made safe inside an XML element. */
function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
