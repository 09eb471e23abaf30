/**
 * The flags shared by the agent's commands and their meaning as typed options.
 *
 * @module
 */
import { type FlagSpec, type ParsedFlags, UsageError } from "./flags.ts";
import {
  DEFAULT_APIBASE,
  DEFAULT_CONFFILE,
  DEFAULT_PIDFILE,
  DEFAULT_ROOT,
} from "../config/schema.ts";
import type { FlagOverrides } from "../config/overrides.ts";
import { checkRoot } from "../host/source.ts";
import { logger } from "../log.ts";

/** The flags that name a root the agent reads the host under. */
const ROOT_FLAGS = ["procfs", "sysfs", "rootfs"] as const;

/** A flag of {@linkcode ROOT_FLAGS}. */
export type RootFlag = typeof ROOT_FLAGS[number];

/** Where each root is without its flag. */
const ROOT_DEFAULTS: Readonly<Record<RootFlag, string>> = {
  procfs: "/proc",
  sysfs: "/sys",
  rootfs: "/",
};

/** `-conf`: every command that reads or writes a config file takes it alike. */
export const CONF_FLAG: FlagSpec = {
  name: "conf",
  kind: "string",
  placeholder: "FILE",
  help: "config file",
  default: DEFAULT_CONFFILE,
};

/**
 * Flags of the daemon, also accepted by `once`, `configtest`, `retire` and `supervise`
 * (docs/upstream.md, "Flags").
 */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  CONF_FLAG,
  {
    name: "apibase",
    kind: "string",
    placeholder: "URL",
    help: "API base",
    default: DEFAULT_APIBASE,
  },
  {
    name: "apikey",
    kind: "string",
    placeholder: "KEY",
    help: "API key (DEPRECATED: set it in the config file)",
  },
  {
    name: "root",
    kind: "string",
    placeholder: "DIR",
    help: "directory holding the host id file",
    default: DEFAULT_ROOT,
  },
  {
    name: "pidfile",
    kind: "string",
    placeholder: "FILE",
    help: "pidfile path; -pidfile= disables it",
    default: DEFAULT_PIDFILE,
  },
  { name: "verbose", kind: "bool", aliases: ["v"], help: "log debug lines" },
  { name: "diagnostic", kind: "bool", help: "post the agent's own memory figures" },
  {
    name: "role",
    kind: "list",
    placeholder: "SERVICE:ROLE",
    help: "role, repeatable; replaces the file's roles",
  },
  {
    name: "procfs",
    kind: "string",
    placeholder: "DIR",
    help: "procfs root: where /proc is mounted",
    default: ROOT_DEFAULTS.procfs,
  },
  {
    name: "sysfs",
    kind: "string",
    placeholder: "DIR",
    help: "sysfs root: where /sys is mounted",
    default: ROOT_DEFAULTS.sysfs,
  },
  {
    name: "rootfs",
    kind: "string",
    placeholder: "DIR",
    help: "host root: where the host's / is mounted (filesystem sizes, /etc, the host name)",
    default: ROOT_DEFAULTS.rootfs,
  },
  {
    name: "interval",
    kind: "int",
    placeholder: "SECONDS",
    help: "length of the agent's minute in seconds; smaller values are for tests",
    default: 60,
  },
  {
    name: "child",
    kind: "bool",
    help: "run as the child of supervise (no pidfile)",
    internal: true,
  },
  {
    name: "private-autoshutdown",
    kind: "bool",
    help: "stop when the executable changes",
    internal: true,
  },
];

/** The meaning of the common flags. */
export interface CommonOptions {
  /** The config file to read. */
  readonly conf: string;
  /** `-conf` was given: a missing file is then an error, not a reason to use defaults. */
  readonly confExplicit: boolean;
  readonly overrides: FlagOverrides;
  readonly procfs: string;
  readonly sysfs: string;
  /** The host's `/` (`-rootfs`); `/` unless the agent watches the host from a container. */
  readonly rootfs: string;
  /** The roots to check before use: those given as flags, and the defaults on Linux. */
  readonly rootsToCheck: readonly (readonly [flag: RootFlag, root: string])[];
  /** Length of the agent's minute in milliseconds (`-interval` × 1000). */
  readonly minuteMs: number;
  readonly child: boolean;
  /** `-private-autoshutdown`: stop when the executable is replaced. */
  readonly autoshutdown: boolean;
}

/** Turns parsed flags into {@linkcode CommonOptions}. Throws {@linkcode UsageError} on bad values. */
export function commonOptions(parsed: ParsedFlags): CommonOptions {
  const v = parsed.values;
  const str = (name: string) => v.get(name) as string | undefined;
  const bool = (name: string) => v.get(name) as boolean | undefined;
  const interval = (v.get("interval") as number | undefined) ?? 60;
  if (interval < 1) {
    throw new UsageError(`invalid value "${interval}" for flag -interval: must be at least 1`);
  }
  for (const name of ROOT_FLAGS) {
    if (str(name) === "") throw new UsageError(`invalid value "" for flag -${name}`);
  }
  return {
    conf: str("conf") ?? DEFAULT_CONFFILE,
    confExplicit: v.has("conf"),
    overrides: {
      conf: str("conf"),
      apibase: str("apibase"),
      apikey: str("apikey"),
      root: str("root"),
      pidfile: str("pidfile"),
      verbose: bool("verbose"),
      diagnostic: bool("diagnostic"),
      roles: v.get("role") as string[] | undefined,
    },
    procfs: str("procfs") ?? ROOT_DEFAULTS.procfs,
    sysfs: str("sysfs") ?? ROOT_DEFAULTS.sysfs,
    rootfs: str("rootfs") ?? ROOT_DEFAULTS.rootfs,
    // macOS and Windows have no /proc or /sys: their collectors read the OS through src/platform/.
    rootsToCheck: ROOT_FLAGS
      .filter((flag) => v.has(flag) || (Deno.build.os === "linux" && flag !== "rootfs"))
      .map((flag) => [flag, str(flag) ?? ROOT_DEFAULTS[flag]] as const),
    minuteMs: interval * 1000,
    child: bool("child") ?? false,
    autoshutdown: bool("private-autoshutdown") ?? false,
  };
}

/**
 * What is lost without a root that can be done without; the others are needed. Without sysfs only
 * the block devices of the host spec go (the cpu spec and cloud detection use it when present).
 */
const OPTIONAL_ROOTS: Partial<Record<RootFlag, string>> = {
  sysfs: "the host spec has no block devices",
};

/**
 * The first root that cannot serve and is needed (`-procfs`, or a `-rootfs` that was given), as one
 * line for the user; none when all can. An unusable `-sysfs` is logged as one WARNING instead,
 * saying what goes missing, and the agent runs on.
 */
export async function rootProblem(options: CommonOptions): Promise<string | undefined> {
  const problems = await Promise.all(
    options.rootsToCheck.map(async ([flag, root]) => ({
      flag,
      root,
      problem: await checkRoot(root),
    })),
  );
  for (const { flag, root, problem } of problems) {
    if (problem && OPTIONAL_ROOTS[flag] === undefined) return `-${flag} ${root}: ${problem}`;
  }
  for (const { flag, root, problem } of problems) {
    if (problem) logger("main").warn(`-${flag} ${root}: ${problem}; ${OPTIONAL_ROOTS[flag]}`);
  }
  return undefined;
}

/**
 * What to do about a missing API key, naming the config file the agent read; `offerStdout` adds
 * the `-stdout` way out (the daemon's, not `supervise`'s).
 */
export function apikeyHint(
  options: CommonOptions,
  hint: { readonly offerStdout: boolean },
): string {
  const conf = options.confExplicit ? ` -conf=${options.conf}` : "";
  return `run "mackerel-agent init -apikey=<key>${conf}" to write your API key into ${options.conf}` +
    (hint.offerStdout ? ", or add -stdout to print what would be posted instead" : "");
}
