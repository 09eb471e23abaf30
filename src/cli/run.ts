/**
 * Dispatches argv to a subcommand and returns the process exit code.
 *
 * `argv[0]` missing or starting with `-` selects the daemon; otherwise it names the subcommand.
 * A usage mistake prints one line plus the usage and exits 2; a config mistake prints one line and
 * exits 1; neither shows a stack. Help has upstream's shape (motemen/go-cli over Go's `flag`).
 *
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { setupLogging } from "../log.ts";
import {
  CONFIGTEST_FLAGS,
  DAEMON_FLAGS,
  INIT_FLAGS,
  ONCE_FLAGS,
  RETIRE_FLAGS,
  STATUS_FLAGS,
} from "./command_flags.ts";
import {
  type FlagSpec,
  formatFlagHelp,
  type ParsedFlags,
  parseFlags,
  UsageError,
} from "./flags.ts";
import { COMMON_FLAGS } from "./options.ts";
import { runVersion } from "./version.ts";

interface Command {
  /** Its line in the table of commands: upstream's words for upstream's commands. */
  readonly summary: string;
  /** What follows `Usage: <program> ` in its help, e.g. `once [options]`. */
  readonly usage: string;
  /** What it does, shown in its help under the usage line. */
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  /** Its arguments are not parsed at all, as upstream's `version` (so `version -x` still works). */
  readonly ignoresArgs?: boolean;
  /** Runs it; every command but `version` imports its module here, so a process loads only its own. */
  readonly run: (parsed: ParsedFlags) => Promise<number> | number;
  /** Exit code of `-h` (upstream's retire answers 2). */
  readonly helpExit?: number;
}

/** The daemon, run when no subcommand is given. */
const DAEMON: Command = {
  summary: "mackerel-agent",
  usage: "[options]",
  description: "Runs the agent: collects host metrics every minute and posts them to Mackerel.",
  flags: DAEMON_FLAGS,
  run: async (parsed) =>
    parsed.values.get("version")
      ? runVersion()
      : await (await import("./daemon.ts")).runDaemonCommand(parsed),
};

const COMMANDS: Readonly<Record<string, Command>> = {
  configtest: {
    summary: "configtest",
    usage: "configtest [options]",
    description: "Checks the config file: errors and unexpected keys, as the daemon reads it.",
    flags: CONFIGTEST_FLAGS,
    run: async (parsed) => await (await import("./configtest.ts")).runConfigtestCommand(parsed),
  },
  init: {
    summary: "initialize mackerel-agent.conf with apikey",
    usage: "init -apikey=KEY [-conf=FILE]",
    description: "Writes the API key (and -apibase) at the top of the config file, creating it " +
      "if needed.\nA file that already has a key is left as it is.",
    flags: INIT_FLAGS,
    run: async (parsed) => await (await import("./init.ts")).runInit(parsed),
  },
  once: {
    summary: "output onetime",
    usage: "once [options]",
    description: "Prints the host spec, one round of metrics and each check plugin's result as " +
      "one JSON document.\nNothing is posted to Mackerel; no config file or API key is needed.",
    flags: ONCE_FLAGS,
    run: async (parsed) => await (await import("./once.ts")).runOnce(parsed),
  },
  retire: {
    summary: "retire the host",
    usage: "retire [-force] [options]",
    description: "Retires this host on Mackerel and deletes its host id file.",
    flags: RETIRE_FLAGS,
    run: async (parsed) => await (await import("./retire.ts")).runRetire(parsed),
    helpExit: 2,
  },
  service: {
    summary: "install or uninstall the Windows service or the launchd daemon",
    usage: "service install [options] | service uninstall",
    description: "install: registers this executable with the service manager: started at " +
      "boot, stopped gracefully,\nrestarted after a crash. Its options are the agent's, " +
      "given to it by the service (service install -h).\nuninstall: stops the agent (it " +
      "drains its queue) and removes the service. -dry-run prints the steps instead.\nOn " +
      "Linux the packages and scripts/install.sh install the systemd unit.",
    flags: [],
    run: async (parsed) => await (await import("./service.ts")).runService(parsed),
  },
  status: {
    summary: "tell whether the agent running for this root is healthy",
    usage: "status [-json] [options]",
    description: "Reads <root>/status.json, which the agent rewrites after every round, and " +
      "says whether it is healthy.\nExit 0 healthy, 1 degraded (posting, a collector or a " +
      "plugin failing), 3 no agent running for the root.",
    flags: STATUS_FLAGS,
    run: async (parsed) => await (await import("./status.ts")).runStatus(parsed),
  },
  supervise: {
    summary: "supervisor mode",
    usage: "supervise [options]",
    description: "Runs the agent as a child process: restarts it when it dies, and on SIGHUP " +
      "checks the config and restarts it with the new one.",
    flags: COMMON_FLAGS,
    run: async (parsed) => await (await import("./supervise.ts")).runSupervise(parsed),
  },
  version: {
    summary: "display version of mackerel-agent",
    usage: "version",
    description: "Prints the version of the agent.",
    flags: [],
    ignoresArgs: true,
    run: () => runVersion(),
  },
};

/** `help` is no command upstream has; ours prints a command's help on stdout. */
const HELP_SUMMARY = "print the help of a command (help <command>)";

/** Runs the agent's command line and returns the exit code. */
export async function run(args: readonly string[]): Promise<number> {
  const [name = "", ...rest] = args;
  if (name === "help") return await help(rest[0]);
  if (name === "--version" || name === "-version") return runVersion();
  const daemon = name === "" || name.startsWith("-");
  const command = daemon ? DAEMON : COMMANDS[name];
  if (!command) {
    // Upstream's text exactly: the usage and the commands, nothing naming the unknown word.
    console.error(await usageText());
    return 2;
  }
  if (command.ignoresArgs) return await command.run(parseFlags([], []));
  const label = async () => daemon ? await programName() : `${await programName()} ${name}`;
  let parsed: ParsedFlags;
  try {
    parsed = parseFlags(daemon ? args : rest, command.flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return await usageError(await label(), command, error);
  }
  if (parsed.help) {
    console.error(await commandHelp(command));
    return command.helpExit ?? 0;
  }
  await setupLogging({ level: parsed.values.get("verbose") ? "debug" : "info" });
  try {
    return await command.run(parsed);
  } catch (error) {
    if (error instanceof UsageError) return await usageError(await label(), command, error);
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    // A file the user pointed at that cannot be read or written is their mistake to fix, not a bug.
    if (Object.values(Deno.errors).some((type) => error instanceof type)) {
      console.error(`${await label()}: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

/** `help`: the usage with the commands, or one command's help; an unknown name is a usage error. */
async function help(name: string | undefined): Promise<number> {
  if (name === undefined || name === "help") {
    console.log(await usageText());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(await usageText());
    return 2;
  }
  console.log(await commandHelp(command));
  return 0;
}

/** A flag mistake: the message, then the command's help, as Go's `flag` does; exit 2. */
async function usageError(label: string, command: Command, error: UsageError): Promise<number> {
  console.error(`${label}: ${error.message}`);
  console.error(await commandHelp(command));
  return 2;
}

/** Upstream's program usage: the usage line, a blank line and the table of commands. */
async function usageText(): Promise<string> {
  return `Usage: ${await programName()} <command> [<args>]\n\n${commandTable()}`;
}

/** `Commands:` and one line per command, names sorted and padded as Go's tabwriter pads them. */
function commandTable(): string {
  const summaries: Record<string, string> = { help: HELP_SUMMARY };
  for (const [name, command] of Object.entries(COMMANDS)) summaries[name] = command.summary;
  const rows = [
    ["<no command>", DAEMON.summary],
    ...Object.keys(summaries).sort().map((name) => [name, summaries[name]]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 4;
  return `Commands:\n${
    rows.map(([name, summary]) => `    ${name.padEnd(width)}${summary}`).join("\n")
  }`;
}

/**
 * A command's help as go-cli prints it: `Usage: ` and its usage line, its description, then
 * `Options:` and the flags with their defaults (internal ones left out). The daemon's help ends
 * with the table of commands, as upstream's.
 */
async function commandHelp(command: Command): Promise<string> {
  let text = `Usage: ${await programName()} ${command.usage}\n\n${command.description}`;
  const flags = formatFlagHelp(command.flags);
  if (flags !== "") text += `\n\nOptions:\n${flags}`;
  if (command === DAEMON) text += `\n${commandTable()}`;
  return text;
}

/**
 * The name the program was run by, as Go's `os.Args[0]`: a compiled binary's own argv[0]; under
 * `deno run` (where that would be `deno`) the agent's name. Only help and mistakes print it, so
 * `node:process` (a part of Deno's Node polyfills, some 0.7 MB resident) is imported then.
 */
async function programName(): Promise<string> {
  if (!Deno.build.standalone) return "mackerel-agent";
  const { default: process } = await import("node:process");
  return process.argv0;
}
