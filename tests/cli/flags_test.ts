import assert from "node:assert/strict";
import { type FlagSpec, formatFlagHelp, parseFlags, UsageError } from "../../src/cli/flags.ts";

const SPECS: FlagSpec[] = [
  { name: "conf", kind: "string", help: "" },
  { name: "verbose", kind: "bool", aliases: ["v"], help: "" },
  { name: "role", kind: "list", help: "" },
  { name: "interval", kind: "int", help: "" },
];

Deno.test("flags: -x=v, -x v, --x=v and --x v are the same flag", () => {
  for (const args of [["-conf=a"], ["-conf", "a"], ["--conf=a"], ["--conf", "a"]]) {
    assert.equal(parseFlags(args, SPECS).values.get("conf"), "a", args.join(" "));
  }
});

Deno.test("flags: booleans take no separate value, but -x=false works", () => {
  assert.equal(parseFlags(["-verbose"], SPECS).values.get("verbose"), true);
  assert.equal(parseFlags(["-v=false"], SPECS).values.get("verbose"), false);
  assert.equal(parseFlags(["--verbose=0"], SPECS).values.get("verbose"), false);
  // Go's rule: `-verbose false` ends parsing at the word "false".
  const parsed = parseFlags(["-verbose", "false", "-conf=x"], SPECS);
  assert.equal(parsed.values.get("verbose"), true);
  assert.equal(parsed.values.has("conf"), false);
  assert.deepEqual(parsed.rest, ["false", "-conf=x"]);
});

Deno.test("flags: repeatable flags collect every value in order", () => {
  const parsed = parseFlags(["-role=a:b", "--role", "c:d,e:f"], SPECS);
  assert.deepEqual(parsed.values.get("role"), ["a:b", "c:d,e:f"]);
});

Deno.test("flags: parsing stops at the first non-flag word or after --", () => {
  assert.deepEqual(parseFlags(["-conf=a", "x", "-v"], SPECS).rest, ["x", "-v"]);
  const parsed = parseFlags(["-v", "--", "-conf=a"], SPECS);
  assert.deepEqual(parsed.rest, ["-conf=a"]);
  assert.equal(parsed.values.has("conf"), false);
});

Deno.test("flags: -h and -help ask for usage", () => {
  assert.equal(parseFlags(["-h"], SPECS).help, true);
  assert.equal(parseFlags(["--help"], SPECS).help, true);
  assert.equal(parseFlags(["-v"], SPECS).help, false);
});

Deno.test("flags: mistakes are UsageErrors that name the flag", () => {
  assert.throws(() => parseFlags(["-nope"], SPECS), {
    name: "UsageError",
    message: "flag provided but not defined: -nope",
  });
  assert.throws(() => parseFlags(["-conf"], SPECS), { message: "flag needs an argument: -conf" });
  assert.throws(() => parseFlags(["-interval=abc"], SPECS), {
    message: 'invalid value "abc" for flag -interval',
  });
  assert.throws(() => parseFlags(["-v=maybe"], SPECS), UsageError);
  assert.throws(() => parseFlags(["---conf=a"], SPECS), { message: "bad flag syntax: ---conf=a" });
});

Deno.test("flags: help is laid out as Go's flag.PrintDefaults lays it out", () => {
  const specs: FlagSpec[] = [
    { name: "verbose", kind: "bool", aliases: ["v"], help: "log more" },
    { name: "conf", kind: "string", placeholder: "FILE", help: "config", default: "/etc/a b.conf" },
    { name: "interval", kind: "int", help: "seconds\nper minute", default: 60 },
    { name: "apikey", kind: "string", help: "key", default: "" },
    { name: "x", kind: "int", help: "zero default", default: 0 },
    { name: "child", kind: "bool", help: "internal", internal: true },
  ];
  assert.equal(
    formatFlagHelp(specs),
    "  -apikey value\n    \tkey\n" +
      '  -conf FILE\n    \tconfig (default "/etc/a b.conf")\n' +
      "  -interval value\n    \tseconds\n    \tper minute (default 60)\n" +
      "  -v\tshorthand for -verbose\n" +
      "  -verbose\n    \tlog more\n" +
      "  -x value\n    \tzero default\n",
  );
});
