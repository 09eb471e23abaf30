/**
 * Which Linux distribution the host runs, detected from files under the etc root as gopsutil's
 * `host.PlatformInformation` does, and named for display as mackerel-agent does.
 *
 * @module
 */
import { dirname, join } from "../../file_path.ts";
import type { Source } from "../source.ts";

/** A distribution id (`ubuntu`, `rocky` ...) and its version (`24.04`), either possibly empty. */
export interface Platform {
  readonly name: string;
  readonly version: string;
}

/** The fields of `/etc/lsb-release` gopsutil looks at. */
interface Lsb {
  readonly id: string;
  readonly release: string;
}

/** Ids gopsutil reports for `debian_version` hosts whose lsb-release names them, mapped to its id. */
const DEBIAN_DERIVATIVES: Readonly<Record<string, string>> = {
  Ubuntu: "ubuntu",
  LinuxMint: "linuxmint",
  Kylin: "Kylin",
  uos: "uos",
  Deepin: "Deepin",
};

/** Ids an lsb-release alone names, when no release file matched. */
const LSB_IDS: Readonly<Record<string, string>> = {
  RedHat: "redhat",
  Amazon: "amazon",
  ScientificSL: "scientific",
  XenServer: "xenserver",
};

/** mackerel-agent's display names (`normalizePlatform`); other ids are shown as they are. */
const DISPLAY_NAMES: Readonly<Record<string, string>> = {
  debian: "Debian",
  ubuntu: "Ubuntu",
  linuxmint: "Linux Mint",
  raspbian: "Raspbian",
  fedora: "Fedora",
  oracle: "Oracle Linux",
  enterpriseenterprise: "Oracle Enterprise Linux",
  centos: "CentOS",
  redhat: "Red Hat Enterprise Linux",
  scientific: "Scientific Linux",
  amazon: "Amazon Linux",
  xenserver: "XenServer",
  cloudlinux: "CloudLinux",
  ibm_powerkvm: "IBM PowerKVM",
  suse: "SUSE Linux Enterprise Server",
  opensuse: "openSUSE",
  gentoo: "Gentoo Linux",
  slackware: "Slackware",
  arch: "Arch Linux",
  exherbo: "Exherbo",
  alpine: "Alpine Linux",
  coreos: "CoreOS",
};

/** The display name of a platform id (`rocky` stays `rocky`, as upstream). */
export function displayPlatformName(id: string): string {
  return Object.hasOwn(DISPLAY_NAMES, id) ? DISPLAY_NAMES[id] : id;
}

/**
 * Detects the distribution id and version from the etc root.
 *
 * The first release file that exists and is not empty decides, in gopsutil's order; `os-release`
 * comes late because distributions that also ship their own file are named better by it. Never
 * throws: an unreadable file counts as absent and the result may be `{ name: "", version: "" }`.
 */
export async function detectPlatform(source: Source): Promise<Platform> {
  const lsb = parseLsbRelease(await readIfPresent(source, "lsb-release") ?? "");
  const platform = await detectFromFiles(source, lsb);
  return { name: platform.name.replace(/^"+|"+$/g, ""), version: platform.version };
}

async function detectFromFiles(source: Source, lsb: Lsb): Promise<Platform> {
  const read = (file: string) => readNonEmpty(source, file);
  let text: string | undefined;
  if ((text = await read("oracle-release")) !== undefined) {
    return { name: "oracle", version: redhatishVersion(text) };
  }
  if ((text = await read("enterprise-release")) !== undefined) {
    return { name: "oracle", version: redhatishVersion(text) };
  }
  if ((text = await read("slackware-version")) !== undefined) {
    return { name: "slackware", version: slackwareVersion(text) };
  }
  if ((text = await read("debian_version")) !== undefined) {
    if (Object.hasOwn(DEBIAN_DERIVATIVES, lsb.id)) {
      return { name: DEBIAN_DERIVATIVES[lsb.id], version: lsb.release };
    }
    const name = await isRaspbian(source) ? "raspbian" : "debian";
    return { name, version: lines(text)[0] ?? "" };
  }
  for (const file of ["neokylin-release", "redhat-release", "system-release"]) {
    if ((text = await read(file)) !== undefined) {
      return { name: redhatishPlatform(text), version: redhatishVersion(text) };
    }
  }
  if ((text = await read("gentoo-release")) !== undefined) {
    return { name: "gentoo", version: redhatishVersion(text) };
  }
  if ((text = await read("SuSE-release")) !== undefined) {
    return { name: susePlatform(text), version: suseVersion(text) };
  }
  if ((await read("arch-release")) !== undefined) return { name: "arch", version: lsb.release };
  if ((text = await read("alpine-release")) !== undefined) {
    return { name: "alpine", version: lines(text)[0] ?? "" };
  }
  if ((text = await read("os-release")) !== undefined) return parseOsRelease(text);
  if (Object.hasOwn(LSB_IDS, lsb.id)) return { name: LSB_IDS[lsb.id], version: lsb.release };
  if (lsb.id !== "") return { name: lsb.id.toLowerCase(), version: lsb.release };
  return { name: "", version: "" };
}

/** Parses `ID` and `VERSION_ID` of an os-release file; `amzn` is reported as `amazon`. */
export function parseOsRelease(text: string): Platform {
  let name = "";
  let version = "";
  for (const line of lines(text)) {
    const [key, value] = line.split("=");
    if (value === undefined) continue;
    if (key === "ID") name = unquote(value);
    else if (key === "VERSION_ID") version = unquote(value);
  }
  return { name: name === "amzn" ? "amazon" : name, version };
}

function parseLsbRelease(text: string): Lsb {
  let id = "";
  let release = "";
  for (const line of lines(text)) {
    // gopsutil keeps only the text between the first and second `=` and drops every quote.
    const [key, value] = line.split("=");
    if (value === undefined) continue;
    if (key === "DISTRIB_ID") id = value.replaceAll('"', "");
    else if (key === "DISTRIB_RELEASE") release = value.replaceAll('"', "");
  }
  return { id, release };
}

function redhatishVersion(text: string): string {
  const joined = lines(text).join("").toLowerCase();
  if (joined.includes("rawhide")) return "rawhide";
  return joined.match(/release (\w[\d.]*)/)?.[1] ?? "";
}

function redhatishPlatform(text: string): string {
  const joined = lines(text).join("").toLowerCase();
  return joined.includes("red hat") ? "redhat" : joined.split(" ")[0];
}

function slackwareVersion(text: string): string {
  return lines(text).join("").toLowerCase().replace("slackware ", "");
}

function suseVersion(text: string): string {
  let version = "";
  for (const line of lines(text)) {
    const v = line.match(/VERSION = ([\d.]+)/);
    const patch = v ? undefined : line.match(/PATCHLEVEL = (\d+)/);
    if (v) version = v[1];
    else if (patch) version = `${version}.${patch[1]}`;
  }
  return version;
}

function susePlatform(text: string): string {
  return lines(text).join("").toLowerCase().includes("opensuse") ? "opensuse" : "suse";
}

/**
 * gopsutil checks the absolute `/usr/bin/raspi-config`; we look beside the etc root instead, so a
 * host root mounted elsewhere (`/host/etc`) and fixture trees answer for themselves.
 */
async function isRaspbian(source: Source): Promise<boolean> {
  try {
    const info = await Deno.stat(join(dirname(source.etcPath(".")), "usr/bin/raspi-config"));
    return info.isFile && info.size > 0;
  } catch {
    return false;
  }
}

/** The file's text when it exists and is not empty, else `undefined`. */
async function readNonEmpty(source: Source, file: string): Promise<string | undefined> {
  const text = await readIfPresent(source, file);
  return text === undefined || text.length === 0 ? undefined : text;
}

async function readIfPresent(source: Source, file: string): Promise<string | undefined> {
  try {
    return await source.readEtc(file);
  } catch {
    return undefined;
  }
}

/** Lines as Go's `ReadLines` gives them: split on `\n`, no trailing empty line. */
function lines(text: string): string[] {
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  return all;
}

function unquote(value: string): string {
  return trimQuotes(trimQuotes(value, '"'), "'");
}

function trimQuotes(value: string, quote: string): string {
  return value.length >= 2 && value.startsWith(quote) && value.endsWith(quote)
    ? value.slice(1, -1)
    : value;
}
