/**
 * The flags shared by the agent's commands and their meaning as typed options.
 *
 * @module
 */
import { type FlagSpec, type ParsedFlags, UsageError } from "./flags.ts";
import { DEFAULT_CONFFILE } from "../config/schema.ts";
import type { FlagOverrides } from "../config/overrides.ts";
import { checkRoot } from "../host/source.ts";

/** Flags of the daemon, also accepted by `once`, `configtest`, `retire` and `supervise` (§1.2). */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  {
    name: "conf",
    kind: "string",
    placeholder: "FILE",
    help: `config file (default ${DEFAULT_CONFFILE})`,
  },
  {
    name: "apibase",
    kind: "string",
    placeholder: "URL",
    help: "API base (default https://api.mackerelio.com)",
  },
  {
    name: "apikey",
    kind: "string",
    placeholder: "KEY",
    help: "API key (DEPRECATED: set it in the config file)",
  },
  { name: "root", kind: "string", placeholder: "DIR", help: "directory holding the host id file" },
  {
    name: "pidfile",
    kind: "string",
    placeholder: "FILE",
    help: "pidfile path; -pidfile= disables it",
  },
  { name: "verbose", kind: "bool", aliases: ["v"], help: "log debug lines" },
  { name: "diagnostic", kind: "bool", help: "post the agent's own memory figures" },
  {
    name: "role",
    kind: "list",
    placeholder: "SERVICE:ROLE",
    help: "role, repeatable; replaces the file's roles",
  },
  { name: "procfs", kind: "string", placeholder: "DIR", help: "procfs root (default /proc)" },
  { name: "sysfs", kind: "string", placeholder: "DIR", help: "sysfs root (default /sys)" },
  {
    name: "interval",
    kind: "int",
    placeholder: "SECONDS",
    help: "length of the agent's minute in seconds (default 60; smaller is for tests)",
  },
  { name: "child", kind: "bool", help: "internal: run as the child of supervise (no pidfile)" },
  {
    name: "private-autoshutdown",
    kind: "bool",
    help: "internal: stop when the executable changes",
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
  /** The roots to check before use: those given as flags, and the defaults on Linux. */
  readonly rootsToCheck: readonly (readonly [flag: string, root: string])[];
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
  for (const name of ["procfs", "sysfs"]) {
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
    procfs: str("procfs") ?? "/proc",
    sysfs: str("sysfs") ?? "/sys",
    // macOS and Windows have no /proc or /sys: their collectors fall back to Deno's built-ins.
    rootsToCheck: (["procfs", "sysfs"] as const)
      .filter((flag) => v.has(flag) || Deno.build.os === "linux")
      .map((flag) => [flag, str(flag) ?? `/${flag.slice(0, -2)}`] as const),
    minuteMs: interval * 1000,
    child: bool("child") ?? false,
    autoshutdown: bool("private-autoshutdown") ?? false,
  };
}

/** The first `-procfs`/`-sysfs` root that cannot serve, as one line for the user; none when all can. */
export async function rootProblem(options: CommonOptions): Promise<string | undefined> {
  for (const [flag, root] of options.rootsToCheck) {
    const problem = await checkRoot(root);
    if (problem) return `-${flag} ${root}: ${problem}`;
  }
  return undefined;
}
