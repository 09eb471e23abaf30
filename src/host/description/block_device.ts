/**
 * The `meta.block_device` part: a few sysfs attributes of every entry of `/sys/block`.
 *
 * @module
 */
import { describeReadError, type Source } from "../source.ts";

/** Attributes read from `<sysfs>/block/<dev>/`, by spec key. */
const DEVICE_FILES: readonly (readonly [string, string])[] = [
  ["size", "size"],
  ["removable", "removable"],
  ["model", "device/model"],
  ["rev", "device/rev"],
  ["state", "device/state"],
  ["timeout", "device/timeout"],
  ["vendor", "device/vendor"],
];

/**
 * Collects every block device (loop, ram and dm devices included) with its trimmed attributes.
 *
 * A missing attribute is omitted (a loop device has no `device/`), so `{}` is possible. Resolves
 * to `undefined` when `<sysfs>/block` does not exist (some PaaS hide it, or `-sysfs` is missing,
 * which the command has said once); rejects on any other read error, which drops the part as
 * upstream does.
 */
export async function collectBlockDevices(
  source: Source,
): Promise<Record<string, Record<string, string>> | undefined> {
  let names: string[];
  try {
    names = await source.listSys("block");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw new Error(describeReadError(source.sysPath("block"), error), { cause: error });
  }
  const devices = await Promise.all(names.map((name) => readDevice(source, name)));
  return Object.fromEntries(names.map((name, i) => [name, devices[i]]));
}

async function readDevice(source: Source, name: string): Promise<Record<string, string>> {
  const values = await Promise.all(DEVICE_FILES.map(async ([key, file]) => {
    const rel = `block/${name}/${file}`;
    try {
      return [key, (await source.readSys(rel)).trim()] as const;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new Error(describeReadError(source.sysPath(rel), error), { cause: error });
    }
  }));
  return Object.fromEntries(values.filter((entry) => entry !== undefined));
}
