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
import { runConfigtest } from "./configtest.ts";
import { runDaemonCommand } from "./daemon.ts";
import { formatFlagHelp, parseFlags, UsageError } from "./flags.ts";
import { runOnce } from "./once.ts";
import { COMMON_FLAGS, type CommonOptions, commonOptions } from "./options.ts";
import { runVersion } from "./version.ts";

interface Command {
  readonly summary: string;
  readonly run: (options: CommonOptions) => Promise<number> | number;
}

/** The daemon, run when no subcommand is given. */
const DAEMON: Command = { summary: "run the agent", run: runDaemonCommand };

const COMMANDS: Readonly<Record<string, Command>> = {
  version: { summary: "print the version", run: runVersion },
  once: { summary: "print the host spec and one round of metrics as JSON", run: runOnce },
  configtest: { summary: "check the config file", run: runConfigtest },
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
  let options: CommonOptions;
  try {
    const parsed = parseFlags(daemon ? args : rest, COMMON_FLAGS);
    if (parsed.help) {
      console.error(`Usage: mackerel-agent ${name} [<flags>]\n${formatFlagHelp(COMMON_FLAGS)}`);
      return 0;
    }
    options = commonOptions(parsed);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`mackerel-agent ${name}: ${error.message}`);
    console.error(USAGE_LINE);
    return 2;
  }
  await setupLogging({ level: options.overrides.verbose ? "debug" : "info" });
  try {
    return await command.run(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

function helpText(): string {
  const commands = Object.entries(COMMANDS)
    .map(([name, command]) => `  ${name.padEnd(12)}${command.summary}`)
    .join("\n");
  return `${USAGE_LINE}\n\nCommands:\n${commands}\n  ${"help".padEnd(12)}print this help\n\n` +
    `Flags:\n${formatFlagHelp(COMMON_FLAGS)}`;
}
