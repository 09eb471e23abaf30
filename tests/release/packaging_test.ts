import assert from "node:assert/strict";
import { EXIT_CONFIG } from "../../src/exit_codes.ts";
import { hasCommand } from "../support/commands.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs the unit's ExecStopPost line with sh");

const ROOT = new URL("../../", import.meta.url);
const PACKAGING = new URL("packaging/", ROOT);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** `key=value` lines of a unit's section (comments and blank lines dropped), in order. */
function unitSection(text: string, section: string): readonly string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(`[${section}]`);
  assert.notEqual(start, -1, `no [${section}]`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith("["));
  return rest.slice(0, end < 0 ? undefined : end).filter((l) => l !== "" && !l.startsWith("#"));
}

async function agent(args: readonly string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("packaging: the unit runs configtest -lenient, supervise, HUP reload and opt-in retirement", async () => {
  const unit = await Deno.readTextFile(new URL("mackerel-agent.service", PACKAGING));
  assert.deepEqual(unitSection(unit, "Unit"), [
    "Description=mackerel.io agent",
    "Documentation=https://mackerel.io/",
    "After=network-online.target nss-lookup.target",
    "Wants=network-online.target",
    "StartLimitIntervalSec=60s",
    "StartLimitBurst=5",
  ]);
  assert.deepEqual(unitSection(unit, "Service"), [
    "Type=simple",
    "Environment=ROOT=/var/lib/mackerel-agent",
    "Environment=MACKEREL_PLUGIN_WORKDIR=/var/tmp/mackerel-agent",
    "EnvironmentFile=-/etc/default/mackerel-agent",
    "EnvironmentFile=-/etc/sysconfig/mackerel-agent",
    "ExecStartPre=/bin/mkdir -m 777 -p $MACKEREL_PLUGIN_WORKDIR",
    "ExecStartPre=/usr/bin/mackerel-agent configtest -lenient $OTHER_OPTS",
    "ExecStart=/usr/bin/mackerel-agent supervise --root $ROOT $OTHER_OPTS",
    "ExecReload=/bin/kill -HUP $MAINPID",
    `ExecStopPost=/bin/sh -c '[ "$\${AUTO_RETIREMENT:-0}" = "0" ] || ` +
    `[ "$\${SERVICE_RESULT:-success}" != "success" ] || ` +
    `/usr/bin/mackerel-agent retire -force --root "$$ROOT" $$OTHER_OPTS'`,
    "Restart=on-failure",
    "RestartSec=5s",
    `RestartPreventExitStatus=${EXIT_CONFIG}`,
    "LimitNOFILE=65536",
    "LimitNPROC=65536",
  ]);
  assert.deepEqual(unitSection(unit, "Install"), ["WantedBy=multi-user.target"]);
});

Deno.test("packaging: the start limit ends a pre-start loop that RestartSec alone would not", async () => {
  const unit = await Deno.readTextFile(new URL("mackerel-agent.service", PACKAGING));
  const value = (key: string) =>
    unitSection(unit, "Unit").find((l) => l.startsWith(`${key}=`))!.split("=")[1];
  const seconds = (text: string) => Number(text.replace(/s$/, ""));
  const restartSec = seconds(
    unitSection(unit, "Service").find((l) => l.startsWith("RestartSec="))!.split("=")[1],
  );
  const burst = Number(value("StartLimitBurst"));
  const interval = seconds(value("StartLimitIntervalSec"));
  // A failing ExecStartPre is retried every RestartSec: the burst+1-th start comes burst ×
  // RestartSec after the first, and must fall inside the interval to be refused.
  assert.ok(burst * restartSec < interval, `${burst} × ${restartSec}s must be < ${interval}s`);
  // systemd's default (5 starts in 10 s) never triggers at one start every 5 s: the reason for the
  // explicit limit.
  assert.ok(5 * restartSec >= 10);
});

unix.test("packaging: ExecStopPost retires only when AUTO_RETIREMENT is set and not 0, after a clean stop", async () => {
  const unit = await Deno.readTextFile(new URL("mackerel-agent.service", PACKAGING));
  const line = unitSection(unit, "Service").find((l) => l.startsWith("ExecStopPost="))!;
  // systemd turns `$$` into `$` and passes the quoted word to sh -c.
  const script = line.match(/^ExecStopPost=\/bin\/sh -c '(.*)'$/)![1].replaceAll("$$", "$");
  await withTempDir("packaging_test_", async (dir) => {
    const fake = `${dir}/mackerel-agent`;
    await Deno.writeTextFile(fake, `#!/bin/sh\nfor a in "$@"; do echo "$a"; done > ${dir}/args\n`);
    await Deno.chmod(fake, 0o755);
    const stop = async (retirement: string | undefined, result?: string) => {
      await Deno.remove(`${dir}/args`).catch(() => {});
      const env: Record<string, string> = {
        ROOT: "/var/lib/mackerel agent",
        OTHER_OPTS: "-conf /etc/x.conf -v",
      };
      if (retirement !== undefined) env.AUTO_RETIREMENT = retirement;
      if (result !== undefined) env.SERVICE_RESULT = result;
      const out = await new Deno.Command("sh", {
        args: ["-c", script.replaceAll("/usr/bin/mackerel-agent", fake)],
        env,
      }).output();
      const args = await Deno.readTextFile(`${dir}/args`).catch(() => undefined);
      return { code: out.code, args: args?.split("\n").filter((a) => a !== "") };
    };
    assert.deepEqual(await stop(undefined), { code: 0, args: undefined });
    assert.deepEqual(await stop(""), { code: 0, args: undefined });
    assert.deepEqual(await stop("0"), { code: 0, args: undefined });
    const retired = {
      code: 0,
      args: ["retire", "-force", "--root", "/var/lib/mackerel agent", "-conf", "/etc/x.conf", "-v"],
    };
    assert.deepEqual(await stop("1"), retired);
    assert.deepEqual(await stop("1", "success"), retired);
    // A crash (about to be restarted) or a refused start keeps the host and its id file.
    assert.deepEqual(await stop("1", "exit-code"), { code: 0, args: undefined });
    assert.deepEqual(await stop("1", "signal"), { code: 0, args: undefined });
  });
});

Deno.test("packaging: the environment file sets the four variables the unit reads", async () => {
  const text = await Deno.readTextFile(new URL("mackerel-agent.env", PACKAGING));
  const assignments = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  assert.deepEqual(assignments, [
    "ROOT=/var/lib/mackerel-agent",
    "OTHER_OPTS=",
    "AUTO_RETIREMENT=0",
    "MACKEREL_PLUGIN_WORKDIR=/var/tmp/mackerel-agent",
  ]);
});

Deno.test("packaging: the sample config includes conf.d and passes configtest given an apikey", async () => {
  const text = await Deno.readTextFile(new URL("mackerel-agent.conf", PACKAGING));
  const active = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  assert.deepEqual(active, ['include = "/etc/mackerel-agent/conf.d/*.conf"']);

  const ok = await agent(["configtest", "-conf", "packaging/mackerel-agent.conf", "-apikey", "k"]);
  assert.equal(ok.stderr, "SUCCESS (packaging/mackerel-agent.conf)\n");
  assert.equal(ok.code, 0);
  const noKey = await agent(["configtest", "-conf", "packaging/mackerel-agent.conf"]);
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /apikey must be specified/);
});

Deno.test("packaging: every commented setting of the sample config is one configtest knows", async () => {
  const text = await Deno.readTextFile(new URL("mackerel-agent.conf", PACKAGING));
  // Uncomment `# key = value` and `# [table]` lines; prose comments stay comments.
  const uncommented = text.replace(/^# ?((\[[^\]]+\])|([a-z_]+ *= *.+))$/gm, "$1");
  assert.ok(uncommented.includes("\n[plugin.checks.ssh]\n"));
  assert.ok(uncommented.includes("\napikey = "));
  await withTempDir("packaging_test_", async (dir) => {
    await Deno.writeTextFile(`${dir}/all.conf`, uncommented);
    const out = await agent(["configtest", "-conf", `${dir}/all.conf`]);
    assert.equal(out.stderr, `SUCCESS (${dir}/all.conf)\n`);
    assert.equal(out.code, 0);
  });
});

const HAS_SYSTEMD_ANALYZE = hasCommand("systemd-analyze");

Deno.test({
  name: "packaging: systemd-analyze verify accepts every setting of the unit" +
    (HAS_SYSTEMD_ANALYZE
      ? ""
      : " (skipped: systemd-analyze is not installed; .ci/packages adds it)"),
  ignore: !HAS_SYSTEMD_ANALYZE,
}, async () => {
  const unit = await Deno.readTextFile(new URL("mackerel-agent.service", PACKAGING));
  await withTempDir("packaging_verify_", async (dir) => {
    // verify insists that the binaries exist: a stand-in takes the agent's place.
    const agent = `${dir}/mackerel-agent`;
    await Deno.writeTextFile(agent, "#!/bin/sh\nexit 0\n");
    await Deno.chmod(agent, 0o755);
    const verify = async (text: string) => {
      await Deno.writeTextFile(`${dir}/mackerel-agent.service`, text);
      const out = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${dir}/mackerel-agent.service`],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
    };
    const ours = unit.replaceAll("/usr/bin/mackerel-agent", agent);
    // verify only warns about a key it ignores, so a clean unit is one with no output at all.
    assert.deepEqual(await verify(ours), { code: 0, output: "" });
    // It does see the mistakes a unit like ours could make: the start limit in [Service] (where
    // systemd ignores it) and a bad exit status.
    const misplaced = ours.replace(/^(StartLimit\w+=.*)\n/gm, "")
      .replace("[Service]\n", "[Service]\nStartLimitIntervalSec=60s\n");
    assert.match((await verify(misplaced)).output, /Unknown key.*'StartLimitIntervalSec'/);
    const badStatus = ours.replace(
      new RegExp(`^RestartPreventExitStatus=${EXIT_CONFIG}$`, "m"),
      "RestartPreventExitStatus=CONFIGX",
    );
    assert.notEqual(badStatus, ours);
    assert.match((await verify(badStatus)).output, /Failed to parse .*CONFIGX/);
  });
});
