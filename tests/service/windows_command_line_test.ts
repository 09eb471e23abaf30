import assert from "node:assert/strict";
import fc from "fast-check";
import { joinWindowsArgs, quoteWindowsArg } from "../../src/service/windows_command_line.ts";
import { splitWindowsArgs } from "../support/windows_args.ts";

Deno.test("windows command line: the splitter reads the C runtime's documented examples", () => {
  // The examples of Microsoft's "Parsing C command-line arguments".
  assert.deepEqual(splitWindowsArgs(String.raw`"a b c" d e`), ["a b c", "d", "e"]);
  assert.deepEqual(splitWindowsArgs(String.raw`"ab\"c" "\\" d`), ['ab"c', "\\", "d"]);
  assert.deepEqual(splitWindowsArgs(String.raw`a\\\b d"e f"g h`), [
    String.raw`a\\\b`,
    "de fg",
    "h",
  ]);
  assert.deepEqual(splitWindowsArgs(String.raw`a\\\"b c d`), [String.raw`a\"b`, "c", "d"]);
  assert.deepEqual(splitWindowsArgs(String.raw`a\\\\"b c" d e`), [String.raw`a\\b c`, "d", "e"]);
  assert.deepEqual(splitWindowsArgs(String.raw`a"b"" c d`), ['ab" c d']);
});

Deno.test("windows command line: words are quoted only when they need it", () => {
  assert.equal(quoteWindowsArg("run"), "run");
  assert.equal(quoteWindowsArg("-conf=C:\\agent\\a.conf"), "-conf=C:\\agent\\a.conf");
  assert.equal(
    quoteWindowsArg("C:\\Program Files\\Mackerel\\mackerel-agent\\shawl.exe"),
    '"C:\\Program Files\\Mackerel\\mackerel-agent\\shawl.exe"',
  );
  assert.equal(quoteWindowsArg(""), '""');
  // A trailing backslash would escape the closing quote: it is doubled.
  assert.equal(quoteWindowsArg("C:\\My Dir\\"), '"C:\\My Dir\\\\"');
  assert.equal(quoteWindowsArg('say "hi"'), '"say \\"hi\\""');
  assert.throws(() => quoteWindowsArg("a\0b"), RangeError);
});

Deno.test("windows command line: any argv joined and split again is the same argv", () => {
  const word = fc.string({ unit: fc.constantFrom("a", " ", "\t", '"', "\\", "C", ":", "-", "=") });
  fc.assert(
    fc.property(fc.array(word, { maxLength: 6 }), (args) => {
      assert.deepEqual(splitWindowsArgs(joinWindowsArgs(args)), args);
    }),
    { numRuns: 2000 },
  );
});
