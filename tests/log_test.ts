import assert from "node:assert/strict";
import fc from "fast-check";
import {
  logger,
  MAX_LINE_BYTES,
  resetLogging,
  safeText,
  setupLogging,
  utf8Bytes,
} from "../src/log.ts";

/** How the log line shows each control character the property test uses. */
const ESCAPED: Readonly<Record<string, string>> = {
  "\n": "\\n",
  "\r": "\\r",
  "\0": "\\x00",
  "\x1b": "\\x1b",
  "\u2028": "\\u2028",
};
// deno-lint-ignore no-control-regex -- the characters a line must not carry raw
const RAW_CONTROL = /[\0-\x08\n-\x1f\x7f\u2028]/;
const RAW_CONTROLS = new RegExp(RAW_CONTROL.source, "g");

Deno.test("log: lines carry upstream's level names and tags, below the level dropped", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", write: (line) => lines.push(line) });
  try {
    logger("metrics.cpuUsage").debug("hidden");
    logger("metrics.cpuUsage").warn("Failed to read {path}", { path: "/proc/stat" });
    logger("api").fatal("boom");
  } finally {
    await resetLogging();
  }
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d WARNING <metrics\.cpuUsage> Failed to read \/proc\/stat$/,
  );
  assert.match(lines[1], / CRITICAL <api> boom$/);
});

Deno.test("log: braces in a plain message are printed as they are, placeholders only on request", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", write: (line) => lines.push(line) });
  try {
    logger("cmdutil").error(`RunCommand error. command: [sh -c awk '{print $1}'], error: {"a":1}`);
    logger("cmdutil").info("value {v}", { v: 7 });
    const name = "x{y}";
    logger("cmdutil").info`tagged ${name}`;
  } finally {
    await resetLogging();
  }
  assert.match(
    lines[0],
    / ERROR <cmdutil> RunCommand error\. command: \[sh -c awk '\{print \$1\}'\], error: \{"a":1\}$/,
  );
  assert.match(lines[1], / INFO <cmdutil> value 7$/);
  assert.match(lines[2], / INFO <cmdutil> tagged x\{y\}$/);
});

Deno.test("log: control characters in a message are escaped, so a record is one line", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", write: (line) => lines.push(line) });
  try {
    const forged =
      "ok\n2024/01/01 00:00:00 CRITICAL <api> forged\r\0\x1b[31mred\x7f\x85\u2028\u202e";
    logger("cmdutil").info`output: ${forged}`;
    logger("cmdutil").warn("tab\tstays, lone \ud800 surrogate");
  } finally {
    await resetLogging();
  }
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    / INFO <cmdutil> output: ok\\n2024\/01\/01 00:00:00 CRITICAL <api> forged\\r\\x00\\x1b\[31mred\\x7f\\x85\\u2028\\u202e$/,
  );
  assert.match(lines[1], / WARNING <cmdutil> tab\tstays, lone \ufffd surrogate$/);
});

Deno.test("log: a long message is cut at 4 KiB with the count of bytes cut", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", write: (line) => lines.push(line) });
  const message = "\u540d".repeat(100_000); // 3 bytes each
  try {
    logger("metrics.plugin").info`stderr: ${message}`;
    logger("metrics.plugin").info("x".repeat(MAX_LINE_BYTES));
    logger("api").error("{value}", { value: { body: "y".repeat(1 << 20) } });
  } finally {
    await resetLogging();
  }
  const encoder = new TextEncoder();
  for (const line of lines) {
    assert.ok(encoder.encode(line).length <= MAX_LINE_BYTES, String(line.length));
  }
  const cut = / … \((\d+) bytes cut\)$/;
  const shown = lines[0].slice(lines[0].indexOf("stderr: ") + 8).replace(cut, "");
  assert.match(shown, /^\u540d+$/u); // cut between characters, never inside one
  assert.equal(shown.length * 3 + Number(cut.exec(lines[0])![1]), 300_000);
  assert.match(lines[1], /x … \(\d+ bytes cut\)$/);
  assert.match(lines[2], /^\S+ \S+ ERROR <api> \{"body":"y+ … \(\d+ bytes cut\)$/);
});

Deno.test("log: safeText keeps any text to one line within the limit", () => {
  fc.assert(
    fc.property(
      fc.string({
        unit: fc.constantFrom(
          "a",
          "\u00e9",
          "\u540d",
          "\u{1f41f}",
          "\n",
          "\r",
          "\0",
          "\x1b",
          "\t",
          "\ud800",
          "\u2028",
        ),
        maxLength: 400,
      }),
      fc.integer({ min: 80, max: 600 }),
      (text, max) => {
        const line = safeText(text, max);
        assert.ok(new TextEncoder().encode(line).length <= max);
        assert.doesNotMatch(line, RAW_CONTROL);
        assert.ok(line.isWellFormed());
        const expected = text.toWellFormed().replace(RAW_CONTROLS, (c) => ESCAPED[c]);
        const cut = / … \((\d+) bytes cut\)$/.exec(line);
        if (cut === null) assert.equal(line, expected);
        else {
          assert.ok(expected.startsWith(line.slice(0, cut.index)));
          assert.ok(Number(cut[1]) > 0);
        }
      },
    ),
  );
});

Deno.test("log: utf8Bytes counts what TextEncoder writes, lone surrogates included", () => {
  const encoder = new TextEncoder();
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => {
      assert.equal(utf8Bytes(text), encoder.encode(text).length);
    }),
    { numRuns: 2000 },
  );
  assert.equal(utf8Bytes("a\u00e9\u20ac\u{1f600}\ud800x\udc00"), 1 + 2 + 3 + 4 + 3 + 1 + 3);
});
