import assert from "node:assert/strict";
import { startDeadline } from "../../src/async/deadline.ts";
import { nextTick } from "../../src/async/minute.ts";

Deno.test("deadline: aborts with a TimeoutError once the time is up", async () => {
  const deadline = startDeadline(5);
  await new Promise<void>((resolve) => deadline.signal.addEventListener("abort", () => resolve()));
  assert.ok(deadline.signal.reason instanceof DOMException);
  assert.equal(deadline.signal.reason.name, "TimeoutError");
  deadline.clear(); // after the end: nothing left to call off
});

Deno.test("deadline: a deadline called off never aborts and holds no timer", async () => {
  const deadline = startDeadline(20);
  deadline.clear();
  deadline.clear();
  // A timer left running would fail this test with Deno's timer leak check.
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(deadline.signal.aborted, false);
});

Deno.test("deadline: a length no timer takes is refused", () => {
  for (const ms of [-1, Number.NaN, 2 ** 31]) {
    assert.throws(() => startDeadline(ms), RangeError);
  }
});

Deno.test("nextTick: the first tick of the rhythm that is not before now", () => {
  assert.equal(nextTick(60_000, 30_000, 60_000), 60_000);
  assert.equal(nextTick(60_000, 60_000, 60_000), 60_000);
  assert.equal(nextTick(60_000, 60_001, 60_000), 120_000);
  assert.equal(nextTick(60_000, 610_000, 60_000), 660_000);
  assert.throws(() => nextTick(0, 1, 0), RangeError);
});
