/**
 * `service install` and `service uninstall`: register the agent with the operating system's
 * service manager, or remove it. Windows: a service started at boot (`src/service/windows.ts`);
 * macOS: a launchd daemon (`src/service/launchd.ts`). On Linux the packages and
 * `scripts/install.sh` install the systemd unit instead.
 *
 * Upstream's agent has no such command: its Windows MSI registers the service (its wrapper has
 * `install` and `remove`), and Homebrew writes its property list.
 *
 * @module
 */
import { win32 } from "node:path";
import { launchdInstallPlan, launchdUninstallPlan, ROOT_HOME } from "../service/launchd.ts";
import type { ServicePlan } from "../service/plan.ts";
import { describePlan, runPlan } from "../service/run_plan.ts";
import { windowsInstallPlan, windowsUninstallPlan, WRAPPER_EXE } from "../service/windows.ts";
import { joinWindowsArgs } from "../service/windows_command_line.ts";
import {
  type FlagSpec,
  formatFlagHelp,
  type ParsedFlags,
  parseFlags,
  UsageError,
} from "./flags.ts";
import { COMMON_FLAGS } from "./options.ts";
import { supervisedArgs } from "./supervise.ts";

/**
 * Flags of the agent that the service passes on. Not `-apikey` (a service's command line is
 * readable by every user: the key belongs in the config file), nor the Linux container roots.
 */
const PASSED_ON = new Set([
  "conf",
  "apibase",
  "root",
  "pidfile",
  "verbose",
  "diagnostic",
  "role",
  "interval",
]);

const DRY_RUN: FlagSpec = {
  name: "dry-run",
  kind: "bool",
  help: "print what would be run and written, and change nothing",
};

/** Flags of `service install`: the agent's flags the service runs it with, and `-dry-run`. */
export const SERVICE_INSTALL_FLAGS: readonly FlagSpec[] = [
  // Paths default to the service's own (beside the executable on Windows, root's on macOS),
  // not to those of whoever runs the install.
  ...COMMON_FLAGS.filter((flag) => PASSED_ON.has(flag.name)).map((flag) =>
    typeof flag.default === "string" ? { ...flag, default: undefined } : flag
  ),
  DRY_RUN,
];

/** Flags of `service uninstall`. */
export const SERVICE_UNINSTALL_FLAGS: readonly FlagSpec[] = [DRY_RUN];

/** The actions of `service`. */
export type ServiceAction = "install" | "uninstall";

/** What a plan is built from. */
export interface PlanRequest {
  readonly action: ServiceAction;
  readonly os: typeof Deno.build.os;
  /** The running executable (`Deno.execPath()`). */
  readonly execPath: string;
  /** Whether it is the compiled agent (`Deno.build.standalone`) rather than `deno`. */
  readonly standalone: boolean;
  /** The flags the service gives the agent, as `-name=value`. */
  readonly agentArgs: readonly string[];
}

/** The plan for a request, or the one line saying why there is none here. */
export function servicePlan(request: PlanRequest): ServicePlan | string {
  const { action, os } = request;
  if (os !== "windows" && os !== "darwin") {
    return "this command is for Windows and macOS; on Linux the .deb and .rpm packages and " +
      "scripts/install.sh install the systemd unit (see packaging/README.md)";
  }
  if (action === "uninstall") {
    return os === "windows" ? windowsUninstallPlan() : launchdUninstallPlan();
  }
  if (!request.standalone) {
    return "it registers the compiled mackerel-agent executable it is run from; under deno run " +
      `it would register ${request.execPath}`;
  }
  return os === "windows"
    ? windowsInstallPlan({ agentExe: request.execPath, agentArgs: request.agentArgs })
    : launchdInstallPlan({ program: request.execPath, agentArgs: request.agentArgs });
}

/** Runs `service <action> [options]` and returns the exit code. */
export async function runService(parsed: ParsedFlags): Promise<number> {
  const [action, ...rest] = parsed.rest;
  if (action !== "install" && action !== "uninstall") {
    throw new UsageError(
      action === undefined
        ? "an action is needed: install or uninstall"
        : `unknown action "${action}": install or uninstall`,
    );
  }
  const label = `service ${action}`;
  const specs = action === "install" ? SERVICE_INSTALL_FLAGS : SERVICE_UNINSTALL_FLAGS;
  const flags = parseFlags(rest, specs);
  if (flags.rest.length > 0) throw new UsageError(`unexpected argument "${flags.rest[0]}"`);
  if (flags.help) {
    console.error(`Usage: mackerel-agent ${label} [options]\n\nOptions:\n${formatFlagHelp(specs)}`);
    return 0;
  }
  const dryRun = flags.values.get("dry-run") === true;
  const passed = new Map([...flags.values].filter(([name]) => PASSED_ON.has(name)));
  const plan = servicePlan({
    action,
    os: Deno.build.os,
    execPath: Deno.execPath(),
    standalone: Deno.build.standalone,
    agentArgs: supervisedArgs({ ...flags, values: passed }),
  });
  if (typeof plan === "string") {
    console.error(`${label}: ${plan}`);
    return 1;
  }
  if (dryRun) {
    console.log(describePlan(plan, Deno.build.os === "windows" ? joinWindowsArgs : quotePosix));
    return 0;
  }
  const problem = await preflight(action);
  if (problem !== undefined) {
    console.error(`${label}: ${problem}`);
    return 1;
  }
  return await runPlan(plan, { label });
}

/** What stops the plan from working here, checked before any step runs. */
async function preflight(action: ServiceAction): Promise<string | undefined> {
  if (Deno.build.os === "darwin" && Deno.uid() !== 0) {
    return `launchd's system daemons are root's: run it with sudo (the daemon runs as root, ` +
      `its files under ${ROOT_HOME}/Library/mackerel-agent)`;
  }
  if (Deno.build.os === "windows" && action === "install") {
    const wrapper = win32.join(win32.dirname(Deno.execPath()), WRAPPER_EXE);
    try {
      await Deno.stat(wrapper);
    } catch {
      return `${wrapper} is missing: the service runs the agent through it. It comes with the ` +
        "agent in the release's Windows zip; keep the two files together.";
    }
  }
  return undefined;
}

/** argv as a POSIX shell line, each word quoted only when it needs it. */
export function quotePosix(args: readonly string[]): string {
  return args.map((arg) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)
    .join(" ");
}
