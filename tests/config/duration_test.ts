import assert from "node:assert/strict";
import {
  formatGoDuration,
  parseDurationMinutes,
  parseGoDuration,
} from "../../src/config/duration.ts";

Deno.test("duration: upstream's TestParseDuration table", () => {
  const ok: [string, number][] = [["0", 0], ["10", 10], ["10m", 10], ["1h10m", 70], ["2.5h", 150]];
  for (const [text, minutes] of ok) assert.equal(parseDurationMinutes(text), minutes, text);
  const bad: [string, string][] = [
    ["-10", "duration out of range: -10"],
    ["-10m", "duration out of range: -10m0s"],
    ["1s", "duration not multiple of 1m: 1s"],
    ["1ms", "duration not multiple of 1m: 1ms"],
    ["1.1m", "duration not multiple of 1m: 1m6s"],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseDurationMinutes(text), { message }, text);
  }
});

Deno.test("duration: TOML integers, floats and other types", () => {
  assert.equal(parseDurationMinutes(60n), 60);
  assert.equal(parseDurationMinutes("1h30m"), 90);
  assert.equal(parseDurationMinutes(30.0), 30);
  assert.throws(() => parseDurationMinutes(-10n), { message: "duration out of range: -10" });
  assert.throws(() => parseDurationMinutes(1.5), {
    message: 'strconv.ParseInt: parsing "1.5": invalid syntax',
  });
  assert.throws(() => parseDurationMinutes("abc"), {
    message: 'strconv.ParseInt: parsing "abc": invalid syntax',
  });
  assert.throws(() => parseDurationMinutes("3000000000"), {
    message: 'strconv.ParseInt: parsing "3000000000": value out of range',
  });
  assert.throws(() => parseDurationMinutes([1]), {
    message: "incompatible types: TOML value has type []any; destination has type primitive " +
      "(string-like)",
  });
});

Deno.test("duration: Go's ParseDuration and Duration.String", () => {
  assert.equal(parseGoDuration("1h2m3.5s"), 3_723_500_000_000n);
  assert.equal(parseGoDuration("+.5us"), 500n);
  assert.equal(parseGoDuration("1\u00b5s"), 1_000n);
  assert.throws(() => parseGoDuration("10"), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseGoDuration("1d"), {
    message: 'time: unknown unit "d" in duration "1d"',
  });
  assert.throws(() => parseGoDuration("."), { message: 'time: invalid duration "."' });
  assert.throws(() => parseGoDuration("9999999999h"), {
    message: 'time: invalid duration "9999999999h"',
  });
  const formats: [bigint, string][] = [
    [0n, "0s"],
    [1n, "1ns"],
    [1_500n, "1.5\u00b5s"],
    [1_000_000n, "1ms"],
    [66_000_000_000n, "1m6s"],
    [-600_000_000_000n, "-10m0s"],
    [5_400_000_000_000n, "1h30m0s"],
    [1_500_000_000n, "1.5s"],
  ];
  for (const [ns, text] of formats) assert.equal(formatGoDuration(ns), text);
});
