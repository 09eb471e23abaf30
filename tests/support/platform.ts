/**
 * Tests that need a particular operating system, skipped elsewhere with the reason in their name
 * (the suite also runs on macOS and Windows runners: `.github/workflows/os.yml`).
 *
 * A file declares the reason once and calls `test` on the result in place of `Deno.test`:
 * `const linux = onLinux("reads /proc");` then `linux.test("name", async () => { ... })`.
 * `onUnix` runs on Linux and macOS. For a test written as an object, spread `linuxOnly(name,
 * reason)` or `unixOnly(name, reason)` into it.
 *
 * @module
 */

/** The options of a test that runs only where `runs` holds. */
function onlyWhere(
  runs: boolean,
  name: string,
  reason: string,
): { readonly name: string; readonly ignore: boolean } {
  return { name: runs ? name : `${name} (skipped on ${Deno.build.os}: ${reason})`, ignore: !runs };
}

const ON_LINUX = Deno.build.os === "linux";
const ON_UNIX = Deno.build.os !== "windows";

/** Options of a test that needs Linux: `/proc`, `/sys`, util-linux, or Linux's own metrics. */
export function linuxOnly(name: string, reason: string) {
  return onlyWhere(ON_LINUX, name, reason);
}

/** Options of a test that needs a Unix: signals other than Ctrl-C, process groups, `sh`, modes. */
export function unixOnly(name: string, reason: string) {
  return onlyWhere(ON_UNIX, name, reason);
}

/** Registers tests like `Deno.test(name, fn)`, where their system allows. */
export interface PlatformTests {
  test(name: string, fn: () => void | Promise<void>): void;
}

/** Tests that run on Linux only, skipped elsewhere saying `reason`. */
export function onLinux(reason: string): PlatformTests {
  return { test: (name, fn) => Deno.test({ ...linuxOnly(name, reason), fn }) };
}

/** Tests that run on Linux and macOS, skipped on Windows saying `reason`. */
export function onUnix(reason: string): PlatformTests {
  return { test: (name, fn) => Deno.test({ ...unixOnly(name, reason), fn }) };
}
