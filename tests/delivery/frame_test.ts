import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeFrameAt,
  encodeFrame,
  FRAME_HEADER_BYTES,
  guessDamagedPayloads,
  hasSegmentMagic,
  scanFrames,
  SEGMENT_MAGIC,
} from "../../src/delivery/frame.ts";

const encoder = new TextEncoder();
const PREFIX = encoder.encode('{"op":"');

/** A segment: the magic, then one frame per payload; and where each frame starts and ends. */
function segment(payloads: readonly Uint8Array[]) {
  const frames = payloads.map(encodeFrame);
  const bytes = new Uint8Array(
    SEGMENT_MAGIC.length + frames.reduce((n, f) => n + f.length, 0),
  );
  bytes.set(SEGMENT_MAGIC);
  const extents: { start: number; end: number }[] = [];
  let offset = SEGMENT_MAGIC.length;
  for (const frame of frames) {
    bytes.set(frame, offset);
    extents.push({ start: offset, end: offset + frame.length });
    offset += frame.length;
  }
  return { bytes, extents };
}

const scan = (bytes: Uint8Array) =>
  scanFrames(bytes, { start: SEGMENT_MAGIC.length, payloadPrefix: PREFIX });

/** Payloads as the spool writes them: the prefix, then anything (here without the prefix again). */
const payload = fc.uint8Array({ maxLength: 300 }).map((rest) => {
  const out = new Uint8Array(PREFIX.length + rest.length);
  out.set(PREFIX);
  // A '{' in the body is common (JSON); the whole prefix inside one is not, and is excluded here.
  out.set(rest.map((b) => (b === 0x22 ? 0x21 : b)), PREFIX.length);
  return out;
});
const payloads = fc.array(payload, { maxLength: 12 });

Deno.test("frame: a segment of frames decodes to its payloads, in order", () => {
  const parts = ['{"op":"first', '{"op":"', '{"op":"third\nwith a newline'].map((t) =>
    encoder.encode(t)
  );
  const { bytes, extents } = segment(parts);
  assert.ok(hasSegmentMagic(bytes));
  const decoded = scan(bytes);
  assert.deepEqual(decoded.frames.map((f) => f.payload), parts);
  assert.deepEqual(decoded.skipped, []);
  assert.deepEqual(decoded.frames.map((f) => f.offset), extents.map((e) => e.start));
});

Deno.test("frame: any truncation keeps exactly the complete frames and reports the torn tail", () => {
  fc.assert(
    fc.property(payloads, fc.nat(), (parts, cut) => {
      const { bytes, extents } = segment(parts);
      const at = SEGMENT_MAGIC.length + cut % (bytes.length - SEGMENT_MAGIC.length + 1);
      const decoded = scan(bytes.subarray(0, at));
      const complete = extents.filter((e) => e.end <= at).length;
      assert.equal(decoded.frames.length, complete);
      decoded.frames.forEach((f, i) => assert.deepEqual(f.payload, parts[i]));
      const end = complete === 0 ? SEGMENT_MAGIC.length : extents[complete - 1].end;
      assert.deepEqual(
        decoded.skipped,
        end < at ? [{ offset: end, length: at - end, tail: true }] : [],
      );
    }),
    { numRuns: 500 },
  );
});

Deno.test("frame: any set of damaged frames loses exactly the damaged frames", () => {
  fc.assert(
    fc.property(
      payloads.filter((p) => p.length > 0),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 20,
      }),
      (parts, flips) => {
        const { bytes, extents } = segment(parts);
        const damaged = bytes.slice();
        for (const [frame, where, mask] of flips) {
          const { start, end } = extents[frame % extents.length];
          damaged[start + where % (end - start)] ^= mask;
        }
        // Two flips of the same bits cancel out: a frame is damaged when its bytes differ.
        const hit = new Set(
          extents.flatMap(({ start, end }, i) =>
            damaged.subarray(start, end).some((b, j) => b !== bytes[start + j]) ? [i] : []
          ),
        );
        const decoded = scan(damaged);
        const kept = parts.filter((_, i) => !hit.has(i));
        assert.deepEqual(decoded.frames.map((f) => f.payload), kept);
        assert.deepEqual(
          decoded.frames.map((f) => f.offset),
          extents.filter((_, i) => !hit.has(i)).map((e) => e.start),
        );
        // Every damaged byte is in a reported stretch, and nothing else is.
        const skippedBytes = decoded.skipped.reduce((n, s) => n + s.length, 0);
        const damagedBytes = [...hit].reduce((n, i) => n + extents[i].end - extents[i].start, 0);
        assert.equal(skippedBytes, damagedBytes);
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("frame: a damaged payload with its length intact is told by its header", () => {
  const parts = ['{"op":"put","id":1}\n[1]', '{"op":"put","id":2}\n[2]', '{"op":"put","id":3}\n[3]']
    .map((t) => encoder.encode(t));
  const { bytes, extents } = segment(parts);
  const damaged = bytes.slice();
  damaged[extents[1].end - 2] ^= 0xff; // inside the body of the second frame
  const decoded = scan(damaged);
  assert.deepEqual(decoded.frames.map((f) => f.payload), [parts[0], parts[2]]);
  assert.deepEqual(decoded.skipped, [{
    offset: extents[1].start,
    length: extents[1].end - extents[1].start,
    tail: false,
  }]);
  const guesses = guessDamagedPayloads(damaged, decoded.skipped[0]);
  assert.equal(guesses.length, 1);
  assert.ok(new TextDecoder().decode(guesses[0]).startsWith('{"op":"put","id":2}\n'));
});

Deno.test("frame: garbage never throws and yields no frame it cannot verify", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2_000 }), (garbage) => {
      const decoded = scanFrames(garbage, { payloadPrefix: PREFIX });
      for (const f of decoded.frames) {
        assert.deepEqual(
          decodeFrameAt(
            garbage.subarray(f.offset, f.offset + FRAME_HEADER_BYTES + f.payload.length),
          ),
          f.payload,
        );
      }
      const covered = decoded.frames.reduce((n, f) =>
        n + FRAME_HEADER_BYTES + f.payload.length, 0) +
        decoded.skipped.reduce((n, s) => n + s.length, 0);
      assert.equal(covered, garbage.length);
    }),
    { numRuns: 500 },
  );
});

Deno.test("frame: a length past the bytes or the limit is no frame; the magic is checked", () => {
  const frame = encodeFrame(encoder.encode('{"op":"x'));
  new DataView(frame.buffer).setUint32(0, 0xffffffff, true);
  assert.deepEqual(scanFrames(frame, { payloadPrefix: PREFIX }).frames, []);
  assert.equal(decodeFrameAt(frame), undefined);
  assert.equal(hasSegmentMagic(new Uint8Array([77, 75])), false);
});
