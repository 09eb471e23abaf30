import assert from "node:assert/strict";
import { join } from "node:path";
import type { Clock } from "../../src/async/clock.ts";
import { openSpool, type SpoolOptions } from "../../src/delivery/spool.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const body = (text: string) => encoder.encode(text);
const MIN = 60_000;

/** A clock the test sets by hand (the spool only reads it). */
function manualClock(start = Date.UTC(2024, 0, 1)) {
  let now = start;
  const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
  return { clock, set: (ms: number) => now = ms, advance: (ms: number) => now += ms };
}

function open(dir: string, options: Partial<SpoolOptions> = {}) {
  return openSpool({ dir, maxBytes: 1 << 20, maxAgeMs: 60 * MIN, ...options });
}

async function segments(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("spool: records survive a restart until acknowledged; ids keep growing", async () => {
  await withTempDir("spool", async (root) => {
    const dir = join(root, "spool");
    const first = await open(dir);
    const a = await first.spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
    const b = await first.spool.put({ kind: "checks", body: body('{"n":"x"}'), count: 1 });
    const c = await first.spool.put({
      kind: "metadata",
      key: "h/ns",
      body: body('"v"'),
      count: 1,
    });
    await first.spool.ack([b.id]);
    assert.ok(first.spool.isDurable(a.id));
    // No close: as after kill -9.

    const second = await open(dir);
    assert.deepEqual(second.spool.entries().map((e) => [e.id, e.kind, e.key]), [
      [a.id, "metrics", undefined],
      [c.id, "metadata", "h/ns"],
    ]);
    assert.equal(decoder.decode(await second.spool.read(a)), "[1]");
    assert.equal(decoder.decode(await second.spool.read(c)), '"v"');
    assert.equal(await second.spool.read(b), undefined, "acknowledged means gone");
    assert.deepEqual(second.recovery.records.metrics, { records: 1, count: 1 });
    const d = await second.spool.put({ kind: "metrics", body: body("[2]"), count: 1 });
    assert.ok(d.id > c.id, "ids continue after a restart");
  });
});

Deno.test("spool: fully acknowledged segments are deleted, oldest first", async () => {
  await withTempDir("spool", async (dir) => {
    // Tiny segments: every put starts a new one.
    const { spool } = await open(dir, { segmentBytes: 16 });
    const ids = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await spool.put({ kind: "metrics", body: body(`[${i}]`), count: 1 })).id);
    }
    assert.equal((await segments(dir)).length, 4);
    // The second one first: the first segment still holds a live record, so nothing goes, and
    // a new segment records the ack.
    await spool.ack([ids[1]]);
    assert.equal((await segments(dir)).length, 5);
    await spool.ack([ids[0]]);
    assert.equal((await segments(dir)).length, 3, "the first two segments go together");
    await spool.ack([ids[2], ids[3]]);
    assert.deepEqual(await segments(dir), [], "nothing left but an empty directory");
    assert.equal(spool.stats().bytesOnDisk, 0);

    const reopened = await open(dir);
    assert.deepEqual(reopened.spool.entries(), []);
  });
});

Deno.test("spool: an ack in a newer segment keeps an older record acknowledged after a restart", async () => {
  await withTempDir("spool", async (dir) => {
    const { spool } = await open(dir, { segmentBytes: 16 });
    const a = await spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
    const b = await spool.put({ kind: "metrics", body: body("[2]"), count: 1 });
    await spool.ack([b.id]); // b's segment is not the oldest: an ack frame records it
    const reopened = await open(dir);
    assert.deepEqual(reopened.spool.entries().map((e) => e.id), [a.id]);
  });
});

Deno.test("spool: a torn tail keeps the records before it and says how much was lost", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const { spool } = await open(dir);
      for (let i = 1; i <= 5; i++) {
        await spool.put({ kind: "metrics", body: body(`[${i}]`), count: 1 });
      }
      await spool.close();
      const [name] = await segments(dir);
      const path = join(dir, name);
      const size = (await Deno.stat(path)).size;
      await Deno.truncate(path, size - 3); // the machine died in the middle of the last append

      const reopened = await open(dir);
      const kept = reopened.spool.entries();
      assert.deepEqual(
        await Promise.all(kept.map(async (e) => decoder.decode(await reopened.spool.read(e)))),
        ["[1]", "[2]", "[3]", "[4]"],
      );
      assert.ok(reopened.recovery.lostBytes > 0);
      assert.deepEqual(reopened.recovery.lostFiles, [path]);
      const warnings = lines.filter((l) => l.startsWith("WARNING"));
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0],
        /^WARNING <spool> \d+ bytes of .*\.seg could not be read \(a torn or corrupt tail\); the 4 records before it are kept$/,
      );
      // New records go to a new segment, never after the torn frame.
      await reopened.spool.put({ kind: "metrics", body: body("[6]"), count: 1 });
      const again = await open(dir);
      assert.equal(again.spool.entries().length, 5);
    });
  });
});

Deno.test("spool: a corrupt record stops the replay of its segment, earlier records are kept", async () => {
  await withLogs(async () => {
    await withTempDir("spool", async (dir) => {
      const { spool } = await open(dir);
      const entries = [];
      for (let i = 1; i <= 4; i++) {
        entries.push(await spool.put({ kind: "metrics", body: body(`[${i}00]`), count: 1 }));
      }
      await spool.close();
      const [name] = await segments(dir);
      const path = join(dir, name);
      const bytes = await Deno.readFile(path);
      const third = new TextDecoder().decode(bytes).indexOf("[300]");
      bytes[third + 1] ^= 0x10; // a bit flipped on disk
      await Deno.writeFile(path, bytes);
      const reopened = await open(dir);
      assert.deepEqual(reopened.spool.entries().map((e) => e.id), [entries[0].id, entries[1].id]);
    });
  });
});

Deno.test("spool: garbage and foreign files never stop the start", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      await Deno.writeFile(
        join(dir, "0000000001.seg"),
        crypto.getRandomValues(new Uint8Array(4096)),
      );
      await Deno.writeTextFile(join(dir, "README"), "not a segment");
      const { spool, recovery } = await open(dir);
      assert.deepEqual(spool.entries(), []);
      assert.equal(recovery.lostBytes, 4096);
      const entry = await spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
      assert.ok(spool.isDurable(entry.id));
      assert.deepEqual(await segments(dir), ["0000000002.seg", "README"]);
      assert.equal(lines.filter((l) => l.startsWith("WARNING")).length, 1);
    });
  });
});

Deno.test("spool: at its byte bound the oldest records go first, with a count", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const { spool } = await open(dir, { maxBytes: 4_000, segmentBytes: 600 });
      const round = (i: number) => body(`[${String(i).padStart(4, "0")}${"x".repeat(400)}]`);
      for (let i = 0; i < 20; i++) {
        await spool.put({ kind: "metrics", body: round(i), count: 10 });
      }
      const left = spool.entries();
      const stats = spool.stats();
      assert.ok(stats.bytesOnDisk <= 4_000, `${stats.bytesOnDisk} bytes on disk`);
      assert.ok(left.length >= 5, `${left.length} rounds kept`);
      assert.equal(stats.dropped.full.records, 20 - left.length);
      assert.equal(stats.dropped.full.count, (20 - left.length) * 10);
      // The newest survive, the oldest went.
      assert.equal(decoder.decode(await spool.read(left.at(-1)!)).slice(0, 5), "[0019");
      assert.ok(left.every((e, i) => i === 0 || e.id > left[i - 1].id));
      const drops = lines.filter((l) => l.startsWith("WARNING"));
      assert.ok(drops.length > 0);
      assert.match(
        drops[0],
        /^WARNING <spool> dropped \d+ rounds? \(\d+ points\): the spool is full \(4000 bytes\)$/,
      );
    });
  });
});

Deno.test("spool: records older than the age bound are dropped, also at start", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const time = manualClock();
      const { spool } = await open(dir, { clock: time.clock, maxAgeMs: 10 * MIN });
      await spool.put({ kind: "checks", body: body("{}"), count: 1 });
      time.advance(5 * MIN);
      const young = await spool.put({ kind: "metrics", body: body("[1]"), count: 3 });
      time.advance(6 * MIN);
      await spool.put({ kind: "metrics", body: body("[2]"), count: 2 });
      assert.equal(spool.entries().length, 2, "the check report of 11 minutes ago went");
      assert.equal(spool.stats().dropped.expired.records, 1);

      time.advance(5 * MIN); // `young` is now 11 minutes old
      const reopened = await open(dir, { clock: time.clock, maxAgeMs: 10 * MIN });
      assert.deepEqual(reopened.spool.entries().map((e) => e.count), [2]);
      assert.equal(reopened.spool.has(young.id), false);
      assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), [
        "WARNING <spool> dropped 1 check report: they are older than 10 minutes",
        "WARNING <spool> dropped 1 round (3 points): they are older than 10 minutes",
      ]);
    });
  });
});

Deno.test("spool: an unusable directory falls back to memory with one WARNING, and the disk is retried", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (root) => {
      // A regular file where the directory's parent should be: nothing can be created under it.
      const blocker = join(root, "root");
      await Deno.writeTextFile(blocker, "");
      const dir = join(blocker, "spool");
      const time = manualClock();
      const { spool } = await open(dir, { clock: time.clock, diskRetryMs: MIN });
      const a = await spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
      const b = await spool.put({ kind: "metrics", body: body("[2]"), count: 1 });
      assert.equal(spool.isDurable(a.id), false);
      assert.equal(decoder.decode(await spool.read(b)), "[2]");
      assert.equal(spool.stats().durable, false);
      assert.equal(lines.filter((l) => l.startsWith("WARNING")).length, 1, lines.join("\n"));
      assert.match(
        lines.find((l) => l.startsWith("WARNING"))!,
        /cannot write the spool in .*root\/spool: .*; keeping data in memory/,
      );

      // The operator fixes it; a minute later records go to disk again.
      await Deno.remove(blocker);
      time.advance(MIN);
      const c = await spool.put({ kind: "metrics", body: body("[3]"), count: 1 });
      assert.ok(spool.isDurable(c.id));
      assert.ok(lines.some((l) => l === `INFO <spool> the spool is written to ${dir} again`));
      assert.deepEqual(spool.entries().map((e) => e.id), [a.id, b.id, c.id]);
      await spool.ack([a.id, b.id]);
      assert.equal(spool.stats().bytesInMemory, 0);
    });
  });
});

Deno.test("spool: without a directory everything stays in memory", async () => {
  const { spool } = await openSpool({ maxBytes: 100, maxAgeMs: MIN });
  const a = await spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
  assert.equal(spool.isDurable(a.id), false);
  assert.equal(spool.stats().bytesInMemory, 3);
  await assert.rejects(openSpool({ maxBytes: 0, maxAgeMs: MIN }), /maxBytes .* got 0/);
  await assert.rejects(openSpool({ maxBytes: 10, maxAgeMs: 0 }), /maxAgeMs .* got 0/);
});

Deno.test("spool: a segment that cannot be read is set aside; the others replay and are deleted as usual", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const first = await open(dir, { segmentBytes: 16 });
      const ids = [];
      for (let i = 1; i <= 3; i++) {
        ids.push((await first.spool.put({ kind: "metrics", body: body(`[${i}]`), count: 1 })).id);
      }
      const [, unreadable] = await segments(dir);
      // An EIO on one file (simulated: the real one needs a failing disk).
      const realOpen = Deno.open;
      Deno.open = ((path: string | URL, options?: Deno.OpenOptions) => {
        if (String(path).endsWith(unreadable)) {
          return Promise.reject(new Error("Input/output error (os error 5)"));
        }
        return realOpen(path, options);
      }) as typeof Deno.open;
      let second;
      try {
        second = await open(dir, { segmentBytes: 16 });
      } finally {
        Deno.open = realOpen;
      }
      assert.deepEqual(second.spool.entries().map((e) => e.id), [ids[0], ids[2]]);
      assert.ok((await segments(dir)).includes(`${unreadable}.unreadable`));
      assert.ok(
        lines.some((l) => l.startsWith("WARNING <spool> cannot read") && l.includes("set aside")),
      );
      // New records never reuse a file name or an id of the replayed segments.
      const next = await second.spool.put({ kind: "metrics", body: body("[4]"), count: 1 });
      assert.ok(next.id > ids[2]);
      await second.spool.ack([ids[0], ids[2], next.id]);
      assert.deepEqual(await segments(dir), [`${unreadable}.unreadable`]);
    });
  });
});
