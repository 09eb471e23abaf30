import assert from "node:assert/strict";
import { withTempDir } from "../support/temp_dir.ts";

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

Deno.test("packaging: the unit runs configtest, supervise, HUP reload and opt-in retirement", async () => {
  const unit = await Deno.readTextFile(new URL("mackerel-agent.service", PACKAGING));
  assert.deepEqual(unitSection(unit, "Service"), [
    "Type=simple",
    "Environment=ROOT=/var/lib/mackerel-agent",
    "Environment=MACKEREL_PLUGIN_WORKDIR=/var/tmp/mackerel-agent",
    "EnvironmentFile=-/etc/default/mackerel-agent",
    "EnvironmentFile=-/etc/sysconfig/mackerel-agent",
    "ExecStartPre=/bin/mkdir -m 777 -p $MACKEREL_PLUGIN_WORKDIR",
    "ExecStartPre=/usr/bin/mackerel-agent configtest $OTHER_OPTS",
    "ExecStart=/usr/bin/mackerel-agent supervise --root $ROOT $OTHER_OPTS",
    "ExecReload=/bin/kill -HUP $MAINPID",
    `ExecStopPost=/bin/sh -c '[ "$\${AUTO_RETIREMENT:-0}" = "0" ] || ` +
    `/usr/bin/mackerel-agent retire -force --root "$$ROOT" $$OTHER_OPTS'`,
    "Restart=on-failure",
    "RestartSec=5s",
    "LimitNOFILE=65536",
    "LimitNPROC=65536",
  ]);
  assert.deepEqual(unitSection(unit, "Install"), ["WantedBy=multi-user.target"]);
});

Deno.test("packaging: ExecStopPost retires only when AUTO_RETIREMENT is set and not 0", async () => {
  const unit = await Deno.readTextFile(new URL("mackerel-agent.service", PACKAGING));
  const line = unitSection(unit, "Service").find((l) => l.startsWith("ExecStopPost="))!;
  // systemd turns `$$` into `$` and passes the quoted word to sh -c.
  const script = line.match(/^ExecStopPost=\/bin\/sh -c '(.*)'$/)![1].replaceAll("$$", "$");
  await withTempDir("packaging_test_", async (dir) => {
    const fake = `${dir}/mackerel-agent`;
    await Deno.writeTextFile(fake, `#!/bin/sh\nfor a in "$@"; do echo "$a"; done > ${dir}/args\n`);
    await Deno.chmod(fake, 0o755);
    const stop = async (retirement: string | undefined) => {
      await Deno.remove(`${dir}/args`).catch(() => {});
      const env: Record<string, string> = {
        ROOT: "/var/lib/mackerel agent",
        OTHER_OPTS: "-conf /etc/x.conf -v",
      };
      if (retirement !== undefined) env.AUTO_RETIREMENT = retirement;
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
    assert.deepEqual(await stop("1"), {
      code: 0,
      args: ["retire", "-force", "--root", "/var/lib/mackerel agent", "-conf", "/etc/x.conf", "-v"],
    });
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
