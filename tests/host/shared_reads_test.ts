import assert from "node:assert/strict";
import { shareReads } from "../../src/host/shared_reads.ts";
import { createSource } from "../../src/host/source.ts";

/** A source counting the reads that reach it. */
function counting() {
  const reads: string[] = [];
  const base = createSource();
  return {
    reads,
    source: {
      ...base,
      readProc: (rel: string) => {
        reads.push(rel);
        return Promise.resolve(`text of ${rel} #${reads.length}`);
      },
    },
  };
}

Deno.test("shared_reads: within a round each file is read once, whoever asks; a new round reads again", async () => {
  const { reads, source } = counting();
  const shared = shareReads(source);
  const [a, b, c] = await shared.round(() =>
    Promise.all([
      shared.source.readProc("stat"),
      shared.source.readProc("stat"),
      shared.source.readProc("meminfo"),
    ])
  );
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.deepEqual(reads, ["stat", "meminfo"]);
  await shared.round(() => shared.source.readProc("stat"));
  assert.deepEqual(reads, ["stat", "meminfo", "stat"]);
});

Deno.test("shared_reads: outside a round every read goes to the file", async () => {
  const { reads, source } = counting();
  const shared = shareReads(source);
  await shared.source.readProc("stat");
  await shared.source.readProc("stat");
  assert.deepEqual(reads, ["stat", "stat"]);
});
