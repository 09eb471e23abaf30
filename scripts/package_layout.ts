/**
 * The pure parts of the `.deb` and `.rpm` packages: which files go where with which mode, which
 * are config files, the version and architecture spellings, the file names and the Debian
 * control file. `scripts/package.ts` stages the files and runs `dpkg-deb` and `rpmbuild`.
 *
 * @module
 */
import type { Target } from "./compile_targets.ts";

/** The package formats built. */
export type PackageFormat = "deb" | "rpm";

/** The package's name: upstream's, so that installing ours replaces upstream's package. */
export const PACKAGE_NAME = "mackerel-agent";

/** Who the packages name as their maintainer. */
export const MAINTAINER =
  "The mackerel-agent (Deno) authors <maintainers@users.noreply.r-seed-3b49beaf.example>";

/** The packages' revision of a release (the `-1` of `0.1.0-1`). */
export const PACKAGE_RELEASE = "1";

/** One file or directory of a package. */
export interface PackageEntry {
  /** Absolute path on the installed system. */
  readonly path: string;
  /** What to copy there, relative to the repository root; `"binary"` is the agent; none: a directory. */
  readonly source?: string;
  readonly mode: number;
  /** A config file: the operator's edits survive upgrades (dpkg conffile, rpm `%config(noreplace)`). */
  readonly config?: boolean;
}

/**
 * The files of a package in `format`; the unit goes to the package manager's unit directory.
 *
 * The environment file: on RHEL `/etc/sysconfig/mackerel-agent`, a `%config(noreplace)` as in
 * upstream's rpm. On Debian a sample under `/usr/share` that postinst copies to
 * `/etc/default/mackerel-agent` when absent: upstream's .deb owns that path as its conffile, and
 * shipping another would make dpkg ask which to keep when replacing it. The host id file is not
 * listed: the agent writes it, so upgrades and removal keep it (the .deb's postrm deletes it on
 * purge).
 */
export function packageEntries(format: PackageFormat): readonly PackageEntry[] {
  const deb = format === "deb";
  return [
    { path: "/usr/bin/mackerel-agent", source: "binary", mode: 0o755 },
    {
      path: `${deb ? "/lib" : "/usr/lib"}/systemd/system/mackerel-agent.service`,
      source: "packaging/mackerel-agent.service",
      mode: 0o644,
    },
    deb
      ? {
        path: "/usr/share/mackerel-agent/mackerel-agent.default",
        source: "packaging/mackerel-agent.env",
        mode: 0o644,
      }
      : {
        path: "/etc/sysconfig/mackerel-agent",
        source: "packaging/mackerel-agent.env",
        mode: 0o644,
        config: true,
      },
    { path: "/etc/mackerel-agent", mode: 0o755 },
    // The config holds the API key: readable by root (and its group) only.
    {
      path: "/etc/mackerel-agent/mackerel-agent.conf",
      source: "packaging/mackerel-agent.conf",
      mode: 0o640,
      config: true,
    },
    { path: "/etc/mackerel-agent/conf.d", mode: 0o755 },
    { path: "/var/lib/mackerel-agent", mode: 0o755 },
  ];
}

/** The Debian maintainer scripts, from `packaging/deb/`. */
export const DEB_SCRIPTS: readonly string[] = ["preinst", "postinst", "prerm", "postrm"];

/** The rpm spec, filled in by `rpmbuild --define`. */
export const RPM_SPEC = "packaging/rpm/mackerel-agent.spec";

const ARCHITECTURES: Readonly<Partial<Record<Target, { deb: string; rpm: string }>>> = {
  "x86_64-unknown-linux-gnu": { deb: "amd64", rpm: "x86_64" },
  "aarch64-unknown-linux-gnu": { deb: "arm64", rpm: "aarch64" },
};

/** The Linux targets that get packages. */
export const PACKAGED_TARGETS = Object.keys(ARCHITECTURES) as readonly Target[];

/** The architecture name of `target` in `format` (`amd64`, `x86_64` …). Throws for non-Linux targets. */
export function packageArch(target: Target, format: PackageFormat): string {
  const arch = ARCHITECTURES[target];
  if (!arch) throw new RangeError(`target: no ${format} package for ${target}`);
  return arch[format];
}

/**
 * The release version as both formats order it: a pre-release `1.2.0-rc.1` becomes `1.2.0~rc.1`,
 * which dpkg and rpm (4.10+) sort before `1.2.0`; a `-` is not allowed in an rpm version anyway.
 */
export function packageVersion(releaseVersion: string): string {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(releaseVersion)) {
    throw new RangeError(`releaseVersion: not MAJOR.MINOR.PATCH[-PRERELEASE]: ${releaseVersion}`);
  }
  return releaseVersion.replace("-", "~");
}

/** `mackerel-agent_<version>-1_<arch>.deb` or `mackerel-agent-<version>-1.<arch>.rpm`. */
export function packageFileName(
  format: PackageFormat,
  options: { readonly version: string; readonly target: Target },
): string {
  const version = packageVersion(options.version);
  const arch = packageArch(options.target, format);
  return format === "deb"
    ? `${PACKAGE_NAME}_${version}-${PACKAGE_RELEASE}_${arch}.deb`
    : `${PACKAGE_NAME}-${version}-${PACKAGE_RELEASE}.${arch}.rpm`;
}

/** The `DEBIAN/control` file. `installedSizeKiB`: the payload's size, rounded up. */
export function debControl(options: {
  readonly version: string;
  readonly target: Target;
  readonly installedSizeKiB: number;
}): string {
  return [
    `Package: ${PACKAGE_NAME}`,
    `Version: ${packageVersion(options.version)}-${PACKAGE_RELEASE}`,
    `Architecture: ${packageArch(options.target, "deb")}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${options.installedSizeKiB}`,
    "Section: admin",
    "Priority: optional",
    "Homepage: https://mackerel.io/",
    "Description: mackerel.io agent (Deno)",
    " Host monitoring agent for Mackerel, written in TypeScript on Deno: a drop-in successor",
    " to mackerel-agent that reads the same configuration file and posts the same metrics.",
    " Runs as the mackerel-agent systemd service.",
    "",
  ].join("\n");
}

/** The `DEBIAN/conffiles` file: every config entry, one absolute path a line. */
export function debConffiles(): string {
  return packageEntries("deb").filter((e) => e.config).map((e) => `${e.path}\n`).join("");
}
