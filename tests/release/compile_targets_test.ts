import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import {
  binaryName,
  buildEntrySources,
  BUNDLE_DIR,
  bundleArgs,
  bundleMain,
  compileArgs,
  downloadFailureLine,
  formatSha256Sums,
  graphProblems,
  hostTarget,
  isRuntimeDownloadFailure,
  parseRevision,
  pickRevision,
  releaseVersion,
  sha256sumsLine,
  sourceProblems,
  TARGETS,
  V8_FLAGS,
} from "../../scripts/compile_targets.ts";
import { VERSION } from "../../src/version.ts";
import { hasCommand } from "../support/commands.ts";
import { withTempDir } from "../support/temp_dir.ts";

Deno.test("compile_targets: six targets, x86_64 and aarch64 of linux-gnu, darwin and windows", () => {
  assert.deepEqual(TARGETS, [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
  ]);
});

Deno.test("compile_targets: every target is one deno compile accepts", async () => {
  // deno compile lists its possible --target values when given a wrong one.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["compile", "--target", "no-such-target", "main.ts"],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const accepted = stderr.match(/possible values: (.+)/)?.[1].split(", ").map((s) => s.trim());
  assert.ok(accepted, stderr);
  assert.deepEqual([...accepted].sort(), [...TARGETS].sort());
});

Deno.test("compile_targets: the host target is Deno.build.target; an unknown host is refused", () => {
  assert.equal(hostTarget(), Deno.build.target);
  assert.equal(hostTarget("aarch64-apple-darwin"), "aarch64-apple-darwin");
  assert.throws(
    () => hostTarget("x86_64-unknown-linux-musl"),
    /no release target for this host \(x86_64-unknown-linux-musl\)/,
  );
});

Deno.test("compile_targets: binary names carry version, target and .exe for Windows only", () => {
  assert.equal(
    binaryName("0.1.0", "x86_64-unknown-linux-gnu"),
    "mackerel-agent-0.1.0-x86_64-unknown-linux-gnu",
  );
  assert.equal(
    binaryName("0.1.0", "aarch64-apple-darwin"),
    "mackerel-agent-0.1.0-aarch64-apple-darwin",
  );
  assert.equal(
    binaryName("1.2.0-rc.1", "x86_64-pc-windows-msvc"),
    "mackerel-agent-1.2.0-rc.1-x86_64-pc-windows-msvc.exe",
  );
  assert.equal(
    binaryName("0.1.0", "aarch64-pc-windows-msvc"),
    "mackerel-agent-0.1.0-aarch64-pc-windows-msvc.exe",
  );
});

Deno.test("compile_targets: deno compile gets -A, the target, the output and the entry", () => {
  assert.deepEqual(
    compileArgs({
      entry: "dist/.build/main.ts",
      output: "/out/mackerel-agent-0.1.0-aarch64-unknown-linux-gnu",
      target: "aarch64-unknown-linux-gnu",
    }),
    [
      "compile",
      "-A",
      "--v8-flags=--lite-mode",
      "--no-check",
      "--target",
      "aarch64-unknown-linux-gnu",
      "--output",
      "/out/mackerel-agent-0.1.0-aarch64-unknown-linux-gnu",
      "dist/.build/main.ts",
    ],
  );
});

Deno.test("compile_targets: deno bundle splits and minifies into a directory whose main.js is compiled", () => {
  const options = { entry: "dist/.build/main.ts", outDir: BUNDLE_DIR };
  assert.deepEqual(bundleArgs(options), [
    "bundle",
    "--quiet",
    "--platform=browser",
    "--minify",
    "--code-splitting",
    "--outdir",
    "dist/.build/bundle",
    "dist/.build/main.ts",
  ]);
  assert.equal(bundleMain(options), "dist/.build/bundle/main.js");
  assert.equal(bundleMain({ entry: "main.ts", outDir: "/tmp/b/" }), "/tmp/b/main.js");
  assert.equal(bundleMain({ entry: "src\\cli\\agent.mts", outDir: "out" }), "out/agent.js");
});

Deno.test("compile_targets: deno task start and once run with the V8 flags the binary has", () => {
  // What a newcomer runs and what ships must cost the same; a flag added to one goes to both.
  for (const task of ["start", "once"] as const) {
    assert.match(denoJson.tasks[task], new RegExp(`^deno run -A --v8-flags=${V8_FLAGS} main\\.ts`));
  }
});

Deno.test("compile_targets: the release version is deno.json's, without a leading v", () => {
  assert.equal(releaseVersion(denoJson), denoJson.version.replace(/^v/, ""));
  // Without a pre-release suffix it is also the version the agent reports.
  if (!denoJson.version.includes("-")) assert.equal(releaseVersion(denoJson), VERSION);
  assert.equal(releaseVersion({ version: "v2.3.4" }), "2.3.4");
  assert.equal(releaseVersion({ version: "1.2.0-rc.1" }), "1.2.0-rc.1");
  assert.throws(() => releaseVersion({}), /deno\.json: "version" is missing or not a string/);
  assert.throws(() => releaseVersion({ version: "1.2" }), /"1\.2" is not MAJOR\.MINOR\.PATCH/);
  assert.throws(() => releaseVersion(null), /missing/);
});

Deno.test("compile_targets: SHA256SUMS lines are digest, two spaces, name, as sha256sum -c reads", () => {
  const a = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const b = "a".repeat(64);
  assert.equal(sha256sumsLine(a, "x"), `${a}  x`);
  assert.equal(
    formatSha256Sums([
      { digest: a, fileName: "mackerel-agent-0.1.0-x86_64-unknown-linux-gnu" },
      { digest: b, fileName: "mackerel-agent-0.1.0-x86_64-pc-windows-msvc.exe" },
    ]),
    `${a}  mackerel-agent-0.1.0-x86_64-unknown-linux-gnu\n` +
      `${b}  mackerel-agent-0.1.0-x86_64-pc-windows-msvc.exe\n`,
  );
  assert.equal(formatSha256Sums([]), "");
  assert.throws(() => sha256sumsLine("ABC", "x"), /not a SHA-256 hex digest: ABC/);
  assert.throws(() => sha256sumsLine(a, "a\nb"), /unfit for SHA256SUMS/);
});

const HAS_SHA256SUM = hasCommand("sha256sum");

Deno.test({
  name: "compile_targets: a SHA256SUMS line passes sha256sum -c" +
    (HAS_SHA256SUM ? "" : " (skipped: sha256sum is not installed)"),
  ignore: !HAS_SHA256SUM,
}, async () => {
  await withTempDir("compile_targets_test_", async (dir) => {
    const bytes = new TextEncoder().encode("agent binary\n");
    await Deno.writeFile(`${dir}/mackerel-agent-0.1.0-x86_64-unknown-linux-gnu`, bytes);
    const digest = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
      (x) => x.toString(16).padStart(2, "0"),
    ).join("");
    await Deno.writeTextFile(
      `${dir}/SHA256SUMS`,
      formatSha256Sums([{ digest, fileName: "mackerel-agent-0.1.0-x86_64-unknown-linux-gnu" }]),
    );
    const out = await new Deno.Command("sha256sum", { args: ["-c", "SHA256SUMS"], cwd: dir })
      .output();
    assert.equal(
      new TextDecoder().decode(out.stdout),
      "mackerel-agent-0.1.0-x86_64-unknown-linux-gnu: OK\n",
    );
    assert.equal(out.code, 0);
  });
});

Deno.test("compile_targets: the revision is the checkout's HEAD, else GITHUB_SHA, else unknown", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";
  assert.equal(parseRevision(`${sha}\n`), "0123456");
  assert.equal(parseRevision("ABCDEF0"), "abcdef0");
  assert.equal(parseRevision("fatal: not a git repository"), undefined);
  assert.equal(parseRevision("abc12"), undefined);
  assert.equal(parseRevision(undefined), undefined);
  assert.equal(pickRevision({ gitHead: `${sha}\n`, githubSha: "f".repeat(40) }), "0123456");
  assert.equal(pickRevision({ githubSha: "f".repeat(40) }), "fffffff");
  assert.equal(pickRevision({ gitHead: "", githubSha: "" }), "unknown");
  assert.equal(pickRevision({}), "unknown");
});

Deno.test("compile_targets: the generated entry sets the revision before the agent's modules load", () => {
  const sources = buildEntrySources('abc1234"');
  assert.equal(
    sources.revision.split("\n")[1],
    `(globalThis as { MACKEREL_AGENT_REVISION?: string }).MACKEREL_AGENT_REVISION = "abc1234\\"";`,
  );
  const imports = sources.main.split("\n").filter((line) => line.startsWith("import"));
  assert.deepEqual(imports, [
    `import "./revision.ts";`,
    `import { run } from "../../src/cli/run.ts";`,
  ]);
  assert.match(sources.main, /\nDeno\.exit\(await run\(Deno\.args\)\);\n$/);
});

Deno.test("compile_targets: runtime download failures are told from other compile errors", () => {
  const dns = `Compile dist/.build/main.ts to dist/x
Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'dist/x.tmp-1'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)
    3: dns error`;
  assert.equal(isRuntimeDownloadFailure(dns), true);
  assert.equal(
    isRuntimeDownloadFailure(
      "error: Setting up base binary.\n  tcp connect error: Connection refused (os error 111)",
    ),
    true,
  );
  assert.equal(
    isRuntimeDownloadFailure(
      `error: Module not found "file:///work/src/cli/run.ts".\n    at file:///work/dist/.build/main.ts:3:21`,
    ),
    false,
  );
  assert.equal(
    isRuntimeDownloadFailure("error: npm package not found: dns error resolving registry"),
    false,
  );
  assert.equal(
    downloadFailureLine("aarch64-apple-darwin"),
    "cannot download Deno's runtime for aarch64-apple-darwin (this machine has no internet access); " +
      "binaries are built by .github/workflows/release.yml",
  );
});

Deno.test("compile_targets: graph problems name unresolved, remote, outside and dynamic modules", () => {
  const root = new URL("file:///repo/");
  assert.deepEqual(
    graphProblems({
      modules: [
        { specifier: "file:///repo/main.ts", kind: "esm", dependencies: [{ specifier: "./a.ts" }] },
        { specifier: "file:///repo/deno.json", kind: "asserted" },
        { specifier: "npm:/smol-toml@1.9.1", kind: "npm" },
        { specifier: "node:os", kind: "node" },
      ],
    }, root),
    [],
  );
  assert.deepEqual(
    graphProblems({
      modules: [
        {
          specifier: "file:///repo/src/a.ts",
          kind: "esm",
          dependencies: [
            { specifier: "./b.ts", isDynamic: true },
            { specifier: "./c.ts" },
            // A literal path in the repository: a chunk of the bundle, embedded by compile.
            { specifier: "./d.ts", isDynamic: true, code: { specifier: "file:///repo/src/d.ts" } },
            // A built-in of the runtime.
            { specifier: "node:process", isDynamic: true, code: { specifier: "node:process" } },
            {
              specifier: "../../x.ts",
              isDynamic: true,
              code: { specifier: "file:///elsewhere/x.ts" },
            },
          ],
        },
        {
          specifier: "file:///repo/src/gone.ts",
          error: 'Module not found "file:///repo/src/gone.ts".',
        },
        { specifier: "https://example.com/mod.ts", kind: "esm" },
        { specifier: "file:///elsewhere/x.ts", kind: "esm" },
      ],
    }, root),
    [
      'dynamic import of "./b.ts" in file:///repo/src/a.ts',
      'dynamic import of "../../x.ts" in file:///repo/src/a.ts',
      'unresolved module file:///repo/src/gone.ts: Module not found "file:///repo/src/gone.ts".',
      "remote module https://example.com/mod.ts (only local files and npm: packages are allowed)",
      "module file:///elsewhere/x.ts lies outside the repository file:///repo/",
    ],
  );
});

Deno.test("compile_targets: source problems find computed imports, workers and import.meta files", () => {
  const source = [
    `import { x } from "./x.ts";`,
    `type T = import("./types.ts").T;`,
    `const mod = await import(name);`,
    `const w = new Worker(new URL("./w.ts", import.meta.url));`,
    `const data = Deno.readTextFileSync(new URL("./data.json", import.meta.url));`,
    `// await import(commented) and import.meta.url in a comment`,
    `/* import(block) */ const url = "https://api.mackerelio.com"; // import.meta.dirname`,
    `if (import.meta.main) run();`,
  ].join("\n");
  assert.deepEqual(sourceProblems("src/a.ts", source), [
    "src/a.ts:3: import() of a computed specifier",
    "src/a.ts:4: a Worker module",
    "src/a.ts:4: a file located through import.meta",
    "src/a.ts:5: a file located through import.meta",
  ]);
});
