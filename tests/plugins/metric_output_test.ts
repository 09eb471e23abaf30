import assert from "node:assert/strict";
import fc from "fast-check";
import { runCommand } from "../../src/plugins/command.ts";
import {
  goFields,
  goQuote,
  parseGoFloat,
  parseGoInt,
  parseMetricOutput,
} from "../../src/plugins/metric_output.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands");

const DICE = new URL("../fixtures/plugins/dice.sh", import.meta.url).pathname;
const NOW = 1_700_000_000;
const plain = { usePluginTimestamp: false, nowSeconds: NOW };

async function runPlugin(line: string): Promise<string> {
  const r = await runCommand({
    command: { kind: "shell", line },
    extraEnv: { MACKEREL_AGENT_PLUGIN_META: "" },
    timeoutMs: 5000,
  });
  assert.equal(r.error, undefined);
  return r.stdout;
}

unix.test("metric_output: dice plugin output is parsed under custom.", async () => {
  const out = parseMetricOutput(await runPlugin(DICE), plain);
  assert.deepEqual(out, {
    values: [
      { name: "custom.dice.d6", value: 3, finite: true },
      { name: "custom.dice.d20", value: 17, finite: true },
    ],
    warnings: [],
  });
});

unix.test("metric_output: include, exclude and both patterns", async () => {
  const stdout = await runPlugin(DICE);
  const names = (o: { includePattern?: RegExp; excludePattern?: RegExp }) =>
    parseMetricOutput(stdout, { ...plain, ...o }).values.map((v) => v.name);
  assert.deepEqual(names({ includePattern: /^dice\.d6/ }), ["custom.dice.d6"]);
  assert.deepEqual(names({ excludePattern: /^dice\.d20/ }), ["custom.dice.d6"]);
  assert.deepEqual(names({ includePattern: /^dice\.d20/, excludePattern: /^dice\.d20/ }), []);
  // Unanchored search, and a /g pattern's lastIndex does not make every other key miss.
  assert.deepEqual(names({ includePattern: /d/g }), ["custom.dice.d6", "custom.dice.d20"]);
});

unix.test("metric_output: tab-separated and multi-space lines give one value each", async () => {
  const tab = parseMetricOutput(await runPlugin('echo "just.echo.1\t1\t1397822016"'), plain);
  assert.deepEqual(tab.values, [{ name: "custom.just.echo.1", value: 1, finite: true }]);
  const spaces = parseMetricOutput(await runPlugin('echo "just.echo.2   2   1397822016"'), plain);
  assert.deepEqual(spaces.values, [{ name: "custom.just.echo.2", value: 2, finite: true }]);
});

Deno.test("metric_output: short lines ignored, extra fields ignored, CR and NBSP split", () => {
  const out = parseMetricOutput(
    "a 1\n\nb 2 3 extra fields\r\nc\u00a03\u00a04\n  d  4  5  \n# comment here\n",
    plain,
  );
  assert.deepEqual(out.values.map((v) => [v.name, v.value]), [
    ["custom.b", 2],
    ["custom.c", 3],
    ["custom.d", 4],
  ]);
  assert.deepEqual(out.warnings, [
    'Failed to parse values (key=#): strconv.ParseFloat: parsing "comment": invalid syntax',
  ]);
});

Deno.test("metric_output: duplicate keys, last wins", () => {
  const out = parseMetricOutput("x 1 0\ny 5 0\nx 2 0\n", plain);
  assert.deepEqual(out.values.map((v) => [v.name, v.value]), [["custom.x", 2], ["custom.y", 5]]);
});

Deno.test("metric_output: NaN and Inf are parsed and flagged, out of range warns", () => {
  const out = parseMetricOutput("n NaN 0\ni -Infinity 0\nbig 1e400 0\nh 0x1p-2 0\n", plain);
  assert.equal(out.values.length, 3);
  assert.equal(Number.isNaN(out.values[0].value), true);
  assert.equal(out.values[0].finite, false);
  assert.deepEqual(out.values.slice(1), [
    { name: "custom.i", value: -Infinity, finite: false },
    { name: "custom.h", value: 0.25, finite: true },
  ]);
  assert.deepEqual(out.warnings, [
    'Failed to parse values (key=big): strconv.ParseFloat: parsing "1e400": value out of range',
  ]);
});

Deno.test("metric_output: the plugin timestamp window is ±14:59 valid, ±15:00 invalid", () => {
  const at = (offset: number) =>
    parseMetricOutput(`k 1 ${NOW + offset}\n`, { usePluginTimestamp: true, nowSeconds: NOW });
  for (const offset of [0, 899, -899]) {
    assert.deepEqual(at(offset), {
      values: [{ name: "custom.k", value: 1, finite: true, time: NOW + offset }],
      warnings: [],
    });
  }
  for (const offset of [900, -900, 1800, -1800]) {
    assert.deepEqual(at(offset), {
      values: [],
      warnings: [
        "Rejected because it exceeds the acceptable time window. (key=k): " +
        `metric_timestamp=${NOW + offset} now=${NOW}`,
      ],
    });
  }
});

Deno.test("metric_output: the timestamp is ignored unless use_plugin_timestamp", () => {
  assert.deepEqual(parseMetricOutput("k 1 junk\n", plain).values, [
    { name: "custom.k", value: 1, finite: true },
  ]);
  const out = parseMetricOutput("k 1 junk\nl 2 99999999999999999999\n", {
    usePluginTimestamp: true,
    nowSeconds: NOW + 0.9,
  });
  assert.deepEqual(out, {
    values: [],
    warnings: [
      'Failed to parse time (key=k): strconv.ParseInt: parsing "junk": invalid syntax',
      'Failed to parse time (key=l): strconv.ParseInt: parsing "99999999999999999999": value out of range',
    ],
  });
});

Deno.test("metric_output: Go ParseFloat accepts what Go accepts", () => {
  const ok: [string, number][] = [
    ["1", 1],
    ["+1", 1],
    ["-0.1", -0.1],
    ["1e23", 1e23],
    ["1E23", 1e23],
    ["625e-3", 0.625],
    ["1.", 1],
    [".5", 0.5],
    ["1_23.50_0_0e+1_2", 1.235e14],
    ["0x1p0", 1],
    ["0x1ep-1", 15],
    ["-0x1_ep-1", -15],
    ["0x1fFe2.P0", 131042],
    ["0x0.fp4", 15],
    ["0x.1fffffffffffffp1027", 1.7976931348623157e308],
    ["0x_1_2.3_4_5p+1_2", 74565],
    ["0x1p-200", 6.223015277861142e-61],
    ["0x1p-1074", 5e-324],
    ["0x1p-1075", 0],
    ["0x1.8p-1075", 5e-324],
    ["1.7976931348623158e308", 1.7976931348623157e308],
    ["1e-400", 0],
    ["0e+01234567890123456789", 0],
    ["inf", Infinity],
    ["+INF", Infinity],
    ["-Infinity", -Infinity],
  ];
  for (const [s, want] of ok) assert.deepEqual(parseGoFloat(s), { value: want }, s);
  assert.equal(Object.is((parseGoFloat("-0") as { value: number }).value, -0), true);
  assert.equal(Number.isNaN((parseGoFloat("nAn") as { value: number }).value), true);
  for (
    const s of ["", "1x", "1.1.", "0x1e2", "1p2", "+nan", "infin", "_1", "1__2", "1_", "1e", "."]
  ) {
    assert.deepEqual(parseGoFloat(s), {
      error: `strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`,
    }, s);
  }
  for (
    const s of [
      "1e309",
      "-1e310",
      "0x1p1024",
      "0x1.fffffffffffff8p1023",
      "1.797693134862315808e308",
    ]
  ) {
    assert.deepEqual(parseGoFloat(s), {
      error: `strconv.ParseFloat: parsing "${s}": value out of range`,
    }, s);
  }
});

Deno.test("metric_output: every float64 round-trips through its decimal and hex forms", () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
      // JavaScript prints -0 as "0"; Go text keeps the sign.
      const sign = Object.is(d, -0) ? "-" : "";
      assert.deepEqual(parseGoFloat(sign + String(d)), { value: d });
      assert.deepEqual(parseGoFloat(sign + d.toExponential()), { value: d });
      assert.deepEqual(parseGoFloat(hexForm(d)), { value: d });
    }),
  );
});

/** `%x` of a float64 as Go prints it, e.g. 0x1.8p+01; a hex form of every finite double. */
function hexForm(d: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? "-" : "";
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  if (exp === 0) return `${sign}0x0.${frac.toString(16).padStart(13, "0")}p-1022`;
  return `${sign}0x1.${frac.toString(16).padStart(13, "0")}p${exp - 1023}`;
}

Deno.test("metric_output: Go ParseInt base 10", () => {
  assert.deepEqual(parseGoInt("+0123"), { value: 123n });
  assert.deepEqual(parseGoInt("-9223372036854775808"), { value: -(1n << 63n) });
  assert.deepEqual(parseGoInt("9223372036854775808"), {
    error: 'strconv.ParseInt: parsing "9223372036854775808": value out of range',
  });
  for (const s of ["", "+", "1_0", "0x10", "1.0", " 1"]) {
    assert.deepEqual(parseGoInt(s), {
      error: `strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`,
    });
  }
});

Deno.test("metric_output: fields split like Go strings.Fields", () => {
  assert.deepEqual(goFields(" a\tb\u3000c\u0085d\ufeffe \n"), ["a", "b", "c", "d\ufeffe"]);
});

Deno.test("metric_output: goQuote escapes like strconv.Quote", () => {
  assert.equal(goQuote('a"b\\c\n\x01\x7fé\u200b😀'), '"a\\"b\\\\c\\n\\x01\\x7fé\\u200b😀"');
});
