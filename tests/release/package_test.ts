/**
 * The .deb and .rpm packages, built by the real `scripts/package.ts` from a stand-in binary
 * (`deno compile` needs a download this machine cannot make), inspected with dpkg-deb and rpm,
 * and run through install, upgrade, removal and purge by a real dpkg on a scratch root.
 */
import assert from "node:assert/strict";
import { buildPackage } from "../../scripts/package.ts";
import {
  debConffiles,
  debControl,
  packageArch,
  packageFileName,
  packageVersion,
} from "../../scripts/package_layout.ts";
import { hasCommand } from "../support/commands.ts";
import { withTempDir } from "../support/temp_dir.ts";

const ROOT = new URL("../../", import.meta.url);
const TARGET = "x86_64-unknown-linux-gnu";
const DEB = "mackerel-agent_0.1.0-1_amd64.deb";
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const repoText = (path: string) => Deno.readTextFile(new URL(path, ROOT));

/** Runs a tool to completion (30 s at most); stdin closed, as under a non-interactive apt. */
async function run(command: string, args: readonly string[], env?: Record<string, string>) {
  const out = await new Deno.Command(command, {
    args: [...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A stand-in agent binary that says which version it is. */
async function standIn(dist: string, version: string): Promise<string> {
  const path = `${dist}/mackerel-agent-${version}-${TARGET}`;
  await Deno.writeTextFile(path, `#!/bin/sh\necho "stand-in ${version}"\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

Deno.test("package: versions, architectures and file names of both formats", () => {
  assert.equal(packageVersion("0.1.0"), "0.1.0");
  // dpkg and rpm both sort `~` before the release it precedes.
  assert.equal(packageVersion("0.2.0-rc.1"), "0.2.0~rc.1");
  assert.throws(() => packageVersion("v0.1"), RangeError);
  assert.equal(packageFileName("deb", { version: "0.1.0", target: TARGET }), DEB);
  assert.equal(
    packageFileName("rpm", { version: "0.2.0-rc.1", target: "aarch64-unknown-linux-gnu" }),
    "mackerel-agent-0.2.0~rc.1-1.aarch64.rpm",
  );
  assert.equal(packageArch("aarch64-unknown-linux-gnu", "deb"), "arm64");
  assert.throws(() => packageArch("x86_64-apple-darwin", "deb"), /no deb package for/);
  assert.match(
    debControl({ version: "0.1.0", target: TARGET, installedSizeKiB: 3 }),
    /^Package: mackerel-agent\nVersion: 0\.1\.0-1\nArchitecture: amd64\n/,
  );
  assert.equal(debConffiles(), "/etc/mackerel-agent/mackerel-agent.conf\n");
});

Deno.test({
  name:
    "package: the .deb holds the layout, conffile and maintainer scripts, and is in SHA256SUMS" +
    (hasCommand("dpkg-deb") ? "" : " (skipped: dpkg-deb is not installed; .ci/packages adds it)"),
  ignore: !hasCommand("dpkg-deb"),
}, async () => {
  await withTempDir("package_deb_", async (dist) => {
    const binary = await standIn(dist, "0.1.0");
    await Deno.writeTextFile(`${dist}/SHA256SUMS`, `${"0".repeat(64)}  earlier-file\n`);
    const built = await run(Deno.execPath(), [
      "run",
      "-A",
      new URL("scripts/package.ts", ROOT).pathname,
      "--format=deb",
      `--target=${TARGET}`,
      `--dist=${dist}`,
      "--version=0.1.0",
    ]);
    assert.equal(built.code, 0, built.stderr);
    const deb = `${dist}/${DEB}`;
    assert.equal(built.stdout, `built ${deb}\nwrote ${dist}/SHA256SUMS\n`);

    // Every entry owned by root, with the modes an operator expects.
    const listing = (await run("dpkg-deb", ["-c", deb])).stdout.trimEnd().split("\n")
      .map((line) => {
        const [mode, owner, , , , path] = line.split(/\s+/);
        return `${mode} ${owner} ${path}`;
      });
    const dir = (path: string) => `drwxr-xr-x root/root ./${path}`;
    assert.deepEqual(listing.sort(), [
      "-rw-r----- root/root ./etc/mackerel-agent/mackerel-agent.conf",
      "-rw-r--r-- root/root ./lib/systemd/system/mackerel-agent.service",
      "-rw-r--r-- root/root ./usr/share/mackerel-agent/mackerel-agent.default",
      "-rwxr-xr-x root/root ./usr/bin/mackerel-agent",
      ...[
        "",
        "etc/",
        "etc/mackerel-agent/",
        "etc/mackerel-agent/conf.d/",
        "lib/",
        "lib/systemd/",
        "lib/systemd/system/",
        "usr/",
        "usr/bin/",
        "usr/share/",
        "usr/share/mackerel-agent/",
        "var/",
        "var/lib/",
        "var/lib/mackerel-agent/",
      ].map(dir),
    ]);
    const field = async (name: string) => (await run("dpkg-deb", ["-f", deb, name])).stdout;
    assert.equal(await field("Package"), "mackerel-agent\n");
    assert.equal(await field("Version"), "0.1.0-1\n");
    assert.equal(await field("Architecture"), "amd64\n");
    const info = (await run("dpkg-deb", ["-I", deb])).stdout;
    for (const script of ["preinst", "postinst", "prerm", "postrm"]) {
      assert.match(info, new RegExp(`\\d+ bytes, +\\d+ lines +\\* +${script} +#!/bin/sh\\n`));
    }

    // The control files as written in packaging/deb, the payload as in packaging/.
    assert.equal((await run("dpkg-deb", ["-e", deb, `${dist}/control`])).code, 0);
    assert.equal(
      await Deno.readTextFile(`${dist}/control/conffiles`),
      "/etc/mackerel-agent/mackerel-agent.conf\n",
    );
    for (const script of ["preinst", "postinst", "prerm", "postrm"]) {
      assert.equal(
        await Deno.readTextFile(`${dist}/control/${script}`),
        await repoText(`packaging/deb/${script}`),
      );
      assert.equal((await Deno.stat(`${dist}/control/${script}`)).mode! & 0o777, 0o755);
    }
    assert.match(
      await Deno.readTextFile(`${dist}/control/md5sums`),
      /^[0-9a-f]{32} {2}usr\/bin\/mackerel-agent$/m,
    );
    assert.equal((await run("dpkg-deb", ["-x", deb, `${dist}/payload`])).code, 0);
    assert.equal(
      await Deno.readTextFile(`${dist}/payload/lib/systemd/system/mackerel-agent.service`),
      await repoText("packaging/mackerel-agent.service"),
    );
    assert.equal(
      await Deno.readTextFile(`${dist}/payload/etc/mackerel-agent/mackerel-agent.conf`),
      await repoText("packaging/mackerel-agent.conf"),
    );
    assert.equal(
      await Deno.readTextFile(`${dist}/payload/usr/bin/mackerel-agent`),
      await Deno.readTextFile(binary),
    );

    // The earlier line stays; the package's digest is the file's.
    const sums = (await Deno.readTextFile(`${dist}/SHA256SUMS`)).trimEnd().split("\n");
    assert.equal(sums[0], `${"0".repeat(64)}  earlier-file`);
    const check = await run("sh", ["-c", `cd ${dist} && tail -n 1 SHA256SUMS | sha256sum -c -`]);
    assert.equal(check.stdout, `${DEB}: OK\n`, check.stderr);
    assert.equal(sums.length, 2);
  });
});

// dpkg sets every file's owner to root, which needs root.
const HAS_DPKG = hasCommand("dpkg") && hasCommand("dpkg-deb") && hasCommand("systemctl") &&
  Deno.uid() === 0;

/** A scratch root for `dpkg --root` and the commands to drive it. */
async function scratchRoot(dir: string) {
  const root = `${dir}/root`;
  await Deno.mkdir(`${root}/var/lib/dpkg/info`, { recursive: true });
  await Deno.mkdir(`${root}/var/lib/dpkg/updates`);
  await Deno.writeTextFile(`${root}/var/lib/dpkg/status`, "");
  // Maintainer scripts run outside a chroot with DPKG_ROOT set, as dpkg does for --root.
  const dpkg = (...args: string[]) =>
    run("dpkg", [`--root=${root}`, "--log=/dev/null", "--force-script-chrootless", ...args]);
  return { root, dpkg, path: (p: string) => `${root}${p}` };
}

Deno.test({
  name:
    "package: dpkg installs, upgrades, removes and purges the .deb; the host id lives until purge" +
    (HAS_DPKG ? "" : " (skipped: needs root, dpkg, dpkg-deb and systemctl)"),
  ignore: !HAS_DPKG,
}, async () => {
  await withTempDir("package_dpkg_", async (dir) => {
    const debs: Record<string, string> = {};
    for (const version of ["0.1.0", "0.1.1"]) {
      const binary = await standIn(dir, version);
      debs[version] = await buildPackage({
        format: "deb",
        target: TARGET,
        version,
        binary,
        outDir: dir,
      });
    }
    const { dpkg, path } = await scratchRoot(dir);
    const wants = path("/etc/systemd/system/multi-user.target.wants/mackerel-agent.service");

    const install = await dpkg("-i", debs["0.1.0"]);
    assert.equal(install.code, 0, install.stderr);
    assert.match(install.stdout, /mackerel-agent: set your API key/);
    assert.equal((await run(path("/usr/bin/mackerel-agent"), [])).stdout, "stand-in 0.1.0\n");
    // Enabled for boot (systemctl --root, offline), not started: there is no API key yet.
    assert.equal(await Deno.readLink(wants), "/lib/systemd/system/mackerel-agent.service");
    assert.equal(
      await Deno.readTextFile(path("/etc/default/mackerel-agent")),
      await repoText("packaging/mackerel-agent.env"),
    );
    assert.equal(
      (await Deno.stat(path("/etc/mackerel-agent/mackerel-agent.conf"))).mode! & 0o777,
      0o640,
    );

    // The operator's settings and the agent's host id.
    await Deno.writeTextFile(path("/etc/mackerel-agent/mackerel-agent.conf"), 'apikey = "k"\n');
    await Deno.writeTextFile(path("/etc/default/mackerel-agent"), "OTHER_OPTS=-v\n");
    await Deno.writeTextFile(path("/var/lib/mackerel-agent/id"), "4ZyxWvu");

    const upgrade = await dpkg("-i", debs["0.1.1"]);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.equal((await run(path("/usr/bin/mackerel-agent"), [])).stdout, "stand-in 0.1.1\n");
    assert.equal(await Deno.readTextFile(path("/var/lib/mackerel-agent/id")), "4ZyxWvu");
    assert.equal(
      await Deno.readTextFile(path("/etc/mackerel-agent/mackerel-agent.conf")),
      'apikey = "k"\n',
    );
    assert.equal(await Deno.readTextFile(path("/etc/default/mackerel-agent")), "OTHER_OPTS=-v\n");
    assert.deepEqual(
      [...Deno.readDirSync(path("/etc/mackerel-agent"))].map((e) => e.name).sort(),
      ["conf.d", "mackerel-agent.conf"],
    );

    const remove = await dpkg("--remove", "mackerel-agent");
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal(await exists(path("/usr/bin/mackerel-agent")), false);
    assert.equal(await exists(path("/lib/systemd/system/mackerel-agent.service")), false);
    assert.equal(await Deno.readTextFile(path("/var/lib/mackerel-agent/id")), "4ZyxWvu");
    assert.equal(
      await Deno.readTextFile(path("/etc/mackerel-agent/mackerel-agent.conf")),
      'apikey = "k"\n',
    );
    assert.equal(await exists(path("/etc/default/mackerel-agent")), true);

    const purge = await dpkg("--purge", "mackerel-agent");
    assert.equal(purge.code, 0, purge.stderr);
    for (
      const gone of [
        "/var/lib/mackerel-agent",
        "/etc/mackerel-agent",
        "/etc/default/mackerel-agent",
        "/usr/share/mackerel-agent",
      ]
    ) {
      assert.equal(await exists(path(gone)), false, `${gone} after purge`);
    }
    assert.equal(await exists(wants), false);
  });
});

Deno.test({
  name: "package: the .deb replaces upstream's package without a question, keeping its config, " +
    "environment file and host id" +
    (HAS_DPKG ? "" : " (skipped: needs root, dpkg, dpkg-deb and systemctl)"),
  ignore: !HAS_DPKG,
}, async () => {
  await withTempDir("package_upstream_", async (dir) => {
    // A stand-in for upstream's 0.87.0 .deb, as it lays itself out: the config written by its
    // postinst from an example (not a conffile), /etc/default/mackerel-agent its conffile.
    const up = `${dir}/upstream`;
    const files: Record<string, string> = {
      "usr/bin/mackerel-agent": '#!/bin/sh\necho "upstream"\n',
      "etc/default/mackerel-agent": "# OTHER_OPTS=-v\n",
      "etc/mackerel-agent/mackerel-agent.conf.example": 'apikey = ""\n',
      "lib/systemd/system/mackerel-agent.service": "[Service]\nExecStart=/usr/bin/mackerel-agent\n",
      "DEBIAN/control": "Package: mackerel-agent\nVersion: 0.87.0-1\nArchitecture: amd64\n" +
        "Maintainer: upstream stand-in <stand-in@example.com>\nDescription: stand-in\n",
      "DEBIAN/conffiles": "/etc/default/mackerel-agent\n",
      "DEBIAN/postinst":
        '#!/bin/sh\nset -e\nc="$DPKG_ROOT/etc/mackerel-agent/mackerel-agent.conf"\n' +
        '[ "$1" != configure ] || [ -e "$c" ] || cp "$c.example" "$c"\n',
    };
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(`${up}/${name.slice(0, name.lastIndexOf("/"))}`, { recursive: true });
      await Deno.writeTextFile(`${up}/${name}`, text);
      await Deno.chmod(`${up}/${name}`, /bin\/|postinst/.test(name) ? 0o755 : 0o644);
    }
    await Deno.mkdir(`${up}/var/lib/mackerel-agent`, { recursive: true });
    const upstreamDeb = `${dir}/upstream.deb`;
    const packed = await run("dpkg-deb", ["--root-owner-group", "--build", up, upstreamDeb]);
    assert.equal(packed.code, 0, packed.stderr);
    const ours = await buildPackage({
      format: "deb",
      target: TARGET,
      version: "0.1.0",
      binary: await standIn(dir, "0.1.0"),
      outDir: dir,
    });

    const { dpkg, path } = await scratchRoot(dir);
    assert.equal((await dpkg("-i", upstreamDeb)).code, 0);
    await Deno.writeTextFile(path("/etc/mackerel-agent/mackerel-agent.conf"), 'apikey = "k"\n');
    await Deno.writeTextFile(path("/etc/default/mackerel-agent"), "AUTO_RETIREMENT=1\n");
    await Deno.writeTextFile(path("/var/lib/mackerel-agent/id"), "4ZyxWvu");

    // Ours is 0.1.0 against upstream's 0.87.0: dpkg -i downgrades with a warning, and asks nothing
    // (stdin is closed: a question would fail the install).
    const replaced = await dpkg("-i", ours);
    assert.equal(replaced.code, 0, replaced.stdout + replaced.stderr);
    assert.match(replaced.stderr, /downgrading mackerel-agent from 0\.87\.0-1 to 0\.1\.0-1/);
    assert.match(replaced.stdout, /kept your \/etc\/mackerel-agent\/mackerel-agent\.conf/);
    assert.equal((await run(path("/usr/bin/mackerel-agent"), [])).stdout, "stand-in 0.1.0\n");
    assert.equal(
      await Deno.readTextFile(path("/etc/mackerel-agent/mackerel-agent.conf")),
      'apikey = "k"\n',
    );
    assert.equal(
      await Deno.readTextFile(path("/etc/default/mackerel-agent")),
      "AUTO_RETIREMENT=1\n",
    );
    assert.equal(await Deno.readTextFile(path("/var/lib/mackerel-agent/id")), "4ZyxWvu");
    assert.equal(
      await Deno.readTextFile(path("/lib/systemd/system/mackerel-agent.service")),
      await repoText("packaging/mackerel-agent.service"),
    );
    // Upstream's example went with upstream's package; nothing was set aside and forgotten.
    assert.deepEqual(
      [...Deno.readDirSync(path("/etc/mackerel-agent"))].map((e) => e.name).sort(),
      ["conf.d", "mackerel-agent.conf"],
    );
  });
});

Deno.test({
  name: "package: the .rpm holds the layout, config files and scriptlets" +
    (hasCommand("rpmbuild") ? "" : " (skipped: rpmbuild is not installed; .ci/packages adds it)"),
  ignore: !hasCommand("rpmbuild"),
}, async () => {
  await withTempDir("package_rpm_", async (dir) => {
    const rpm = await buildPackage({
      format: "rpm",
      target: "aarch64-unknown-linux-gnu",
      version: "0.2.0-rc.1",
      binary: await standIn(dir, "0.1.0"),
      outDir: dir,
    });
    assert.equal(rpm, `${dir}/mackerel-agent-0.2.0~rc.1-1.aarch64.rpm`);
    const query = async (...args: string[]) => {
      const out = await run("rpm", ["-qp", ...args, rpm]);
      assert.equal(out.code, 0, out.stderr);
      return out.stdout;
    };
    assert.equal(
      await query("--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{PAYLOADCOMPRESSOR}\n"),
      "mackerel-agent 0.2.0~rc.1 1 aarch64 gzip\n",
    );
    const listing = (await query("-lv")).trimEnd().split("\n").map((line) => {
      const parts = line.split(/\s+/);
      return `${parts[0]} ${parts[2]}:${parts[3]} ${parts.at(-1)}`;
    });
    assert.deepEqual(listing.sort(), [
      "-rw-r----- root:root /etc/mackerel-agent/mackerel-agent.conf",
      "-rw-r--r-- root:root /etc/sysconfig/mackerel-agent",
      "-rw-r--r-- root:root /usr/lib/systemd/system/mackerel-agent.service",
      "-rwxr-xr-x root:root /usr/bin/mackerel-agent",
      "drwxr-xr-x root:root /etc/mackerel-agent",
      "drwxr-xr-x root:root /etc/mackerel-agent/conf.d",
      "drwxr-xr-x root:root /var/lib/mackerel-agent",
    ]);
    assert.equal(
      await query("-c"),
      "/etc/mackerel-agent/mackerel-agent.conf\n/etc/sysconfig/mackerel-agent\n",
    );
    // noreplace: an edited config survives an upgrade (the new one lands as .rpmnew).
    assert.match(
      await query("--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]"),
      /^cn \/etc\/sysconfig\/mackerel-agent$/m,
    );
    assert.equal(await query("--requires").then((r) => r.includes("libc")), false);
    const scripts = await query("--scripts");
    assert.match(scripts, /postinstall scriptlet[^]*systemctl enable mackerel-agent\.service/);
    assert.match(scripts, /preuninstall scriptlet[^]*disable --now mackerel-agent\.service/);
    assert.match(
      scripts,
      /postuninstall scriptlet[^]*systemctl try-restart mackerel-agent\.service/,
    );
  });
});
