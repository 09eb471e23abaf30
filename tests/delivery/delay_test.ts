import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_MINUTE_MS } from "../../src/async/minute.ts";
import { initialDelaySeconds, postDelaySeconds, postTimings } from "../../src/delivery/delay.ts";

Deno.test("delay: post second is the last SHA-1 byte of the host id mod 60 (upstream's ids)", async () => {
  assert.equal(await postDelaySeconds("246PUVUngPo"), 40);
  assert.equal(await postDelaySeconds("21GZjCE5Etb"), 15);
  assert.equal(await postDelaySeconds("xxx1234567890"), 12);
});

Deno.test("delay: post second of other ids, including empty and non-ASCII", async () => {
  // SHA-1("a") ends in 0xb8 = 184, SHA-1("") in 0x09.
  assert.equal(await postDelaySeconds("a"), 184 % 60);
  assert.equal(await postDelaySeconds(""), 9);
  assert.equal(await postDelaySeconds("host-1"), 21);
  assert.equal(await postDelaySeconds("2Xj9fQk7Hn3"), 27);
  assert.equal(await postDelaySeconds("日本語"), 22);
});

Deno.test("delay: post second is an integer in [0, 60) for any id", async () => {
  await fc.assert(
    fc.asyncProperty(fc.string(), async (id) => {
      const s = await postDelaySeconds(id);
      return Number.isInteger(s) && s >= 0 && s < 60;
    }),
    { numRuns: 200 },
  );
});

Deno.test("delay: initial delay is half the post delay, rounded down", () => {
  assert.equal(initialDelaySeconds(40), 20);
  assert.equal(initialDelaySeconds(15), 7);
  assert.equal(initialDelaySeconds(1), 0);
  assert.equal(initialDelaySeconds(0), 0);
  assert.equal(initialDelaySeconds(59), 29);
});

Deno.test("delay: upstream's timings for a 60-second minute", () => {
  assert.equal(DEFAULT_MINUTE_MS, 60_000);
  assert.deepEqual({ ...postTimings() }, {
    minuteMs: 60_000,
    secondMs: 1_000,
    queuedDelayMs: 30_000,
    errorDelayMs: 60_000,
    terminatingDelayMs: 1_000,
    maxTerminatingMs: 30_000,
    immediateRetryWindowMs: 25_000,
  });
});

Deno.test("delay: every timing scales with the minute", () => {
  assert.deepEqual({ ...postTimings(6_000) }, {
    minuteMs: 6_000,
    secondMs: 100,
    queuedDelayMs: 3_000,
    errorDelayMs: 6_000,
    terminatingDelayMs: 100,
    maxTerminatingMs: 3_000,
    immediateRetryWindowMs: 2_500,
  });
  const fast = postTimings(1_000); // -interval 1
  assert.equal(fast.queuedDelayMs, 500);
  assert.equal(fast.errorDelayMs, 1_000);
  assert.equal(fast.maxTerminatingMs, 500);
  assert.equal(fast.terminatingDelayMs, 1_000 / 60);
});

Deno.test("delay: a minute that is not a positive number is refused", () => {
  assert.throws(() => postTimings(0), /positive number of milliseconds, got 0/);
  assert.throws(() => postTimings(-60_000), RangeError);
  assert.throws(() => postTimings(Number.NaN), RangeError);
  assert.throws(() => postTimings(Number.POSITIVE_INFINITY), RangeError);
});
