import assert from "node:assert/strict";
import {
  BuildError,
  buildReleaseBundle,
  checkEntry,
  lookupRevision,
  parseBuildArgs,
  REPO_ROOT,
} from "../../scripts/compile.ts";
import {
  binaryName,
  buildEntrySources,
  compileArgs,
  downloadFailureLine,
  hostTarget,
  releaseVersion,
  TARGETS,
} from "../../scripts/compile_targets.ts";
import denoJson from "../../deno.json" with { type: "json" };

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function run(args: readonly string[], signal?: AbortSignal) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function gitHead(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd: REPO_ROOT })
      .output();
    return out.success ? decode(out.stdout).trim().slice(0, 7) : undefined;
  } catch {
    return undefined;
  }
}

Deno.test("compile: main.ts's module graph has only local and npm modules, no dynamic import", async () => {
  assert.deepEqual(await checkEntry("main.ts"), []);
});

Deno.test("compile: the revision is the checkout's HEAD", async () => {
  assert.equal(await lookupRevision(), (await gitHead()) ?? "unknown");
});

Deno.test("compile: the generated entry bakes its revision into the version line", async () => {
  // Beside dist/.build, at the same depth, so the entry's relative imports hold.
  const dir = new URL(`dist/.build-test-${crypto.randomUUID()}/`, REPO_ROOT);
  await Deno.mkdir(dir, { recursive: true });
  try {
    const sources = buildEntrySources("feedfacecafe");
    await Deno.writeTextFile(new URL("revision.ts", dir), sources.revision);
    await Deno.writeTextFile(new URL("main.ts", dir), sources.main);
    const entry = new URL("main.ts", dir).pathname.slice(REPO_ROOT.pathname.length);
    assert.deepEqual(await checkEntry(entry), []);
    const out = await run(["run", "-A", entry, "version"]);
    assert.equal(out.code, 0, out.stderr);
    const version = releaseVersion(denoJson).split("-")[0];
    assert.match(
      out.stdout,
      new RegExp(`^mackerel-agent version ${version.replaceAll(".", "\\.")} \\(rev feedfac\\) \\[`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile: arguments select the host, listed targets or all six", () => {
  assert.deepEqual(parseBuildArgs([]), { targets: [hostTarget()], outDir: "dist" });
  assert.deepEqual(parseBuildArgs(["--all"]), { targets: TARGETS, outDir: "dist" });
  assert.deepEqual(
    parseBuildArgs(["--target=aarch64-apple-darwin", "--target", "x86_64-pc-windows-msvc"]),
    { targets: ["aarch64-apple-darwin", "x86_64-pc-windows-msvc"], outDir: "dist" },
  );
  assert.deepEqual(parseBuildArgs(["--out-dir=/tmp/x"]).outDir, "/tmp/x");
  assert.throws(() => parseBuildArgs(["--target=mips"]), BuildError);
  assert.throws(
    () => parseBuildArgs(["--all", "--target=aarch64-apple-darwin"]),
    /--all and --target exclude each other/,
  );
  assert.throws(() => parseBuildArgs(["--bogus"]), /^Error: compile: Unknown option '--bogus'/);
});

Deno.test("compile: a bad argument stops with one line and exit 1", async () => {
  const out = await run(["run", "-A", "scripts/compile.ts", "--target=mips"]);
  assert.equal(out.code, 1);
  assert.equal(
    out.stderr,
    `compile: unknown target "mips" (one of ${TARGETS.join(", ")})\n`,
  );
});

Deno.test("compile: the host build succeeds, or stops with one line when the runtime cannot be downloaded", async () => {
  const outDir = await Deno.makeTempDir();
  try {
    // Bounded: a download that hangs must not hang the suite.
    const out = await run(
      ["run", "-A", "scripts/compile.ts", `--out-dir=${outDir}`],
      AbortSignal.timeout(180_000),
    );
    const target = hostTarget();
    const name = binaryName(releaseVersion(denoJson), target);
    if (out.code !== 0) {
      // This machine: no internet, so no runtime.
      assert.equal(out.stderr, `${downloadFailureLine(target)}\n`);
      assert.equal(out.code, 1);
      assert.deepEqual([...Deno.readDirSync(outDir)].map((e) => e.name), []);
      return;
    }
    // A machine with internet (the CI runners): a working binary with the revision baked in.
    const sums = await Deno.readTextFile(`${outDir}/SHA256SUMS`);
    assert.match(sums, new RegExp(`^[0-9a-f]{64}  ${name.replaceAll(".", "\\.")}\n$`));
    const version = await new Deno.Command(`${outDir}/${name}`, { args: ["version"] }).output();
    assert.equal(version.code, 0);
    assert.match(decode(version.stdout), new RegExp(`\\(rev ${(await gitHead()) ?? "unknown"}\\)`));
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test("compile: the binary embeds the release bundle alone, no npm package", async () => {
  const bundle = await buildReleaseBundle(await lookupRevision());
  const outDir = await Deno.makeTempDir();
  try {
    // deno compile lists what it embeds as it writes the binary. DENORT_BIN stands in for the
    // runtime it would download (this Deno, which does not run the payload): the list is the same.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...compileArgs({ entry: bundle, output: `${outDir}/agent`, target: hostTarget() })],
      cwd: REPO_ROOT,
      env: { NO_COLOR: "1", DENORT_BIN: Deno.execPath() },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const text = decode(out.stdout) + decode(out.stderr);
    assert.equal(out.code, 0, text);
    const listing = text.slice(text.indexOf("Embedded Files"), text.indexOf("\nFiles:"));
    assert.match(listing, /\n\S*── dist[\\/]\.build[\\/]bundle[\\/]\* \([\d.]+KB\)\n*$/, text);
    assert.doesNotMatch(listing, /node_modules|npm/, text);
    // The daemon's code and every chunk: well under a megabyte (no npm snapshot from the lock file).
    assert.ok(Number(/\nFiles: ([\d.]+)KB\n/.exec(text)?.[1]) < 1024, text);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});
