import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError } from "../../src/config/errors.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { decodeTomlBytes, TextError } from "../../src/config/text.ts";
import { findUnknownKeys } from "../../src/config/unknown_keys.ts";
import { withTempDir } from "../support/temp_dir.ts";

const BOM = [0xef, 0xbb, 0xbf];
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : p),
  );

/** Runs `fn` with a temp config file holding `content`. */
const withFile = <T>(content: Uint8Array, fn: (path: string) => Promise<T>) =>
  withTempDir("text-test-", async (dir) => {
    const path = `${dir}/agent.conf`;
    await Deno.writeFile(path, content);
    return await fn(path);
  });

Deno.test("text: a UTF-8 byte-order mark is skipped, as BurntSushi/toml does", async () => {
  await withFile(
    bytes(BOM, 'apikey = "k"\n[host_status]\non_start = "working"\n'),
    async (path) => {
      const c = await loadConfigFile(path);
      assert.equal(c.apikey, "k");
      assert.equal(c.hostStatus.onStart, "working");
      assert.deepEqual(await findUnknownKeys(path), []);
    },
  );
});

Deno.test("text: UTF-16 (with or without its mark) is refused on line 1 in BurntSushi's words", async () => {
  const utf16 = [..."a=1"].flatMap((c) => [c.charCodeAt(0), 0]);
  for (const content of [[0xff, 0xfe, ...utf16], utf16]) {
    await withFile(new Uint8Array(content), async (path) => {
      const e = await loadConfigFile(path).catch((e) => e);
      assert.ok(e instanceof ConfigError);
      assert.equal(
        e.message,
        `${path}: toml: line 1: files cannot contain NULL bytes; probably using UTF-16; TOML ` +
          "files must be UTF-8",
      );
      assert.equal(e.line, 1);
    });
  }
});

Deno.test("text: an invalid UTF-8 byte names its line and value", async () => {
  await withFile(bytes('apikey = "k"\n\n# caf', [0xe9], "\n"), async (path) => {
    const e = await loadConfigFile(path).catch((e) => e);
    assert.ok(e instanceof ConfigError);
    assert.equal(e.message, `${path}: toml: line 3: invalid UTF-8 byte: 0xe9`);
  });
  // Overlong, surrogate and truncated sequences are invalid too (Go's rules).
  for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe3, 0x81]]) {
    assert.throws(() => decodeTomlBytes(bytes("x = 1\n", bad)), {
      name: "TextError",
      message: `invalid UTF-8 byte: 0x${bad[0].toString(16)}`,
      line: 2,
    });
  }
});

Deno.test("text: any bytes decode or fail with a TextError, never another error", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
      try {
        assert.equal(typeof decodeTomlBytes(data), "string");
      } catch (error) {
        assert.ok(error instanceof TextError, String(error));
        assert.ok(error.line >= 1);
      }
    }),
    { numRuns: 2000 },
  );
});
