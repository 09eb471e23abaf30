import assert from "node:assert/strict";
import {
  checkOutcome,
  checkStatusFromExitCode,
  truncateCheckMessage,
  truncateRunes,
} from "../../src/plugins/check_status.ts";
import { runCommand } from "../../src/plugins/command.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands");

Deno.test("check_status: exit codes map to statuses, others are UNKNOWN", () => {
  const table: [number, string][] = [
    [0, "OK"],
    [1, "WARNING"],
    [2, "CRITICAL"],
    [3, "UNKNOWN"],
    [4, "UNKNOWN"],
    [127, "UNKNOWN"],
    [143, "UNKNOWN"],
    [-1, "UNKNOWN"],
  ];
  for (const [code, status] of table) {
    assert.equal(checkStatusFromExitCode(code), status, `${code}`);
  }
});

unix.test("check_status: exit 0 is OK with stdout kept, newline included", async () => {
  const r = await runCommand({ command: { kind: "shell", line: "echo OK" }, timeoutMs: 5000 });
  assert.deepEqual(checkOutcome(r), { status: "OK", message: "OK\n" });
});

unix.test("check_status: exit 1 is WARNING with stdout untrimmed", async () => {
  const r = await runCommand({
    command: { kind: "shell", line: "printf '  warn\\n\\n'; exit 1" },
    timeoutMs: 5000,
  });
  assert.deepEqual(checkOutcome(r), { status: "WARNING", message: "  warn\n\n" });
});

unix.test("check_status: a timed-out check is UNKNOWN with `command timed out`", async () => {
  const r = await runCommand({
    command: { kind: "shell", line: "sleep 2" },
    timeoutMs: 300,
    killGraceMs: 500,
  });
  assert.deepEqual(checkOutcome(r), { status: "UNKNOWN", message: "command timed out" });
});

Deno.test("check_status: truncateRunes counts code points, not UTF-16 units", () => {
  assert.equal(truncateRunes("abc", 5), "abc");
  assert.equal(truncateRunes("abcdef", 3), "abc");
  assert.equal(truncateRunes("😀😀😀", 2), "😀😀");
  assert.equal(truncateRunes("あい😀う", 3), "あい😀");
  assert.equal(truncateRunes("😀😀", 2), "😀😀");
  assert.equal(truncateRunes("x", 0), "");
});

Deno.test("check_status: messages are cut to 1024 runes", () => {
  assert.equal(truncateCheckMessage("a".repeat(1024)), "a".repeat(1024));
  assert.equal(truncateCheckMessage("a".repeat(1025)), "a".repeat(1024));
  assert.equal(truncateCheckMessage("😀".repeat(1030)), "😀".repeat(1024));
});
