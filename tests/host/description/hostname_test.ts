import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createSource } from "../../../src/host/source.ts";
import { readHostname } from "../../../src/host/description/hostname.ts";
import { withTempDir, writeFiles } from "../../support/temp_dir.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/spec/${name}`, import.meta.url));

Deno.test("hostname: the kernel node name from procfs, trimmed", async () => {
  assert.equal(await readHostname(createSource({ procfs: fixture("x86/proc") })), "web-01");
});

Deno.test("hostname: falls back to Deno.hostname() when procfs has no hostname", async () => {
  const source = createSource({ procfs: fixture("arm64/proc") });
  assert.equal(await readHostname(source), Deno.hostname());
});

Deno.test("hostname: the live machine's name is Deno.hostname()", async () => {
  assert.equal(await readHostname(createSource()), Deno.hostname());
});

Deno.test("hostname: from outside (-rootfs), the host's /etc/hostname names the host", async () => {
  await withTempDir("hostname_test_", async (rootfs) => {
    await writeFiles(rootfs, { "etc/hostname": "# set by the installer\n\n  db-01  \nignored\n" });
    // The kernel's name is the reader's UTS namespace's: the container's, not the host's.
    const source = createSource({ procfs: fixture("x86/proc"), rootfs });
    assert.equal(await readHostname(source), "db-01");
  });
});

Deno.test("hostname: from outside without /etc/hostname, the kernel's name", async () => {
  await withTempDir("hostname_test_", async (rootfs) => {
    await writeFiles(rootfs, { "etc/hostname": "# only a comment\n" });
    assert.equal(
      await readHostname(createSource({ procfs: fixture("x86/proc"), rootfs })),
      "web-01",
    );
  });
  await withTempDir("hostname_test_", async (rootfs) => {
    assert.equal(
      await readHostname(createSource({ procfs: fixture("x86/proc"), rootfs })),
      "web-01",
    );
  });
});

Deno.test("hostname: without -rootfs, /etc/hostname is not read", async () => {
  await withTempDir("hostname_test_", async (dir) => {
    await writeFiles(dir, { "etc/hostname": "db-01\n" });
    const source = createSource({ procfs: fixture("x86/proc"), etc: `${dir}/etc` });
    assert.equal(await readHostname(source), "web-01");
  });
});
