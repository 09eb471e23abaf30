/**
 * Dispatches argv to a subcommand and returns the process exit code.
 *
 * `argv[0]` missing or starting with `-` selects the daemon; otherwise it names the subcommand.
 * A usage mistake prints one line plus the usage line and exits 2; a config mistake prints one
 * line and exits 1; neither shows a stack.
 *
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { setupLogging } from "../log.ts";
import { CONFIGTEST_FLAGS, runConfigtestCommand } from "./configtest.ts";
import { DAEMON_FLAGS, runDaemonCommand } from "./daemon.ts";
import {
  type FlagSpec,
  formatFlagHelp,
  type ParsedFlags,
  parseFlags,
  UsageError,
} from "./flags.ts";
import { INIT_FLAGS, runInit } from "./init.ts";
import { runOnce } from "./once.ts";
import { COMMON_FLAGS, commonOptions } from "./options.ts";
import { RETIRE_FLAGS, runRetire } from "./retire.ts";
import { runSupervise } from "./supervise.ts";
import { runVersion } from "./version.ts";

interface Command {
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  readonly run: (parsed: ParsedFlags) => Promise<number> | number;
  /** Exit code of `-h` (upstream's retire answers 2). */
  readonly helpExit?: number;
}

/** The daemon, run when no subcommand is given. */
const DAEMON: Command = {
  summary: "run the agent",
  flags: DAEMON_FLAGS,
  run: runDaemonCommand,
};

const COMMANDS: Readonly<Record<string, Command>> = {
  version: { summary: "print the version", flags: COMMON_FLAGS, run: () => runVersion() },
  once: {
    summary: "print the host spec and one round of metrics as JSON",
    flags: COMMON_FLAGS,
    run: (parsed) => runOnce(commonOptions(parsed)),
  },
  configtest: {
    summary: "check the config file",
    flags: CONFIGTEST_FLAGS,
    run: runConfigtestCommand,
  },
  retire: { summary: "retire this host", flags: RETIRE_FLAGS, run: runRetire, helpExit: 2 },
  init: { summary: "write the API key into the config file", flags: INIT_FLAGS, run: runInit },
  supervise: {
    summary: "run the agent as a child, restart it when it dies and reload it on HUP",
    flags: COMMON_FLAGS,
    run: runSupervise,
  },
};

/** The one-line usage shown with every usage error. */
export const USAGE_LINE = `Usage: mackerel-agent <command> [<args>]  (commands: ${
  [...Object.keys(COMMANDS), "help"].join(", ")
})`;

/** Runs the agent's command line and returns the exit code. */
export async function run(args: readonly string[]): Promise<number> {
  const [name = "", ...rest] = args;
  if (name === "help" || name === "-h" || name === "--help" || name === "-help") {
    console.log(helpText());
    return 0;
  }
  const daemon = name === "" || name.startsWith("-");
  const command = daemon ? DAEMON : COMMANDS[name];
  if (!command) {
    console.error(`mackerel-agent: unknown command "${name}"`);
    console.error(USAGE_LINE);
    return 2;
  }
  const label = daemon ? "mackerel-agent" : `mackerel-agent ${name}`;
  let parsed: ParsedFlags;
  try {
    parsed = parseFlags(daemon ? args : rest, command.flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(label, error);
  }
  if (parsed.help) {
    console.error(`Usage: ${label} [<flags>]\n${formatFlagHelp(command.flags)}`);
    return command.helpExit ?? 0;
  }
  await setupLogging({ level: parsed.values.get("verbose") ? "debug" : "info" });
  try {
    return await command.run(parsed);
  } catch (error) {
    if (error instanceof UsageError) return usageError(label, error);
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    // A file the user pointed at that cannot be read or written is their mistake to fix, not a bug.
    if (Object.values(Deno.errors).some((type) => error instanceof type)) {
      console.error(`${label}: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

function usageError(label: string, error: UsageError): number {
  console.error(`${label}: ${error.message}`);
  console.error(USAGE_LINE);
  return 2;
}

function helpText(): string {
  const commands = Object.entries(COMMANDS)
    .map(([name, command]) => `  ${name.padEnd(12)}${command.summary}`)
    .join("\n");
  return `${USAGE_LINE}\n\nCommands:\n  ${"(none)".padEnd(12)}${DAEMON.summary}\n${commands}\n` +
    `  ${"help".padEnd(12)}print this help\n\nFlags:\n${formatFlagHelp(DAEMON.flags)}`;
}
