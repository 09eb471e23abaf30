import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createSource } from "../../../src/host/source.ts";
import {
  detectPlatform,
  displayPlatformName,
  parseOsRelease,
} from "../../../src/host/description/platform.ts";
import { withTempDir, writeFiles } from "../../support/temp_dir.ts";

const etc = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/spec/${name}`, import.meta.url));

function detectIn(files: Readonly<Record<string, string>>) {
  return withTempDir("platform_test_", async (dir) => {
    await Deno.mkdir(`${dir}/etc`);
    await writeFiles(`${dir}/etc`, files);
    return await detectPlatform(createSource({ etc: `${dir}/etc` }));
  });
}

Deno.test("platform: from outside (-rootfs), the host's /etc decides", async () => {
  await withTempDir("platform_test_", async (rootfs) => {
    await writeFiles(rootfs, {
      "etc/redhat-release": "Rocky Linux release 9.4 (Blue Onyx)\n",
      "etc/os-release": 'ID="rocky"\nVERSION_ID="9.4"\n',
    });
    assert.deepEqual(await detectPlatform(createSource({ rootfs })), {
      name: "rocky",
      version: "9.4",
    });
  });
});

Deno.test("platform: Debian from debian_version's first line", async () => {
  const source = createSource({ etc: etc("etc-debian") });
  assert.deepEqual(await detectPlatform(source), { name: "debian", version: "12.5" });
});

Deno.test("platform: Ubuntu from lsb-release when debian_version exists", async () => {
  const source = createSource({ etc: etc("etc-ubuntu") });
  assert.deepEqual(await detectPlatform(source), { name: "ubuntu", version: "24.04" });
});

Deno.test("platform: Rocky from redhat-release's first word and release number", async () => {
  const source = createSource({ etc: etc("etc-rocky") });
  assert.deepEqual(await detectPlatform(source), { name: "rocky", version: "9.3" });
});

Deno.test("platform: Amazon Linux 2023 from system-release", async () => {
  const source = createSource({ etc: etc("etc-amazon") });
  assert.deepEqual(await detectPlatform(source), { name: "amazon", version: "2023.4.20240401" });
});

Deno.test("platform: Alpine from alpine-release", async () => {
  const source = createSource({ etc: etc("etc-alpine") });
  assert.deepEqual(await detectPlatform(source), { name: "alpine", version: "3.19.1" });
});

Deno.test("platform: Red Hat named by the words 'red hat', CentOS by its first word", async () => {
  assert.deepEqual(
    await detectIn({ "redhat-release": "Red Hat Enterprise Linux release 8.9 (Ootpa)\n" }),
    { name: "redhat", version: "8.9" },
  );
  assert.deepEqual(await detectIn({ "redhat-release": "CentOS Stream release 9\n" }), {
    name: "centos",
    version: "9",
  });
  assert.deepEqual(await detectIn({ "redhat-release": "Fedora release 41 (Rawhide)\n" }), {
    name: "fedora",
    version: "rawhide",
  });
});

Deno.test("platform: oracle-release wins over redhat-release", async () => {
  assert.deepEqual(
    await detectIn({
      "oracle-release": "Oracle Linux Server release 8.9\n",
      "redhat-release": "Red Hat Enterprise Linux release 8.9 (Ootpa)\n",
    }),
    { name: "oracle", version: "8.9" },
  );
});

Deno.test("platform: an empty release file is skipped (Arch falls through to os-release)", async () => {
  assert.deepEqual(
    await detectIn({ "arch-release": "", "os-release": 'NAME="Arch Linux"\nID=arch\n' }),
    { name: "arch", version: "" },
  );
  assert.deepEqual(await detectIn({ "arch-release": "x\n" }), { name: "arch", version: "" });
});

Deno.test("platform: os-release alone, quotes stripped and amzn renamed", async () => {
  assert.deepEqual(await detectIn({ "os-release": 'ID="amzn"\nVERSION_ID="2"\n' }), {
    name: "amazon",
    version: "2",
  });
  assert.deepEqual(parseOsRelease("ID='opensuse-leap'\nVERSION_ID='15.5'\n"), {
    name: "opensuse-leap",
    version: "15.5",
  });
});

Deno.test("platform: SuSE-release version with patch level, openSUSE by name", async () => {
  assert.deepEqual(
    await detectIn({
      "SuSE-release": "SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n",
    }),
    { name: "suse", version: "12.3" },
  );
  assert.deepEqual(
    await detectIn({ "SuSE-release": "openSUSE 13.2 (x86_64)\nVERSION = 13.2\n" }),
    { name: "opensuse", version: "13.2" },
  );
});

Deno.test("platform: lsb-release alone names the platform", async () => {
  assert.deepEqual(await detectIn({ "lsb-release": "DISTRIB_ID=RedHat\nDISTRIB_RELEASE=7\n" }), {
    name: "redhat",
    version: "7",
  });
  assert.deepEqual(await detectIn({ "lsb-release": 'DISTRIB_ID="Solus"\nDISTRIB_RELEASE=4\n' }), {
    name: "solus",
    version: "4",
  });
});

Deno.test("platform: nothing known gives empty name and version", async () => {
  assert.deepEqual(await detectIn({}), { name: "", version: "" });
});

Deno.test("platform: display names follow mackerel-agent's table, others verbatim", () => {
  const table: readonly (readonly [string, string])[] = [
    ["debian", "Debian"],
    ["ubuntu", "Ubuntu"],
    ["linuxmint", "Linux Mint"],
    ["raspbian", "Raspbian"],
    ["fedora", "Fedora"],
    ["oracle", "Oracle Linux"],
    ["enterpriseenterprise", "Oracle Enterprise Linux"],
    ["centos", "CentOS"],
    ["redhat", "Red Hat Enterprise Linux"],
    ["scientific", "Scientific Linux"],
    ["amazon", "Amazon Linux"],
    ["xenserver", "XenServer"],
    ["cloudlinux", "CloudLinux"],
    ["ibm_powerkvm", "IBM PowerKVM"],
    ["suse", "SUSE Linux Enterprise Server"],
    ["opensuse", "openSUSE"],
    ["gentoo", "Gentoo Linux"],
    ["slackware", "Slackware"],
    ["arch", "Arch Linux"],
    ["exherbo", "Exherbo"],
    ["alpine", "Alpine Linux"],
    ["coreos", "CoreOS"],
    ["rocky", "rocky"],
    ["almalinux", "almalinux"],
    ["toString", "toString"],
    ["", ""],
  ];
  for (const [id, name] of table) assert.equal(displayPlatformName(id), name, id);
});
