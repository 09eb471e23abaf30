import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeFrames,
  encodeFrame,
  FRAME_HEADER_BYTES,
  hasSegmentMagic,
  SEGMENT_MAGIC,
} from "../../src/delivery/frame.ts";

/** A segment: the magic, then one frame per payload; and where each frame ends. */
function segment(payloads: readonly Uint8Array[]): { bytes: Uint8Array; ends: number[] } {
  const frames = payloads.map(encodeFrame);
  const bytes = new Uint8Array(
    SEGMENT_MAGIC.length + frames.reduce((n, f) => n + f.length, 0),
  );
  bytes.set(SEGMENT_MAGIC);
  const ends: number[] = [];
  let offset = SEGMENT_MAGIC.length;
  for (const frame of frames) {
    bytes.set(frame, offset);
    offset += frame.length;
    ends.push(offset);
  }
  return { bytes, ends };
}

const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 });

Deno.test("frame: a segment of frames decodes to its payloads, in order", () => {
  const parts = ["first", "", "third\nwith a newline"].map((t) => new TextEncoder().encode(t));
  const { bytes } = segment(parts);
  assert.ok(hasSegmentMagic(bytes));
  const decoded = decodeFrames(bytes, SEGMENT_MAGIC.length);
  assert.deepEqual(decoded.frames.map((f) => new TextDecoder().decode(f.payload)), [
    "first",
    "",
    "third\nwith a newline",
  ]);
  assert.equal(decoded.end, bytes.length);
  assert.deepEqual(decoded.frames.map((f) => f.offset), [8, 21, 21 + FRAME_HEADER_BYTES]);
});

Deno.test("frame: any truncation keeps exactly the frames that are complete, and never throws", () => {
  fc.assert(
    fc.property(payloads, fc.nat(), (parts, cut) => {
      const { bytes, ends } = segment(parts);
      const at = SEGMENT_MAGIC.length + cut % (bytes.length - SEGMENT_MAGIC.length + 1);
      const decoded = decodeFrames(bytes.subarray(0, at), SEGMENT_MAGIC.length);
      const complete = ends.filter((end) => end <= at).length;
      assert.equal(decoded.frames.length, complete);
      decoded.frames.forEach((f, i) => assert.deepEqual(f.payload, parts[i]));
      assert.equal(decoded.end, complete === 0 ? SEGMENT_MAGIC.length : ends[complete - 1]);
    }),
    { numRuns: 500 },
  );
});

Deno.test("frame: any flipped bit keeps the frames before it, and never throws", () => {
  fc.assert(
    fc.property(
      payloads.filter((p) => p.length > 0),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      (parts, where, bit) => {
        const { bytes, ends } = segment(parts);
        const at = SEGMENT_MAGIC.length + where % (bytes.length - SEGMENT_MAGIC.length);
        const corrupt = bytes.slice();
        corrupt[at] ^= 1 << bit;
        const decoded = decodeFrames(corrupt, SEGMENT_MAGIC.length);
        // Frames wholly before the flipped byte are kept; the damaged one and any after it are not.
        const intact = ends.filter((end) => end <= at).length;
        assert.equal(decoded.frames.length, intact);
        decoded.frames.forEach((f, i) => assert.deepEqual(f.payload, parts[i]));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("frame: garbage never throws and yields no frame it cannot verify", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2_000 }), (garbage) => {
      const decoded = decodeFrames(garbage);
      assert.ok(decoded.end <= garbage.length);
      for (const f of decoded.frames) assert.ok(f.offset + FRAME_HEADER_BYTES <= decoded.end);
    }),
    { numRuns: 500 },
  );
});

Deno.test("frame: a length past the bytes or the limit is a torn frame, not a record", () => {
  const frame = encodeFrame(new Uint8Array([1, 2, 3]));
  new DataView(frame.buffer).setUint32(0, 0xffffffff, true);
  assert.deepEqual(decodeFrames(frame).frames, []);
  assert.equal(hasSegmentMagic(new Uint8Array([77, 75])), false);
});
