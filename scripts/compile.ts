/**
 * Builds the release executables: `dist/mackerel-agent-<version>-<target>[.exe]` and
 * `dist/SHA256SUMS`, with the version from `deno.json` and the git revision baked in.
 *
 * ```sh
 * deno run -A scripts/compile.ts                 # the host's target
 * deno run -A scripts/compile.ts --all           # every target of TARGETS
 * deno run -A scripts/compile.ts --target=aarch64-unknown-linux-gnu --out-dir=/tmp/out
 * ```
 *
 * `deno compile` downloads Deno's runtime for each target; where that download fails the script
 * stops with one line saying so and exits 1. The release workflow builds the binaries.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL as toFileUrl } from "node:url";
import { parseArgs } from "node:util";
import {
  binaryName,
  BUILD_DIR,
  buildEntrySources,
  BUNDLE_DIR,
  bundleArgs,
  bundleMain,
  compileArgs,
  downloadFailureLine,
  formatSha256Sums,
  type GraphModule,
  graphProblems,
  hostTarget,
  isRuntimeDownloadFailure,
  pickRevision,
  releaseVersion,
  SCANNED_MEDIA_TYPES,
  sourceProblems,
  type Target,
  TARGETS,
} from "./compile_targets.ts";

/** The repository root (this script's parent directory). */
export const REPO_ROOT: URL = new URL("../", import.meta.url);

/**
 * Modules allowed to locate a file through `import.meta`, and why a binary may miss that file.
 * `src/version.ts` reads `.git` beside the sources only when no revision was baked in.
 */
const IMPORT_META_ALLOWED: ReadonlySet<string> = new Set(["src/version.ts"]);

/** A failure with a one-line message for the operator: printed without a stack. */
export class BuildError extends Error {}

/** Runs `deno info --json <entry>` from the repository root and returns its modules. */
export async function moduleGraph(entry: string): Promise<{ modules: GraphModule[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) throw new BuildError(`deno info --json ${entry} failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/**
 * Every reason the graph of `entry` (relative to the repository root) would not work as a
 * compiled binary: {@linkcode graphProblems} plus {@linkcode sourceProblems} of each local module.
 */
export async function checkEntry(entry: string): Promise<readonly string[]> {
  const graph = await moduleGraph(entry);
  const problems = [...graphProblems(graph, REPO_ROOT)];
  for (const module of graph.modules) {
    if (!module.local || !SCANNED_MEDIA_TYPES.has(module.mediaType ?? "")) continue;
    if (!module.specifier.startsWith(REPO_ROOT.href)) continue;
    const path = module.specifier.slice(REPO_ROOT.href.length);
    const found = sourceProblems(path, await Deno.readTextFile(module.local));
    problems.push(
      ...found.filter((p) => !(IMPORT_META_ALLOWED.has(path) && p.endsWith("through import.meta"))),
    );
  }
  return problems;
}

/** The revision of the checkout (`git rev-parse HEAD`), else `GITHUB_SHA`, else `unknown`. */
export async function lookupRevision(): Promise<string> {
  let gitHead: string | undefined;
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "HEAD"],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (out.success) gitHead = new TextDecoder().decode(out.stdout);
  } catch (error) {
    // No git on PATH (a source tarball): fall back to the CI variable.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return pickRevision({ gitHead, githubSha: Deno.env.get("GITHUB_SHA") });
}

/** Reads the release version from the repository's `deno.json`. */
export async function readReleaseVersion(): Promise<string> {
  const text = await Deno.readTextFile(new URL("deno.json", REPO_ROOT));
  return releaseVersion(JSON.parse(text));
}

/** Options of {@linkcode build}. */
export interface BuildOptions {
  readonly targets: readonly Target[];
  /** Directory for the binaries and `SHA256SUMS`, relative to the working directory. */
  readonly outDir: string;
}

/**
 * Writes the generated entry for `revision` and bundles it into `dist/.build/bundle/`, the files
 * every binary is compiled from; returns the path of its `main.js`, relative to the repository root.
 */
export async function buildReleaseBundle(revision: string): Promise<string> {
  const buildDir = new URL(`${BUILD_DIR}/`, REPO_ROOT);
  await Deno.mkdir(buildDir, { recursive: true });
  const sources = buildEntrySources(revision);
  await Deno.writeTextFile(new URL("revision.ts", buildDir), sources.revision);
  await Deno.writeTextFile(new URL("main.ts", buildDir), sources.main);

  const entry = `${BUILD_DIR}/main.ts`;
  const problems = await checkEntry(entry);
  if (problems.length > 0) {
    throw new BuildError(
      `the module graph of ${entry} is unfit for deno compile:\n  ${problems.join("\n  ")}`,
    );
  }
  return await bundleOne({ entry, outDir: BUNDLE_DIR });
}

/** Builds the binaries for `targets` and writes `SHA256SUMS`; returns the files built. */
export async function build(options: BuildOptions): Promise<readonly string[]> {
  const version = await readReleaseVersion();
  const revision = await lookupRevision();
  const bundle = await buildReleaseBundle(revision);

  await Deno.mkdir(options.outDir, { recursive: true });
  const outDir = await Deno.realPath(options.outDir);
  console.log(`mackerel-agent ${version} (rev ${revision}) → ${outDir}`);
  const sums: { digest: string; fileName: string }[] = [];
  for (const target of options.targets) {
    const fileName = binaryName(version, target);
    const output = `${outDir}/${fileName}`;
    await compileOne({ target, output, entry: bundle });
    sums.push({ digest: await sha256File(output), fileName });
    console.log(`built ${output}`);
  }
  await Deno.writeTextFile(`${outDir}/SHA256SUMS`, formatSha256Sums(sums));
  console.log(`wrote ${outDir}/SHA256SUMS`);
  return sums.map((s) => `${outDir}/${s.fileName}`);
}

/**
 * Bundles `entry` (relative to the repository root) into `outDir` with `deno bundle`, emptied first
 * so no chunk of an earlier build is left; returns the path of its `main.js`. Throws
 * {@linkcode BuildError} when a file of the bundle is not in `main.js`'s module graph, which is
 * what `deno compile` embeds.
 */
export async function bundleOne(
  options: { readonly entry: string; readonly outDir: string },
): Promise<string> {
  const outDir = new URL(`${options.outDir.replace(/\/+$/, "")}/`, REPO_ROOT);
  await Deno.remove(outDir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const stderr = await denoFromRoot(bundleArgs(options));
  if (stderr !== undefined) throw new BuildError(`deno bundle ${options.entry} failed:\n${stderr}`);
  const main = bundleMain(options);
  const graph = await moduleGraph(main);
  const problems = [...graphProblems(graph, outDir)];
  const embedded = new Set(graph.modules.map((m) => m.specifier));
  for await (const file of Deno.readDir(outDir)) {
    if (!embedded.has(new URL(file.name, outDir).href)) {
      problems.push(`${file.name} is not in the module graph of ${main}`);
    }
  }
  if (problems.length > 0) {
    throw new BuildError(
      `the bundle in ${options.outDir} is unfit for deno compile:\n  ${problems.join("\n  ")}`,
    );
  }
  return main;
}

/**
 * Copies the bundle whose `main.js` is `main` (a path from the working directory, or a URL; every
 * file beside it) into the directory `dir`
 * and returns the copy's `main.js`: a bundle of its own for each agent measured side by side, whose
 * V8 code cache is kept per file.
 */
export async function copyBundle(main: string | URL, dir: string): Promise<string> {
  const from = new URL(".", main instanceof URL ? main : toFileUrl(resolve(main)));
  await Deno.mkdir(dir, { recursive: true });
  for await (const file of Deno.readDir(from)) {
    if (file.isFile) await Deno.copyFile(new URL(file.name, from), `${dir}/${file.name}`);
  }
  const name = (main instanceof URL ? main.pathname : main).replace(/^.*\//, "");
  return `${dir}/${name}`;
}

async function compileOne(
  options: { readonly target: Target; readonly output: string; readonly entry: string },
): Promise<void> {
  const stderr = await denoFromRoot(compileArgs(options));
  if (stderr === undefined) return;
  if (isRuntimeDownloadFailure(stderr)) throw new BuildError(downloadFailureLine(options.target));
  throw new BuildError(`deno compile for ${options.target} failed:\n${stderr}`);
}

/** Runs `deno <args>` in the repository root; `undefined` when it succeeds, else its stderr. */
async function denoFromRoot(args: readonly string[]): Promise<string | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: REPO_ROOT,
    // Plain text: the stderr is matched against download-failure messages.
    env: { NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "piped",
  }).output();
  return out.success ? undefined : new TextDecoder().decode(out.stderr).trimEnd();
}

async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The targets and output directory that `args` ask for. Throws {@linkcode BuildError} on bad args. */
export function parseBuildArgs(args: readonly string[]): BuildOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        all: { type: "boolean", default: false },
        target: { type: "string", multiple: true },
        "out-dir": { type: "string", default: "dist" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new BuildError(`compile: ${(error as Error).message}`);
  }
  const requested = parsed.target ?? [];
  for (const target of requested) {
    if (!(TARGETS as readonly string[]).includes(target)) {
      throw new BuildError(`compile: unknown target "${target}" (one of ${TARGETS.join(", ")})`);
    }
  }
  if (parsed.all && requested.length > 0) {
    throw new BuildError("compile: --all and --target exclude each other");
  }
  let targets: readonly Target[];
  try {
    targets = parsed.all ? TARGETS : requested.length > 0 ? requested as Target[] : [hostTarget()];
  } catch (error) {
    throw new BuildError(`compile: ${(error as Error).message}`);
  }
  return { targets, outDir: parsed["out-dir"] };
}

if (import.meta.main) {
  try {
    await build(parseBuildArgs(Deno.args));
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(error.message);
    Deno.exit(1);
  }
}
