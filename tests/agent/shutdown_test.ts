/**
 * The signal handling of the daemon (src/agent/shutdown.ts), with real signals. The tests that
 * send signals live in tests/agent/shutdown_signals.ts and each runs in a `deno test` process
 * of its own: a signal goes to a whole process, and the suite's test files share one (the
 * supervisor's tests forward what they receive to their children).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { handleSignals } from "../../src/agent/shutdown.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("sends itself SIGTERM, SIGQUIT and SIGHUP");
const SIGNALS = fileURLToPath(new URL("./shutdown_signals.ts", import.meta.url));
const NAMES = [...Deno.readTextFileSync(SIGNALS).matchAll(/^unix\.test\("([^"]+)"/gm)]
  .map((match) => match[1]);

/** Runs the test of the signals module named `name`, alone, in a child `deno test`. */
async function runAlone(name: string): Promise<void> {
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", `--filter=/^${escaped}$/`, SIGNALS],
    env: { NO_COLOR: "1" },
    stdin: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /ok \| 1 passed \| 0 failed/, text);
}

Deno.test("shutdown: this file runs every test of the signals module", () => {
  // Every test call there is one this file found by name: none is left unrun.
  const calls = Deno.readTextFileSync(SIGNALS).match(/\.test\(/g) ?? [];
  assert.equal(calls.length, NAMES.length, NAMES.join("\n"));
  assert.ok(NAMES.length > 0);
  assert.equal(new Set(NAMES).size, NAMES.length);
});

for (const name of NAMES) unix.test(name, () => runAlone(name));

Deno.test("shutdown: a repeat window that is not a number ≥ 0 is a RangeError", () => {
  for (const repeatWindowMs of [-1, Number.NaN, Infinity]) {
    assert.throws(() => handleSignals({ graceMs: 1000, repeatWindowMs }), RangeError);
  }
});
