import assert from "node:assert/strict";
import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { crc32 } from "../../src/delivery/crc32.ts";

Deno.test("crc32: the check value of the standard and zlib's answer for any bytes", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4100 }), fc.nat(7), (bytes, start) => {
      // Views that start anywhere in their buffer, of every length modulo four.
      const view = bytes.subarray(Math.min(start, bytes.length));
      assert.equal(crc32(view), zlibCrc32(view));
    }),
    { numRuns: 500 },
  );
});
