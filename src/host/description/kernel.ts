/**
 * The `meta.kernel` part: what `uname -s -r -v -m -o` would print, read from procfs instead of
 * spawned, plus the distribution from {@linkcode detectPlatform}.
 *
 * @module
 */
import type { KernelSpec } from "../../mackerel/types.ts";
import { describeReadError, type Source } from "../source.ts";
import { detectPlatform, displayPlatformName } from "./platform.ts";

/** `uname -m` for each architecture Deno builds for. */
const UNAME_MACHINE: Readonly<Record<string, string>> = {
  x86_64: "x86_64",
  aarch64: "aarch64",
};

/**
 * Collects the kernel spec.
 *
 * `name`, `release` and `version` are the trimmed `ostype`, `osrelease` and `version` under
 * `<procfs>/sys/kernel` (the strings uname reports); failing to read any of them rejects, which
 * drops the part as upstream does when a uname call fails. `machine` comes from
 * `<procfs>/sys/kernel/arch` (Linux 6.1+) and otherwise from the architecture Deno was built for.
 */
export async function collectKernel(source: Source): Promise<KernelSpec> {
  if (Deno.build.os !== "linux") return builtInKernel();
  const [name, release, version, machine, platform] = await Promise.all([
    readKernelFile(source, "ostype"),
    readKernelFile(source, "osrelease"),
    readKernelFile(source, "version"),
    readMachine(source),
    detectPlatform(source),
  ]);
  const platformName = displayPlatformName(platform.name);
  return {
    name,
    release,
    version,
    machine,
    // `uname -o` prints GNU/Linux for Linux kernels built with a GNU userland; busybox prints Linux.
    os: name === "Linux" ? "GNU/Linux" : name,
    ...(platformName !== "" ? { platform_name: platformName } : {}),
    ...(platform.version !== "" ? { platform_version: platform.version } : {}),
  };
}

async function readKernelFile(source: Source, file: string): Promise<string> {
  const rel = `sys/kernel/${file}`;
  try {
    return (await source.readProc(rel)).trim();
  } catch (error) {
    throw new Error(describeReadError(source.procPath(rel), error), { cause: error });
  }
}

async function readMachine(source: Source): Promise<string> {
  try {
    const arch = (await source.readProc("sys/kernel/arch")).trim();
    if (arch !== "") return arch;
  } catch {
    // Older kernels have no such file; the build architecture is the next best answer.
  }
  return UNAME_MACHINE[Deno.build.arch] ?? Deno.build.arch;
}

/** `uname -s` of the operating systems Deno runs on besides Linux. */
const KERNEL_NAMES: Readonly<Record<string, string>> = {
  darwin: "Darwin",
  windows: "Windows",
  freebsd: "FreeBSD",
  netbsd: "NetBSD",
  openbsd: "OpenBSD",
};

/** The kernel spec from Deno's built-ins, where there is no procfs (macOS, Windows, BSDs). */
export function builtInKernel(os: string = Deno.build.os, release = Deno.osRelease()): KernelSpec {
  const name = KERNEL_NAMES[os] ?? os;
  return { name, release, machine: UNAME_MACHINE[Deno.build.arch] ?? Deno.build.arch, os: name };
}
