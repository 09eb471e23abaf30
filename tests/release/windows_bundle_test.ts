import assert from "node:assert/strict";
import { join } from "node:path";
import {
  bundleDist,
  BundleError,
  bundleName,
  fetchWrapper,
  sha256Hex,
  SHAWL,
  WINDOWS_TARGETS,
} from "../../scripts/windows_bundle.ts";
import { writeZip, zipEntry, ZipError, zipNames } from "../../scripts/zip.ts";
import { hasCommand } from "../support/commands.ts";
import { withTempDir } from "../support/temp_dir.ts";

const HAS_ZIP = hasCommand("zip");
const HAS_UNZIP = hasCommand("unzip");

Deno.test("windows bundle: the pin names shawl's release and full SHA-256 digests", () => {
  assert.match(SHAWL.url, new RegExp(`/v${SHAWL.version}/shawl-v${SHAWL.version}-win64\\.zip$`));
  assert.match(SHAWL.licenseUrl, new RegExp(`/shawl/v${SHAWL.version}/LICENSE$`));
  for (const digest of [SHAWL.sha256, SHAWL.exeSha256, SHAWL.licenseSha256]) {
    assert.match(digest, /^[0-9a-f]{64}$/);
  }
  assert.deepEqual(WINDOWS_TARGETS, ["x86_64-pc-windows-msvc", "aarch64-pc-windows-msvc"]);
  assert.equal(
    bundleName("0.1.0", "x86_64-pc-windows-msvc"),
    "mackerel-agent-0.1.0-x86_64-pc-windows-msvc.zip",
  );
});

Deno.test({
  name: "zip: a file is read back from an archive made by Info-ZIP's zip, deflated or stored" +
    (HAS_ZIP ? "" : " (skipped: zip is not installed)"),
  ignore: !HAS_ZIP,
}, async () => {
  await withTempDir("zip_test_", async (dir) => {
    const exe = crypto.getRandomValues(new Uint8Array(60_000));
    const text = new TextEncoder().encode("MIT License\n".repeat(500));
    await Deno.writeFile(join(dir, "shawl.exe"), exe);
    await Deno.writeFile(join(dir, "LICENSE"), text);
    for (const level of ["-9", "-0"]) {
      const out = await new Deno.Command("zip", {
        args: ["-q", level, "a.zip", "shawl.exe", "LICENSE"],
        cwd: dir,
      }).output();
      assert.ok(out.success);
      const zip = await Deno.readFile(join(dir, "a.zip"));
      assert.deepEqual(zipNames(zip), ["shawl.exe", "LICENSE"]);
      assert.deepEqual(zipEntry(zip, "shawl.exe"), exe);
      assert.deepEqual(zipEntry(zip, "LICENSE"), text);
      await Deno.remove(join(dir, "a.zip"));
    }
  });
});

Deno.test("zip: a damaged or foreign archive is one ZipError", () => {
  const zip = writeZip([{ name: "a/b.txt", data: new TextEncoder().encode("hello ".repeat(100)) }]);
  assert.equal(new TextDecoder().decode(zipEntry(zip, "a/b.txt")), "hello ".repeat(100));
  assert.throws(() => zipEntry(zip, "c.txt"), ZipError);
  assert.throws(() => zipEntry(new TextEncoder().encode("not a zip at all"), "a"), /not a zip/);
  const flipped = zip.slice();
  flipped[40] ^= 0xff; // inside the deflated data
  assert.throws(() => zipEntry(flipped, "a/b.txt"), ZipError);
  assert.throws(() => zipEntry(zip.subarray(30), "a/b.txt"), ZipError);
  assert.throws(() => writeZip([{ name: "a\\b", data: new Uint8Array() }]), RangeError);
});

/** Serves `files` on loopback for one test; returns their URLs' base. */
async function serving<T>(
  files: Record<string, Uint8Array>,
  fn: (base: string) => Promise<T>,
): Promise<T> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const data = files[new URL(request.url).pathname];
    return data ? new Response(new Uint8Array(data)) : new Response("not found", { status: 404 });
  });
  try {
    return await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("windows bundle: the wrapper is taken only when every digest matches the pin", async () => {
  const exe = new TextEncoder().encode("MZ pretend shawl");
  const license = new TextEncoder().encode("MIT License\n");
  const archive = writeZip([{ name: "shawl.exe", data: exe }]);
  await serving({ "/shawl.zip": archive, "/LICENSE": license }, async (base) => {
    const pin = {
      ...SHAWL,
      url: `${base}/shawl.zip`,
      sha256: await sha256Hex(archive),
      exeSha256: await sha256Hex(exe),
      licenseUrl: `${base}/LICENSE`,
      licenseSha256: await sha256Hex(license),
    } as unknown as typeof SHAWL;
    assert.deepEqual(await fetchWrapper(pin), { wrapper: exe, license });

    const wrongs: [Partial<Record<keyof typeof SHAWL, string>>, RegExp][] = [
      [{ sha256: "0".repeat(64) }, /shawl\.zip: SHA-256 [0-9a-f]{64}, expected 0{64}; refusing it/],
      [{ exeSha256: "1".repeat(64) }, /shawl\.exe in .*: SHA-256 .*expected 1{64}/],
      [{ licenseSha256: "2".repeat(64) }, /LICENSE: SHA-256 .*expected 2{64}/],
      [{ url: `${base}/missing.zip` }, /missing\.zip: HTTP 404/],
    ];
    for (const [change, message] of wrongs) {
      await assert.rejects(
        fetchWrapper({ ...pin, ...change } as typeof SHAWL),
        (error) => error instanceof BundleError && message.test(error.message),
      );
    }
  });
});

Deno.test("windows bundle: each Windows binary in dist becomes a zip listed in SHA256SUMS", async () => {
  await withTempDir("windows_bundle_test_", async (dist) => {
    const agent = new TextEncoder().encode("MZ pretend agent");
    await Deno.writeFile(join(dist, "mackerel-agent-0.1.0-x86_64-pc-windows-msvc.exe"), agent);
    await Deno.writeTextFile(join(dist, "SHA256SUMS"), `${"a".repeat(64)}  other-file\n`);
    const written = await bundleDist({
      dist,
      version: "0.1.0",
      wrapper: new TextEncoder().encode("MZ shawl"),
      license: new TextEncoder().encode("MIT"),
    });
    const name = "mackerel-agent-0.1.0-x86_64-pc-windows-msvc.zip";
    assert.deepEqual(written, [join(dist, name)]);
    const zip = await Deno.readFile(join(dist, name));
    assert.deepEqual(zipNames(zip), [
      "mackerel-agent/mackerel-agent.exe",
      "mackerel-agent/shawl.exe",
      "mackerel-agent/shawl-LICENSE.txt",
    ]);
    assert.deepEqual(zipEntry(zip, "mackerel-agent/mackerel-agent.exe"), agent);
    assert.equal(
      await Deno.readTextFile(join(dist, "SHA256SUMS")),
      `${"a".repeat(64)}  other-file\n${await sha256Hex(zip)}  ${name}\n`,
    );
    // The same inputs give the same bytes (fixed entry dates).
    assert.deepEqual(
      writeZip([{ name: "x", data: agent }]),
      writeZip([{ name: "x", data: agent }]),
    );
    if (HAS_UNZIP) {
      const out = await new Deno.Command("unzip", { args: ["-tq", join(dist, name)] }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stdout));
    }
  });
});
