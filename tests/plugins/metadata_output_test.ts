import assert from "node:assert/strict";
import fc from "fast-check";
import { runCommand } from "../../src/plugins/command.ts";
import {
  clampExecutionInterval,
  encodeMetadata,
  type JsonValue,
  metadataEqual,
  parseJsonValue,
  parseMetadataOutput,
} from "../../src/plugins/metadata_output.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands");

/** Runs a plugin that prints `metadata` and exits with `code`, like upstream's testdata/json.go. */
async function fetchMetadata(metadata: string, code = 0) {
  const r = await runCommand({
    command: {
      kind: "argv",
      argv: ["sh", "-c", 'printf "%s\\n" "$1"; exit "$2"', "sh", metadata, `${code}`],
    },
    timeoutMs: 5000,
  });
  return parseMetadataOutput(r.stdout, r.exitCode);
}

unix.test("metadata_output: valid JSON of any type is accepted and re-encoded compactly", async () => {
  const table: [string, string][] = [
    ["{}", "{}"],
    [
      '{"example": "metadata", "foo": [100, 200, {}, null]}',
      '{"example":"metadata","foo":[100,200,{},null]}',
    ],
    ['"foobar"', '"foobar"'],
    ["262144", "262144"],
    ["true", "true"],
    ["null", "null"],
  ];
  for (const [stdout, json] of table) {
    const out = await fetchMetadata(stdout);
    assert.equal(out.ok, true, stdout);
    assert.equal(out.ok && out.json, json);
  }
});

unix.test("metadata_output: exit code, invalid JSON, bare word and empty output are rejected", async () => {
  assert.deepEqual(await fetchMetadata("{}", 1), { ok: false, error: "exits with: 1" });
  assert.deepEqual(await fetchMetadata('{"example": metadata"}'), {
    ok: false,
    error: 'outputs invalid JSON: {"example": metadata"}\n',
  });
  assert.deepEqual(await fetchMetadata("foobar"), {
    ok: false,
    error: "outputs invalid JSON: foobar\n",
  });
  assert.deepEqual(parseMetadataOutput("", 0), { ok: false, error: "outputs invalid JSON: " });
  assert.deepEqual(parseMetadataOutput("{} {}", 0), {
    ok: false,
    error: "outputs invalid JSON: {} {}",
  });
  assert.deepEqual(parseMetadataOutput("[1e400]", 0), {
    ok: false,
    error: "outputs invalid JSON: [1e400]",
  });
});

Deno.test("metadata_output: encoding matches Go's json.Marshal", () => {
  const value = parseJsonValue(
    '{"z":1,"a":{"b":"<a&b>","a":[-0,1e21,1e-7,0.5]},"\\u00e9":"\\u2028"}',
  );
  assert.equal(
    encodeMetadata(value!),
    '{"a":{"a":[-0,1e+21,1e-7,0.5],"b":"\\u003ca\\u0026b\\u003e"},"z":1,"é":"\\u2028"}',
  );
  // Go sorts by UTF-8 bytes: U+FF61 before U+1F600, unlike UTF-16 order.
  assert.equal(encodeMetadata({ "😀": 1, "｡": 2 }), '{"｡":2,"😀":1}');
});

Deno.test("metadata_output: format differences are not changes; null→{} and []→{} are", () => {
  const eq = (a: string, b: string) => metadataEqual(parseJsonValue(a)!, parseJsonValue(b)!);
  assert.equal(eq("{}", "{}"), true);
  assert.equal(eq('{ "foo": [ 100, 200, null, {} ] }', '{"foo":[100,200,null,{}]}'), true);
  assert.equal(eq('{"a":1,"b":2}', '{"b":2,"a":1.0}'), true);
  assert.equal(eq("null", "{}"), false);
  assert.equal(eq("[]", "{}"), false);
  assert.equal(eq('{"a":null}', "{}"), false);
  assert.equal(eq("[1,2]", "[2,1]"), false);
  assert.equal(eq('"1"', "1"), false);
});

Deno.test("metadata_output: encoding then parsing gives an equal value", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const value = v as JsonValue;
      const back = parseJsonValue(encodeMetadata(value));
      assert.notEqual(back, undefined);
      assert.equal(metadataEqual(back!, value), true);
    }),
  );
});

Deno.test("metadata_output: execution interval defaults to and is at least 10 minutes", () => {
  assert.equal(clampExecutionInterval(undefined), 10);
  assert.equal(clampExecutionInterval(0), 10);
  assert.equal(clampExecutionInterval(1), 10);
  assert.equal(clampExecutionInterval(30), 30);
});
