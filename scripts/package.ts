/**
 * Builds the `.deb` and `.rpm` packages of the Linux binaries that `scripts/compile.ts` left in
 * `dist/`, and adds them to `dist/SHA256SUMS`.
 *
 * ```sh
 * deno run -A scripts/package.ts                         # every Linux target, both formats
 * deno run -A scripts/package.ts --format=deb --target=x86_64-unknown-linux-gnu --dist=/tmp/d
 * ```
 *
 * `.deb` needs `dpkg-deb` (Debian's dpkg), `.rpm` needs `rpmbuild` (Debian's and Ubuntu's `rpm`
 * package provides it). Neither strips the binary: `deno compile` appends the program to it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { BuildError, readReleaseVersion, REPO_ROOT } from "./compile.ts";
import { binaryName, formatSha256Sums, isTarget, type Target } from "./compile_targets.ts";
import {
  DEB_SCRIPTS,
  debConffiles,
  debControl,
  PACKAGE_RELEASE,
  packageArch,
  PACKAGED_TARGETS,
  packageEntries,
  packageFileName,
  type PackageFormat,
  packageVersion,
  RPM_SPEC,
} from "./package_layout.ts";

/** Options of {@linkcode buildPackage}. */
export interface PackageOptions {
  readonly format: PackageFormat;
  readonly target: Target;
  /** The release version (`deno.json`'s), e.g. `0.1.0` or `0.2.0-rc.1`. */
  readonly version: string;
  /** The agent binary to package. */
  readonly binary: string;
  /** Where the package is written. */
  readonly outDir: string;
  readonly signal?: AbortSignal;
}

/** Builds one package and returns its path. Throws {@linkcode BuildError} with one line. */
export async function buildPackage(options: PackageOptions): Promise<string> {
  const work = await Deno.makeTempDir({ prefix: `mackerel-agent-${options.format}-` });
  try {
    const stage = `${work}/root`;
    await stageFiles(stage, options);
    const output = `${options.outDir}/${packageFileName(options.format, options)}`;
    if (options.format === "deb") {
      await writeDebMetadata(stage, options);
      await tool("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", stage, output], options);
    } else {
      const arch = packageArch(options.target, "rpm");
      await tool("rpmbuild", [
        "-bb",
        "--quiet",
        "--target",
        arch,
        "--define",
        `_topdir ${work}/rpmbuild`,
        "--define",
        `stage ${stage}`,
        "--define",
        `pkg_version ${packageVersion(options.version)}`,
        "--define",
        `pkg_release ${PACKAGE_RELEASE}`,
        new URL(RPM_SPEC, REPO_ROOT).pathname,
      ], options);
      const built = `${work}/rpmbuild/RPMS/${arch}/${packageFileName("rpm", options)}`;
      await Deno.copyFile(built, output);
    }
    return output;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** Lays the package's files out under `stage` with their modes; every other directory 0755. */
async function stageFiles(stage: string, options: PackageOptions): Promise<void> {
  await Deno.mkdir(stage);
  await Deno.chmod(stage, 0o755);
  for (const entry of packageEntries(options.format)) {
    const target = `${stage}${entry.path}`;
    await mkdirs(stage, entry.source === undefined ? entry.path : dirname(entry.path));
    if (entry.source === undefined) {
      await Deno.chmod(target, entry.mode);
      continue;
    }
    const source = entry.source === "binary"
      ? options.binary
      : new URL(entry.source, REPO_ROOT).pathname;
    await Deno.copyFile(source, target);
    await Deno.chmod(target, entry.mode);
  }
}

/** `DEBIAN/`: control, conffiles, md5sums and the maintainer scripts. */
async function writeDebMetadata(stage: string, options: PackageOptions): Promise<void> {
  const sums: string[] = [];
  let bytes = 0;
  for (const entry of packageEntries("deb")) {
    if (entry.source === undefined) continue;
    const data = await Deno.readFile(`${stage}${entry.path}`);
    bytes += data.length;
    sums.push(`${createHash("md5").update(data).digest("hex")}  ${entry.path.slice(1)}\n`);
  }
  const debian = `${stage}/DEBIAN`;
  await Deno.mkdir(debian, { mode: 0o755 });
  const write = async (name: string, text: string, mode: number) => {
    await Deno.writeTextFile(`${debian}/${name}`, text);
    await Deno.chmod(`${debian}/${name}`, mode);
  };
  await write(
    "control",
    debControl({ ...options, installedSizeKiB: Math.ceil(bytes / 1024) }),
    0o644,
  );
  await write("conffiles", debConffiles(), 0o644);
  await write("md5sums", sums.join(""), 0o644);
  for (const name of DEB_SCRIPTS) {
    await write(name, await Deno.readTextFile(new URL(`packaging/deb/${name}`, REPO_ROOT)), 0o755);
  }
}

/** Creates `path` (absolute, inside `stage`) and its parents, each mode 0755 whatever the umask. */
async function mkdirs(stage: string, path: string): Promise<void> {
  let at = stage;
  for (const part of path.split("/").filter(Boolean)) {
    at = `${at}/${part}`;
    await Deno.mkdir(at).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
    await Deno.chmod(at, 0o755);
  }
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

/** Runs a packaging tool; its failure, or its absence, is one {@linkcode BuildError}. */
async function tool(
  command: string,
  args: readonly string[],
  options: { readonly signal?: AbortSignal },
): Promise<void> {
  let out;
  try {
    out = await new Deno.Command(command, {
      args: [...args],
      stdout: "piped",
      stderr: "piped",
      signal: options.signal,
    }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const from = command === "rpmbuild" ? "rpm" : "dpkg";
    throw new BuildError(`package: ${command} not found (apt-get install ${from})`);
  }
  if (!out.success) {
    const said = new TextDecoder().decode(out.stderr).trim();
    throw new BuildError(`package: ${command} failed (exit ${out.code}): ${said}`);
  }
}

/** What {@linkcode main} was asked to build. */
export interface PackageRequest {
  readonly formats: readonly PackageFormat[];
  readonly targets: readonly Target[];
  /** Where the binaries are, and where the packages and `SHA256SUMS` go. */
  readonly dist: string;
  /** Default: `deno.json`'s version. */
  readonly version?: string;
}

/** Reads the command line. Throws {@linkcode BuildError} on bad arguments. */
export function parsePackageArgs(args: readonly string[]): PackageRequest {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        format: { type: "string", multiple: true },
        target: { type: "string", multiple: true },
        dist: { type: "string", default: "dist" },
        version: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new BuildError(`package: ${(error as Error).message}`);
  }
  const formats = values.format ?? ["deb", "rpm"];
  for (const format of formats) {
    if (format !== "deb" && format !== "rpm") {
      throw new BuildError(`package: unknown format "${format}" (deb or rpm)`);
    }
  }
  const targets = values.target ?? PACKAGED_TARGETS;
  for (const target of targets) {
    if (!isTarget(target) || !PACKAGED_TARGETS.includes(target)) {
      throw new BuildError(
        `package: no package for target "${target}" (one of ${PACKAGED_TARGETS.join(", ")})`,
      );
    }
  }
  return {
    formats: formats as PackageFormat[],
    targets: targets as Target[],
    dist: values.dist,
    version: values.version,
  };
}

/** Builds every requested package from the binaries in `dist` and records them in `SHA256SUMS`. */
export async function main(request: PackageRequest): Promise<readonly string[]> {
  const version = request.version ?? await readReleaseVersion();
  const built: { digest: string; fileName: string }[] = [];
  for (const target of request.targets) {
    const binary = `${request.dist}/${binaryName(version, target)}`;
    if (!(await Deno.stat(binary).catch(() => undefined))?.isFile) {
      throw new BuildError(`package: no binary ${binary} (run scripts/compile.ts first)`);
    }
    for (const format of request.formats) {
      const path = await buildPackage({ format, target, version, binary, outDir: request.dist });
      const digest = createHash("sha256").update(await Deno.readFile(path)).digest("hex");
      built.push({ digest, fileName: path.slice(path.lastIndexOf("/") + 1) });
      console.log(`built ${path}`);
    }
  }
  // Rebuilt packages replace their old lines; the binaries' lines stay.
  const sumsPath = `${request.dist}/SHA256SUMS`;
  const names = new Set(built.map((b) => b.fileName));
  const kept = (await Deno.readTextFile(sumsPath).catch(() => "")).split("\n")
    .filter((line) => line !== "" && !names.has(line.slice(66)));
  await Deno.writeTextFile(
    sumsPath,
    kept.map((line) => `${line}\n`).join("") + formatSha256Sums(built),
  );
  console.log(`wrote ${sumsPath}`);
  return built.map((b) => `${request.dist}/${b.fileName}`);
}

if (import.meta.main) {
  try {
    await main(parsePackageArgs(Deno.args));
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(error.message);
    Deno.exit(1);
  }
}
