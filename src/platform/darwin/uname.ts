/**
 * `uname -a` on macOS, for the kernel part of the host description: the fields upstream gets from
 * `uname -s`, `-r`, `-v` and `-m`, in one run.
 *
 * @module
 */

/** The fields of `uname -a`. */
export interface Uname {
  /** `uname -s`: `Darwin`. */
  readonly sysname: string;
  readonly nodename: string;
  /** `uname -r`: `23.5.0`. */
  readonly release: string;
  /** `uname -v`: `Darwin Kernel Version 23.5.0: ...; root:xnu-.../RELEASE_ARM64_T8103`. */
  readonly version: string;
  /** `uname -m`: `arm64` or `x86_64`. */
  readonly machine: string;
}

/**
 * Parses `uname -a` (`sysname nodename release version machine`): the version is everything
 * between the release and the last field, spaces and all.
 *
 * @throws {Error} when there are fewer than five fields.
 */
export function parseUnameA(text: string): Uname {
  const line = text.split("\n")[0].trim();
  const match = /^(\S+)\s+(\S+)\s+(\S+)\s+(.+)\s+(\S+)$/.exec(line);
  if (!match) throw new Error(`unexpected output of uname -a: ${JSON.stringify(line)}`);
  const [, sysname, nodename, release, version, machine] = match;
  return { sysname, nodename, release, version, machine };
}
