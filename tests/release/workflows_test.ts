import assert from "node:assert/strict";
import { parseLintOutput, VALIDATOR } from "../../scripts/validate_workflows.ts";
import { hasCommand } from "../support/commands.ts";
import { withTempDir } from "../support/temp_dir.ts";

const ROOT = new URL("../../", import.meta.url);
const WORKFLOWS = new URL(".github/workflows/", ROOT);

const HAS_NPX = hasCommand("npx");

async function validate(args: readonly string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-run=npx", "scripts/validate_workflows.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test({
  name: `workflows: ${VALIDATOR} fails a broken copy of release.yml and passes ours` +
    (HAS_NPX ? "" : " (skipped: npx is not installed)"),
  ignore: !HAS_NPX,
}, async () => {
  await withTempDir("workflows_test_", async (dir) => {
    const ours = await Deno.readTextFile(new URL("release.yml", WORKFLOWS));
    // Two mistakes a first tag would meet: a job that needs a job that does not exist, and a
    // misspelled job key.
    const broken = ours.replace(
      "needs: [build, smoke, packages]",
      "needs: [build, smoke-test, packages]",
    )
      .replace("timeout-minutes: 15\n    permissions:", "timeout-minute: 15\n    permissions:");
    assert.notEqual(broken, ours);
    await Deno.writeTextFile(`${dir}/release.yml`, broken);
    await Deno.copyFile(new URL("ci.yml", WORKFLOWS), `${dir}/ci.yml`);

    // One run over both the broken copy and the untouched ci.yml, as the test task runs it.
    const out = await validate([dir]);
    assert.equal(out.code, 1, out.stdout + out.stderr);
    const verdicts = out.stdout.split("\n").filter((l) => /^(ok|invalid) /.test(l));
    assert.deepEqual(verdicts, [`ok       ${dir}/ci.yml`, `invalid  ${dir}/release.yml`]);
    assert.match(out.stdout, /job "release" needs job "smoke-test" which does not exist/);
    assert.match(out.stdout, /unexpected key "timeout-minute" for "job" section/);

    const ok = await validate([]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(
      ok.stdout,
      "ok       .github/workflows/ci.yml\nok       .github/workflows/os.yml\n" +
        "ok       .github/workflows/release.yml\n",
    );
  });
});

Deno.test("workflows: the linter's report is read per file", () => {
  const report = parseLintOutput([
    "Checking 3 workflow file(s)...",
    'a.yml:5:3 job "test" needs job "x" which does not exist in this workflow [ job-needs ]',
    "  3 |   push:",
    "> 5 |   test:",
    'a.yml:9:23 property "foo" is not defined in object type {} [ expression ]',
    "b c.yaml:1:0 could not parse as YAML: yaml: line 1 [ syntax-check ]",
  ].join("\n"));
  assert.equal(report.checked, 3);
  assert.deepEqual([...report.findings.keys()], ["a.yml", "b c.yaml"]);
  assert.equal(report.findings.get("a.yml")?.length, 2);
  assert.deepEqual(parseLintOutput("No workflow files found to lint"), {
    checked: 0,
    findings: new Map(),
  });
});

Deno.test("workflows: every setup-deno pins the project's Deno version", async () => {
  const pinned = (await Deno.readTextFile(new URL(".ci/deno-version", ROOT)))
    .match(/^DENO_VERSION=(.+)$/m)?.[1];
  const release = await Deno.readTextFile(new URL("release.yml", WORKFLOWS));
  const os = await Deno.readTextFile(new URL("os.yml", WORKFLOWS));
  const ci = await Deno.readTextFile(new URL("ci.yml", WORKFLOWS));
  // release.yml and os.yml: every setup-deno takes the workflow's DENO_VERSION.
  for (const [workflow, setups] of [[release, 3], [os, 2]] as const) {
    assert.deepEqual(workflow.match(/^ {2}DENO_VERSION: (.+)$/m)?.[1], `v${pinned}`);
    const rests = workflow.split("denoland/setup-deno@v2").slice(1);
    assert.equal(rests.length, setups);
    for (const rest of rests) {
      assert.match(rest, /^\n\s+with:\n\s+deno-version: \$\{\{ env\.DENO_VERSION \}\}\n/);
    }
  }
  assert.match(ci, /denoland\/setup-deno@v2\n\s+with:\n\s+deno-version: v(.+)\n/);
  assert.equal(ci.match(/deno-version: v(.+)\n/)?.[1], pinned);
});

Deno.test("workflows: release runs on v* tags and smoke-tests the four native runners", async () => {
  const release = await Deno.readTextFile(new URL("release.yml", WORKFLOWS));
  assert.match(release, /^on:\n {2}push:\n {4}tags: \["v\*"\]\n/m);
  const runners = [...release.matchAll(/^ {10}- runner: (.+)$/gm)].map((m) => m[1]);
  assert.deepEqual(runners, [
    "ubuntu-latest",
    "ubuntu-24.04-arm",
    "macos-latest",
    "windows-latest",
  ]);
  assert.match(
    release,
    /deno run -A scripts\/compile\.ts --all\n.*\n\s+run: deno run -A scripts\/windows_bundle\.ts\n/,
  );
  assert.match(release, /uses: actions\/attest-build-provenance@v2\n/);
  assert.match(release, /\n {6}id-token: write\n {6}attestations: write\n/);
});

Deno.test("workflows: release packages the Linux binaries, tries them under systemd, publishes them", async () => {
  const release = await Deno.readTextFile(new URL("release.yml", WORKFLOWS));
  assert.match(
    release,
    /apt-get install -y -qq --no-install-recommends rpm\n\s+deno run -A scripts\/package\.ts\n/,
  );
  // The .deb names start with `mackerel-agent_`, outside the binaries' `mackerel-agent-*`.
  assert.match(
    release,
    /path: \|\n\s+dist\/mackerel-agent-\*\n\s+dist\/mackerel-agent_\*\.deb\n\s+dist\/SHA256SUMS\n/,
  );
  assert.match(
    release,
    /subject-path: \|\n\s+dist\/mackerel-agent-\*\n\s+dist\/mackerel-agent_\*\.deb\n/,
  );
  assert.equal(
    [...release.matchAll(/dist\/mackerel-agent-\* dist\/mackerel-agent_\*\.deb dist\/SHA256SUMS/g)]
      .length,
    2,
  );
  assert.match(release, /\n {2}release:\n {4}needs: \[build, smoke, packages\]\n/);
  // The packages job checks the unit's restart policy as systemd applies it.
  const job = release.slice(release.indexOf("\n  packages:\n"), release.indexOf("\n  release:\n"));
  assert.match(job, /sudo apt-get install -y "\.\/\$deb"/);
  assert.match(job, /= start-limit-hit/);
  assert.match(job, /ExecMainStatus --value mackerel-agent\)" = 78\n/);
  assert.match(
    job,
    /sudo apt-get purge -y mackerel-agent\n\s+test ! -e \/var\/lib\/mackerel-agent\n/,
  );
  assert.match(job, /rpm -i \/dist\/mackerel-agent-\*\.x86_64\.rpm\n/);
});

Deno.test("workflows: os runs the suite, once, a daemon and the services on the real systems", async () => {
  const os = await Deno.readTextFile(new URL("os.yml", WORKFLOWS));
  // Not only on tags: every push to main and every pull request.
  assert.match(os, /^on:\n {2}push:\n {4}branches: \[main\]\n {2}pull_request:\n/m);
  const job = (name: string, next?: string) =>
    os.slice(os.indexOf(`\n  ${name}:\n`), next ? os.indexOf(`\n  ${next}:\n`) : undefined);
  const native = job("native", "service");
  assert.match(native, /runner: \[ubuntu-24\.04-arm, macos-latest, windows-latest\]\n/);
  assert.match(native, /run: deno task test\n/);
  assert.match(
    native,
    /deno task once > once\.json\n\s+deno run -A scripts\/os_smoke\.ts once once\.json\n/,
  );
  assert.match(native, /run: deno run -A scripts\/os_smoke\.ts daemon --seconds=60 --interval=5\n/);
  const service = job("service");
  assert.match(service, /runner: \[macos-latest, windows-latest\]\n/);
  assert.match(service, /run: \|\n\s+deno task compile\n/);
  assert.match(
    service,
    /if: runner\.os == 'Windows'\n\s+run: deno run -A scripts\/os_smoke\.ts service --binary "\$BIN"\n/,
  );
  assert.match(
    service,
    /if: runner\.os == 'macOS'\n\s+run: sudo "\$\(command -v deno\)" run -A scripts\/os_smoke\.ts service/,
  );
});
