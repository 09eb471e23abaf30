/**
 * Each command's flags, apart from the code that runs it: `run.ts` lists and parses them without
 * loading any command, and imports a command's module only to run it, so a process holds the code
 * of its own command alone (the daemon none of `once`, `status` or `service`'s; `supervise` none
 * of the daemon's).
 *
 * @module
 */
import type { FlagSpec } from "./flags.ts";
import { COMMON_FLAGS, CONF_FLAG } from "./options.ts";

/**
 * The daemon's flags: the common ones, `-stdout`, which only the daemon takes, and `-version`,
 * which peers such as node_exporter accept.
 */
export const DAEMON_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  {
    name: "stdout",
    kind: "bool",
    help: "with no API key, print what would be posted as JSON lines instead of failing",
  },
  { name: "version", kind: "bool", help: "print the version and exit" },
];

/** configtest's flags: the daemon's, and `-lenient`. */
export const CONFIGTEST_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  {
    name: "lenient",
    kind: "bool",
    help: "exit 0 when unknown keys are the only findings (they are still printed)",
  },
];

/** Flags of `init`: only these three, as upstream. */
export const INIT_FLAGS: readonly FlagSpec[] = [
  CONF_FLAG,
  { name: "apikey", kind: "string", placeholder: "KEY", help: "API key to write (required)" },
  { name: "apibase", kind: "string", placeholder: "URL", help: "API base to write" },
];

/** Flags of `once`: the daemon's, and one to leave the check plugins alone. */
export const ONCE_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  {
    name: "skip-checks",
    kind: "bool",
    help: "run no check plugin (a stateful one, such as check-log, would miss what once read)",
  },
];

/** Flags of `retire`: the daemon's plus `-force`. */
export const RETIRE_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: "force", kind: "bool", help: "retire without asking" },
];

/** `status`'s flags: the common ones and `-json`. */
export const STATUS_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: "json", kind: "bool", help: "print the status file itself" },
];
