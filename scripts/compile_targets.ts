/**
 * The pure parts of the release build: target triples, `deno compile` arguments, file names,
 * `SHA256SUMS` lines, the revision to bake in, the generated entry, and the module-graph rules a
 * compiled binary depends on.
 *
 * `scripts/compile.ts` does the I/O around them.
 *
 * @module
 */

/** Every target triple `deno compile` can build the agent for, in release order. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
  "aarch64-pc-windows-msvc",
] as const;

/** One of {@linkcode TARGETS}. */
export type Target = typeof TARGETS[number];

/**
 * The agent's permission flags inside the binary.
 *
 * `-A` because Deno lets only `--allow-all` open paths under `/proc` and `/sys` (see the README's
 * "Why -A"); plugins also need `--allow-run` and the API `--allow-net`.
 */
export const PERMISSION_FLAGS: readonly string[] = ["-A"];

/**
 * V8 flags baked into the binary (and given to `deno task start`). `--lite-mode` turns off V8's
 * optimizing compilers and allocates feedback lazily. The agent's JavaScript is a small share of
 * its CPU (most is syscalls and the runtime's native code), so a round costs about a tenth more
 * CPU, while the daemon holds 4.5 MiB less at the real pace, 11 MiB less at `-interval 1` and
 * 14-20 MiB less while draining a backlog (`deno task compare`, `scripts/drain_backlog.ts`).
 */
export const V8_FLAGS = "--lite-mode";

/** Whether `value` names a target of {@linkcode TARGETS}. */
export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

/** The host's target (`Deno.build.target` by default); throws when Deno cannot build for it. */
export function hostTarget(build: string = Deno.build.target): Target {
  if (!isTarget(build)) {
    throw new Error(`no release target for this host (${build}); use --target or --all`);
  }
  return build;
}

/**
 * The release version from `deno.json`'s parsed content, without a leading `v`.
 *
 * Unlike the agent's `VERSION`, a pre-release suffix stays, so `1.2.0-rc.1` binaries do not take
 * the final release's file names.
 */
export function releaseVersion(denoJson: unknown): string {
  const raw = (denoJson as { version?: unknown } | null)?.version;
  if (typeof raw !== "string") throw new Error(`deno.json: "version" is missing or not a string`);
  const version = raw.replace(/^v/, "");
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
    throw new Error(`deno.json: "version" ${JSON.stringify(raw)} is not MAJOR.MINOR.PATCH`);
  }
  return version;
}

/** `mackerel-agent-<version>-<target>`, with `.exe` for Windows. */
export function binaryName(version: string, target: Target): string {
  return `mackerel-agent-${version}-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/**
 * The arguments of `deno bundle` that turn the build entry into the JavaScript files that are
 * compiled: `main.js` in `outDir`, and one chunk per module set that is only imported dynamically.
 *
 * Bundled rather than about 150 modules (with their per-module source maps and loader records): 5-8
 * MiB less RSS in the daemon, side by side with the sources (`deno task compare -- --bundle`).
 * Split (`--code-splitting`), so what a running daemon does not need is a chunk it never loads:
 * the OTLP exporter (protobuf and `node:http2`) while `[otlp]` is off. Minified: the agent holds
 * less source and fewer, shorter names; a bug's stack trace names minified functions, at the same
 * lines and columns of the chunk as the build left them in `dist/.build/bundle/`.
 * Bundled for the `browser` platform: of an npm package that has a build for Node and one for
 * browsers, the browser build is the one that imports no `node:` module (LogTape's `node` build
 * imports `node:util`, which loads Deno's Node polyfills into the daemon for a function the agent
 * never calls). `node:` imports of our own stay imports, as for `deno`.
 */
export function bundleArgs(
  options: { readonly entry: string; readonly outDir: string },
): readonly string[] {
  return [
    "bundle",
    "--quiet",
    "--platform=browser",
    "--minify",
    "--code-splitting",
    "--outdir",
    options.outDir,
    options.entry,
  ];
}

/** The file of a {@linkcode bundleArgs} output that the binary runs: `main.js` for `main.ts`. */
export function bundleMain(options: { readonly entry: string; readonly outDir: string }): string {
  const base = options.entry.replace(/^.*[\\/]/, "").replace(/\.[cm]?[jt]sx?$/, "");
  return `${options.outDir.replace(/[\\/]+$/, "")}/${base}.js`;
}

/** The arguments of `deno compile` for one target. */
export function compileArgs(options: {
  readonly entry: string;
  readonly output: string;
  readonly target: Target;
}): readonly string[] {
  // No type check here: the test task (run before every release build) checks the whole tree,
  // and checking once per target would only repeat it six times.
  return [
    "compile",
    ...PERMISSION_FLAGS,
    `--v8-flags=${V8_FLAGS}`,
    "--no-check",
    "--target",
    options.target,
    "--output",
    options.output,
    options.entry,
  ];
}

/** One `SHA256SUMS` line as `sha256sum` writes it: digest, two spaces, file name. */
export function sha256sumsLine(digest: string, fileName: string): string {
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`not a SHA-256 hex digest: ${digest}`);
  if (/[\n\\]/.test(fileName)) throw new Error(`file name unfit for SHA256SUMS: ${fileName}`);
  return `${digest}  ${fileName}`;
}

/** A whole `SHA256SUMS` file, lines in the given order, newline-terminated. */
export function formatSha256Sums(
  entries: readonly { readonly digest: string; readonly fileName: string }[],
): string {
  return entries.map((e) => sha256sumsLine(e.digest, e.fileName) + "\n").join("");
}

/** The first 7 characters of a git object name (`git rev-parse HEAD` output), or undefined. */
export function parseRevision(text: string | undefined): string | undefined {
  const sha = text?.trim().toLowerCase();
  return sha && /^[0-9a-f]{7,64}$/.test(sha) ? sha.slice(0, 7) : undefined;
}

/**
 * The revision to bake in: the checkout's `HEAD`, else `GITHUB_SHA` (a CI build without `.git`),
 * else `unknown`, as upstream prints when the VCS revision is absent.
 */
export function pickRevision(sources: {
  readonly gitHead?: string;
  readonly githubSha?: string;
}): string {
  return parseRevision(sources.gitHead) ?? parseRevision(sources.githubSha) ?? "unknown";
}

/** Where the generated entry lives, relative to the repository root (inside the ignored dist/). */
export const BUILD_DIR = "dist/.build";

/** Where the release bundle is written: `main.js` and its chunks, every one embedded by compile. */
export const BUNDLE_DIR = `${BUILD_DIR}/bundle`;

/**
 * The generated modules that make the compiled binary's entry point.
 *
 * `revision.ts` sets `globalThis.MACKEREL_AGENT_REVISION`, which `src/version.ts` reads. It must be
 * a module of its own, imported first: ES modules evaluate their imports in order before their
 * own body, so an assignment in the entry itself would run after `src/version.ts` had read the
 * global. The entry calls `run` itself because `main.ts` runs only as the main module
 * (`import.meta.main`). Both imports are static, so `deno compile` embeds the whole graph.
 */
export function buildEntrySources(revision: string): {
  readonly revision: string;
  readonly main: string;
} {
  const header =
    "// Generated by scripts/compile.ts for `deno compile`; rewritten on every build.\n";
  return {
    revision:
      `${header}(globalThis as { MACKEREL_AGENT_REVISION?: string }).MACKEREL_AGENT_REVISION = ${
        JSON.stringify(revision)
      };\n`,
    main: `${header}import "./revision.ts";\nimport { run } from "../../src/cli/run.ts";\n\n` +
      `Deno.exit(await run(Deno.args));\n`,
  };
}

/**
 * Whether `deno compile`'s stderr says it could not download its runtime (denort).
 *
 * `deno compile` fetches the runtime for each target from the network; these are the messages of
 * that fetch failing (DNS, refused or reset connection, TLS, timeout, HTTP error).
 */
export function isRuntimeDownloadFailure(stderr: string): boolean {
  const aboutRuntime = /Setting up base binary|denort|dl\.deno\.land/i.test(stderr);
  const network =
    /error sending request|dns error|failed to lookup address|connection (refused|reset)|timed out|tcp connect|client error|certificate|network is unreachable|download could not be found|failed downloading|status code [45]\d\d/i
      .test(stderr);
  return aboutRuntime && network;
}

/** The one line printed when the runtime cannot be downloaded. */
export function downloadFailureLine(target: Target): string {
  return `cannot download Deno's runtime for ${target} (this machine has no internet access); ` +
    `binaries are built by .github/workflows/release.yml`;
}

/** The part of one `deno info --json` module the graph rules read. */
export interface GraphModule {
  readonly specifier: string;
  readonly kind?: string;
  readonly local?: string;
  readonly mediaType?: string;
  readonly error?: string;
  readonly dependencies?: readonly {
    readonly specifier: string;
    readonly isDynamic?: boolean;
    /** Where the import resolves to, when it does. */
    readonly code?: { readonly specifier: string };
  }[];
}

/**
 * What in a `deno info --json` graph a compiled binary would miss: unresolved modules, remote or
 * out-of-tree modules, and dynamic imports. Empty when the graph is fit to compile.
 *
 * Only local `file:` modules under `root`, `npm:` packages and `node:` built-ins are embedded
 * reliably. A dynamic import is embedded only when it is a literal path to a module under `root`:
 * `deno bundle` makes that module a chunk of the bundle, imported by a literal path that `deno
 * compile` follows (`[otlp]` loads that way); or a `node:` built-in, which is part of the runtime.
 */
export function graphProblems(
  info: { readonly modules: readonly GraphModule[] },
  root: URL,
): readonly string[] {
  const problems: string[] = [];
  for (const module of info.modules) {
    const { specifier } = module;
    if (module.error) {
      problems.push(`unresolved module ${specifier}: ${module.error}`);
      continue;
    }
    if (module.kind === "npm" || module.kind === "node") continue;
    if (!specifier.startsWith("file:")) {
      problems.push(`remote module ${specifier} (only local files and npm: packages are allowed)`);
    } else if (!specifier.startsWith(root.href)) {
      problems.push(`module ${specifier} lies outside the repository ${root.href}`);
    }
    for (const dependency of module.dependencies ?? []) {
      const target = dependency.code?.specifier ?? "";
      const embedded = target.startsWith(root.href) || target.startsWith("node:");
      if (dependency.isDynamic && !embedded) {
        problems.push(`dynamic import of "${dependency.specifier}" in ${specifier}`);
      }
    }
  }
  return problems;
}

/** The media types whose source {@linkcode sourceProblems} scans. */
export const SCANNED_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "TypeScript",
  "JavaScript",
  "TSX",
  "JSX",
  "Mts",
  "Mjs",
  "Cts",
  "Cjs",
]);

/**
 * What in one module's source a compiled binary would miss and `deno info` cannot see: an
 * `import()` of a computed specifier, a worker, and a file located through `import.meta` (a data
 * file beside the sources, which `deno compile` does not embed without `--include`).
 *
 * `path` only labels the problems, as `path:line`.
 */
export function sourceProblems(path: string, source: string): readonly string[] {
  const problems: string[] = [];
  const lines = stripComments(source).split("\n");
  lines.forEach((line, index) => {
    const at = `${path}:${index + 1}`;
    // A literal specifier is in deno info's graph (isDynamic) and judged there.
    if (/(^|[^\w.$])import\s*\(\s*(?!["'])/.test(line)) {
      problems.push(`${at}: import() of a computed specifier`);
    }
    if (/\bnew\s+Worker\s*\(/.test(line)) problems.push(`${at}: a Worker module`);
    if (/\bimport\.meta\.(url|dirname|filename|resolve)\b/.test(line)) {
      problems.push(`${at}: a file located through import.meta`);
    }
  });
  return problems;
}

/** Blanks block and line comments, keeping line breaks so line numbers still match. */
function stripComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " "))
    // `//` after a colon is a URL inside a string, not a comment.
    .replace(/(^|[^:\\])\/\/.*$/gm, "$1");
}
