import assert from "node:assert/strict";
import { onLinux } from "../support/platform.ts";

const linux = onLinux("scripts/install.sh installs a systemd unit with sh");

const ROOT = new URL("../../", import.meta.url);
const INSTALL = new URL("scripts/install.sh", ROOT).pathname;
const PACKAGING = new URL("packaging/", ROOT);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A temp dir with a dummy agent binary and a fake `systemctl` that records being called. */
async function workspace() {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/bin`);
  await Deno.writeTextFile(`${dir}/agent`, "#!/bin/sh\necho dummy-agent-1\n");
  await Deno.writeTextFile(
    `${dir}/bin/systemctl`,
    `#!/bin/sh\necho "$@" >> ${dir}/systemctl-called\n`,
  );
  await Deno.chmod(`${dir}/bin/systemctl`, 0o755);
  return dir;
}

async function install(dir: string, args: readonly string[], destdir = `${dir}/root`) {
  const out = await new Deno.Command("sh", {
    args: [INSTALL, ...args],
    env: { DESTDIR: destdir, PATH: `${dir}/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

linux.test("install: lays out binary, unit, env file, config and conf.d under DESTDIR", async () => {
  const dir = await workspace();
  try {
    const r = `${dir}/root`;
    const out = await install(dir, [`${dir}/agent`]);
    assert.equal(out.stderr, "");
    assert.equal(out.code, 0);
    assert.equal(
      out.stdout,
      [
        `installed ${r}/usr/bin/mackerel-agent (mode 0755)`,
        `installed ${r}/etc/systemd/system/mackerel-agent.service (mode 0644)`,
        `installed ${r}/etc/default/mackerel-agent (mode 0644)`,
        `installed ${r}/etc/mackerel-agent/mackerel-agent.conf (mode 0640)`,
        `created ${r}/etc/mackerel-agent/conf.d/`,
        `created ${r}/var/lib/mackerel-agent/`,
        "DESTDIR is set: systemctl not run",
        "next: set apikey in /etc/mackerel-agent/mackerel-agent.conf, then systemctl enable --now mackerel-agent",
        "",
      ].join("\n"),
    );
    assert.equal(mode(`${r}/usr/bin/mackerel-agent`), 0o755);
    assert.equal(mode(`${r}/etc/systemd/system/mackerel-agent.service`), 0o644);
    assert.equal(mode(`${r}/etc/default/mackerel-agent`), 0o644);
    assert.equal(mode(`${r}/etc/mackerel-agent/mackerel-agent.conf`), 0o640);
    assert.equal(mode(`${r}/etc/mackerel-agent/conf.d`), 0o755);
    assert.ok(Deno.statSync(`${r}/var/lib/mackerel-agent`).isDirectory);
    const same = async (installed: string, source: string) =>
      assert.equal(
        await Deno.readTextFile(`${r}${installed}`),
        await Deno.readTextFile(new URL(source, PACKAGING)),
      );
    await same("/etc/systemd/system/mackerel-agent.service", "mackerel-agent.service");
    await same("/etc/default/mackerel-agent", "mackerel-agent.env");
    await same("/etc/mackerel-agent/mackerel-agent.conf", "mackerel-agent.conf");
    const ran = await new Deno.Command(`${r}/usr/bin/mackerel-agent`).output();
    assert.equal(decode(ran.stdout), "dummy-agent-1\n");
    // No temporary file left behind, and systemctl never called under DESTDIR.
    assert.deepEqual([...Deno.readDirSync(`${r}/usr/bin`)].map((e) => e.name), ["mackerel-agent"]);
    assert.equal(await Deno.stat(`${dir}/systemctl-called`).catch(() => undefined), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

linux.test("install: a second run replaces binary and unit, keeps the operator's env and config", async () => {
  const dir = await workspace();
  try {
    const r = `${dir}/root`;
    assert.equal((await install(dir, [`${dir}/agent`])).code, 0);
    await Deno.writeTextFile(`${r}/etc/mackerel-agent/mackerel-agent.conf`, 'apikey = "mine"\n');
    await Deno.writeTextFile(`${r}/etc/default/mackerel-agent`, "AUTO_RETIREMENT=1\n");
    await Deno.writeTextFile(`${r}/etc/systemd/system/mackerel-agent.service`, "stale\n");
    await Deno.writeTextFile(`${dir}/agent`, "#!/bin/sh\necho dummy-agent-2\n");

    const out = await install(dir, ["--binary", `${dir}/agent`]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout.split("\n").slice(0, 6), [
      `installed ${r}/usr/bin/mackerel-agent (mode 0755)`,
      `installed ${r}/etc/systemd/system/mackerel-agent.service (mode 0644)`,
      `kept existing ${r}/etc/default/mackerel-agent`,
      `kept existing ${r}/etc/mackerel-agent/mackerel-agent.conf`,
      `kept existing ${r}/etc/mackerel-agent/conf.d/`,
      `kept existing ${r}/var/lib/mackerel-agent/`,
    ]);
    assert.equal(
      await Deno.readTextFile(`${r}/etc/mackerel-agent/mackerel-agent.conf`),
      'apikey = "mine"\n',
    );
    assert.equal(await Deno.readTextFile(`${r}/etc/default/mackerel-agent`), "AUTO_RETIREMENT=1\n");
    assert.equal(
      await Deno.readTextFile(`${r}/etc/systemd/system/mackerel-agent.service`),
      await Deno.readTextFile(new URL("mackerel-agent.service", PACKAGING)),
    );
    const ran = await new Deno.Command(`${r}/usr/bin/mackerel-agent`).output();
    assert.equal(decode(ran.stdout), "dummy-agent-2\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

linux.test("install: --unit-dir, a missing binary and bad usage", async () => {
  const dir = await workspace();
  try {
    const unitDir = await install(dir, [`--binary=${dir}/agent`, "--unit-dir=/lib/systemd/system"]);
    assert.equal(unitDir.code, 0, unitDir.stderr);
    assert.ok(Deno.statSync(`${dir}/root/lib/systemd/system/mackerel-agent.service`).isFile);

    const missing = await install(dir, [`${dir}/nothing`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `${INSTALL}: no such file: ${dir}/nothing\n`);

    for (const args of [[], ["--bogus"], ["a", "b"]]) {
      const usage = await install(dir, args);
      assert.equal(usage.code, 2, `args ${args}`);
      assert.match(usage.stderr, /usage: .*install\.sh \[--binary\] PATH \[--unit-dir DIR\]/);
      assert.equal(usage.stdout, "");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

linux.test("install: --help prints the usage on stdout, exit 0", async () => {
  const dir = await workspace();
  try {
    for (const flag of ["--help", "-h"]) {
      const out = await install(dir, [flag]);
      assert.equal(out.code, 0, flag);
      assert.equal(out.stderr, "");
      assert.match(out.stdout, /^usage: .*install\.sh \[--binary\] PATH \[--unit-dir DIR\]/);
      assert.match(out.stdout, /install\.sh --uninstall \[--purge\] \[--unit-dir DIR\]\n/);
    }
    for (const args of [["--purge", `${dir}/agent`], ["--uninstall", `${dir}/agent`]]) {
      const usage = await install(dir, args);
      assert.equal(usage.code, 2, `args ${args}`);
      assert.match(usage.stderr, /^usage: /);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

linux.test("install: --uninstall removes binary and unit, keeps config, env and host id", async () => {
  const dir = await workspace();
  try {
    const r = `${dir}/root`;
    assert.equal((await install(dir, [`${dir}/agent`])).code, 0);
    await Deno.writeTextFile(`${r}/var/lib/mackerel-agent/id`, "4ZyxWvu");
    await Deno.writeTextFile(`${r}/etc/mackerel-agent/conf.d/plugins.conf`, "# mine\n");

    const out = await install(dir, ["--uninstall"]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, "");
    assert.equal(
      out.stdout,
      [
        `removed ${r}/usr/bin/mackerel-agent`,
        `removed ${r}/etc/systemd/system/mackerel-agent.service`,
        `kept ${r}/etc/mackerel-agent (--purge removes it)`,
        `kept ${r}/etc/default/mackerel-agent (--purge removes it)`,
        `kept ${r}/var/lib/mackerel-agent (--purge removes it)`,
        "DESTDIR is set: systemctl not run",
        'the host stays registered in Mackerel: retire it there, or run "mackerel-agent retire" ' +
        "before uninstalling",
        "",
      ].join("\n"),
    );
    const exists = (path: string) => Deno.stat(`${r}${path}`).then(() => true, () => false);
    assert.equal(await exists("/usr/bin/mackerel-agent"), false);
    assert.equal(await exists("/etc/systemd/system/mackerel-agent.service"), false);
    assert.equal(await Deno.readTextFile(`${r}/var/lib/mackerel-agent/id`), "4ZyxWvu");
    assert.equal(await exists("/etc/mackerel-agent/conf.d/plugins.conf"), true);

    // A reinstall finds the host id and the config where it left them.
    const again = await install(dir, [`${dir}/agent`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /kept existing .*\/etc\/mackerel-agent\/mackerel-agent\.conf\n/);
    assert.equal(await Deno.readTextFile(`${r}/var/lib/mackerel-agent/id`), "4ZyxWvu");

    const purge = await install(dir, ["--uninstall", "--purge"]);
    assert.equal(purge.code, 0, purge.stderr);
    assert.match(purge.stdout, new RegExp(`removed ${r}/var/lib/mackerel-agent\n`));
    // Nothing of the agent is left; the directories it did not create stay.
    assert.equal(await exists("/etc/mackerel-agent"), false);
    assert.equal(await exists("/etc/default/mackerel-agent"), false);
    assert.equal(await exists("/var/lib/mackerel-agent"), false);
    assert.equal(await exists("/etc/default"), true);
    // A second uninstall has nothing left to do and says only the rest.
    const twice = await install(dir, ["--uninstall"]);
    assert.equal(twice.code, 0);
    assert.doesNotMatch(twice.stdout, /removed|kept/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
