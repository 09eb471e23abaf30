import assert from "node:assert/strict";
import { join } from "node:path";
import type { Clock } from "../../src/async/clock.ts";
import { openSpool, type SpoolOptions } from "../../src/delivery/spool.ts";
import { withLogs } from "../support/logs.ts";
import { onUnix } from "../support/platform.ts";
import { withTempDir } from "../support/temp_dir.ts";

const unix = onUnix("mkfifo and symlinks");

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

Deno.test("spool: a torn tail keeps the records before it and says what was cut off", async () => {
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
      assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), [
        `WARNING <spool> ${path}: its last ${
          size - 3 - (await segmentOffsets(path)).at(-1)!
        } bytes are an incomplete write (cut off when the agent or the machine stopped): ` +
        "1 round (1 point) lost; the records before them are kept",
      ]);
      assert.deepEqual(reopened.spool.stats().dropped.damaged, { records: 1, count: 1 });
      // New records go to a new segment, never after the torn frame.
      await reopened.spool.put({ kind: "metrics", body: body("[6]"), count: 1 });
      const again = await open(dir);
      assert.equal(again.spool.entries().length, 5);
    });
  });
});

/** Where each frame of a segment file starts (read with the frame module, from the intact file). */
async function segmentOffsets(path: string): Promise<number[]> {
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer);
  const offsets: number[] = [];
  for (let at = 8; at + 8 <= bytes.length; at += 8 + view.getUint32(at, true)) offsets.push(at);
  return offsets;
}

Deno.test("spool: damage in the middle of a segment costs only the damaged records, and says which", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const { spool } = await open(dir);
      const entries: { id: number }[] = [];
      for (let i = 1; i <= 8; i++) {
        entries.push(await spool.put({ kind: "metrics", body: body(`[${i}00]`), count: 4 }));
      }
      await spool.close();
      const [name] = await segments(dir);
      const path = join(dir, name);
      const bytes = await Deno.readFile(path);
      const text = new TextDecoder("latin1").decode(bytes);
      // 16 flipped bytes over the body of the third record, and one in the sixth's.
      const third = text.indexOf("[300]");
      for (let i = 0; i < 4; i++) bytes[third + i] ^= 0xff;
      bytes[text.indexOf("[600]") + 2] ^= 0x01;
      await Deno.writeFile(path, bytes);

      const reopened = await open(dir);
      const kept = reopened.spool.entries();
      assert.deepEqual(kept.map((e) => e.id), [1, 2, 4, 5, 7, 8].map((n) => entries[n - 1].id));
      assert.deepEqual(
        await Promise.all(kept.map(async (e) => decoder.decode(await reopened.spool.read(e)))),
        ["[100]", "[200]", "[400]", "[500]", "[700]", "[800]"],
      );
      const warnings = lines.filter((l) => l.startsWith("WARNING"));
      assert.equal(warnings.length, 2, warnings.join("\n"));
      for (const warning of warnings) {
        assert.match(
          warning,
          /^WARNING <spool> .*0000000001\.seg: \d+ damaged bytes at offset \d+ are skipped: 1 round \(4 points\) lost; the records around them are kept$/,
        );
      }
      assert.deepEqual(reopened.spool.stats().dropped.damaged, { records: 2, count: 8 });
    });
  });
});

Deno.test("spool: damage that hit an acknowledged record or an ack loses nothing, and says so", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const { spool } = await open(dir);
      const a = await spool.put({ kind: "checks", body: body('{"c":1}'), count: 1 });
      const b = await spool.put({ kind: "checks", body: body('{"c":2}'), count: 1 });
      await spool.ack([a.id]);
      await spool.close();
      const [name] = await segments(dir);
      const path = join(dir, name);
      const bytes = await Deno.readFile(path);
      const text = new TextDecoder("latin1").decode(bytes);
      bytes[text.indexOf('{"c":1}') + 3] ^= 0x04; // the delivered report's body
      await Deno.writeFile(path, bytes);
      const reopened = await open(dir);
      assert.deepEqual(reopened.spool.entries().map((e) => e.id), [b.id]);
      assert.match(
        lines.find((l) => l.startsWith("WARNING"))!,
        /damaged bytes at offset \d+ are skipped: no record lost;/,
      );
      assert.deepEqual(reopened.spool.stats().dropped.damaged, { records: 0, count: 0 });
    });
  });
});

Deno.test("spool: garbage, empty and foreign files never stop the start, and none is silent", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      await Deno.writeFile(
        join(dir, "0000000001.seg"),
        crypto.getRandomValues(new Uint8Array(4096)),
      );
      await Deno.writeFile(join(dir, "0000000002.seg"), new Uint8Array(0)); // not the newest
      await Deno.writeTextFile(join(dir, "README"), "not a segment");
      await Deno.writeFile(join(dir, "0000000003.seg"), new Uint8Array(0)); // the newest
      const { spool, recovery } = await open(dir);
      assert.deepEqual(spool.entries(), []);
      assert.deepEqual(recovery.lostFiles.map((f) => f.slice(dir.length + 1)), [
        "0000000001.seg",
        "0000000002.seg",
      ]);
      const entry = await spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
      assert.ok(spool.isDurable(entry.id));
      assert.deepEqual(await segments(dir), [
        "0000000001.seg.unreadable",
        "0000000004.seg",
        "README",
      ]);
      assert.deepEqual(
        lines.filter((l) => l.startsWith("WARNING")).map((l) => l.slice(dir.length + 17)),
        [
          "0000000001.seg does not start with a spool segment header and holds no record: its " +
          `4096 bytes are not read (set aside as ${dir}/0000000001.seg.unreadable)`,
          "0000000002.seg is empty: the records it held are lost",
        ],
      );
    });
  });
});

/** A spool of `n` rounds of one point in segments of about `segmentBytes`, closed; its files. */
async function filledSpool(dir: string, n: number, segmentBytes = 400) {
  const { spool } = await open(dir, { segmentBytes });
  for (let i = 1; i <= n; i++) {
    await spool.put({ kind: "metrics", body: body(`[${String(i).padStart(3, "0")}]`), count: 1 });
  }
  await spool.close();
  return (await segments(dir)).map((name) => join(dir, name));
}

Deno.test("spool: a segment cut at a frame boundary is told by the next one, and counted", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const files = await filledSpool(dir, 12);
      assert.ok(files.length >= 3, `${files.length} segments`);
      const offsets = await segmentOffsets(files[0]);
      const size = (await Deno.stat(files[0])).size;
      // Cut after its second record, exactly between two frames: no torn frame to see.
      await Deno.truncate(files[0], offsets[2]);
      const reopened = await open(dir);
      const kept = reopened.spool.entries().length;
      const missing = offsets.length - 2;
      assert.equal(kept, 12 - missing);
      const warning = lines.find((l) => l.includes("is shorter than when it was closed"));
      assert.equal(
        warning,
        `WARNING <spool> ${files[0]}: its last ${size - offsets[2]} bytes are missing (it is ` +
          `shorter than when it was closed): up to ${missing} records lost; the records before ` +
          "them are kept",
      );
      assert.equal(reopened.spool.stats().dropped.damaged.records, missing);
    });
  });
});

Deno.test("spool: an emptied segment in the middle says how many records it held", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const files = await filledSpool(dir, 12);
      const held = (await segmentOffsets(files[1])).length - 1; // less its first frame
      await Deno.truncate(files[1], 0);
      const reopened = await open(dir);
      assert.equal(reopened.spool.entries().length, 12 - held);
      assert.ok(
        lines.some((l) => l.endsWith(`${files[1]} is empty: the records it held are lost`)),
      );
      assert.ok(lines.some((l) => l.includes(`up to ${plural(held)} lost`)), lines.join("\n"));
    });
  });
});

const plural = (n: number) => `${n} record${n === 1 ? "" : "s"}`;

Deno.test("spool: a damaged segment header keeps the records after it", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const files = await filledSpool(dir, 12);
      const bytes = await Deno.readFile(files[1]);
      bytes[3] ^= 0x20; // one bit of "MKSPOOL1"
      await Deno.writeFile(files[1], bytes);
      const reopened = await open(dir);
      assert.equal(reopened.spool.entries().length, 12);
      assert.ok(
        lines.some((l) =>
          l.endsWith(`${files[1]} has a damaged segment header; the records after it are read`)
        ),
      );
    });
  });
});

Deno.test("spool: zeroed bytes whose headers are gone are counted by the ids around them", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const files = await filledSpool(dir, 12, 4096);
      assert.equal(files.length, 1);
      const offsets = await segmentOffsets(files[0]);
      const bytes = await Deno.readFile(files[0]);
      bytes.fill(0, offsets[3], offsets[6]); // three whole records
      await Deno.writeFile(files[0], bytes);
      const reopened = await open(dir);
      assert.equal(reopened.spool.entries().length, 9);
      assert.ok(
        lines.some((l) =>
          l.includes("are skipped: 3 records lost, by the ids of the records around them")
        ),
        lines.join("\n"),
      );
      assert.equal(reopened.spool.stats().dropped.damaged.records, 3);
    });
  });
});

unix.test("spool: a directory, FIFO or link named as a segment is left alone and never collided with", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const first = await open(dir);
      const a = await first.spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
      await first.spool.close();
      await Deno.mkdir(join(dir, "0000000002.seg"));
      await new Deno.Command("mkfifo", { args: [join(dir, "0000000003.seg")] }).output();
      await Deno.symlink("/dev/zero", join(dir, "0000000004.seg"));
      const second = await open(dir);
      assert.deepEqual(second.spool.entries().map((e) => e.id), [a.id]);
      const b = await second.spool.put({ kind: "metrics", body: body("[2]"), count: 1 });
      assert.ok(second.spool.isDurable(b.id), "the new segment is on disk, not in memory");
      assert.ok((await segments(dir)).includes("0000000005.seg"));
      const odd = lines.filter((l) => l.startsWith("WARNING")).map((l) => l.slice(dir.length + 17));
      assert.deepEqual(odd.sort(), [
        "0000000002.seg is a directory, not a segment: left alone",
        "0000000003.seg is not a file, not a segment: left alone",
        "0000000004.seg is a link, not a segment: left alone",
      ]);
      const third = await open(dir);
      assert.deepEqual(third.spool.entries().map((e) => e.id), [a.id, b.id]);
    });
  });
});

Deno.test("spool: segment numbers past ten digits are replayed, and numbering continues after them", async () => {
  await withTempDir("spool", async (dir) => {
    const first = await open(dir);
    const a = await first.spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
    await first.spool.close();
    await Deno.rename(join(dir, "0000000001.seg"), join(dir, "10000000000.seg"));
    const second = await open(dir);
    assert.deepEqual(second.spool.entries().map((e) => e.id), [a.id]);
    const b = await second.spool.put({ kind: "metrics", body: body("[2]"), count: 1 });
    assert.deepEqual(await segments(dir), ["10000000000.seg", "10000000001.seg"]);
    await second.spool.ack([a.id, b.id]);
    assert.deepEqual(await segments(dir), ["10000000001.seg"], "the old one is deleted as usual");
  });
});

Deno.test("spool: a name taken after the start is skipped, not a fall-back to memory", async () => {
  await withTempDir("spool", async (dir) => {
    const { spool } = await open(dir, { segmentBytes: 16 });
    await spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
    await Deno.writeTextFile(join(dir, "0000000002.seg"), "someone else's");
    const b = await spool.put({ kind: "metrics", body: body("[2]"), count: 1 });
    assert.ok(spool.isDurable(b.id));
    assert.ok((await segments(dir)).includes("0000000003.seg"));
  });
});

Deno.test("spool: a spool written by release 0.1.0 replays after the upgrade", async () => {
  await withTempDir("spool", async (dir) => {
    const fixture = new URL("../fixtures/spool/v0.1.0/", import.meta.url).pathname;
    for await (const e of Deno.readDir(fixture)) {
      if (e.name.endsWith(".seg")) await Deno.copyFile(join(fixture, e.name), join(dir, e.name));
    }
    const { spool, recovery } = await open(dir, { maxAgeMs: 1e15 });
    assert.deepEqual(recovery.lostFiles, []);
    assert.deepEqual(spool.entries().map((e) => [e.id, e.kind, e.count, e.key]), [
      [1, "metrics", 2, undefined],
      [3, "metrics", 2, undefined],
      [4, "metrics", 2, undefined],
      [6, "metrics", 2, undefined],
      [7, "checks", 1, undefined],
      [8, "metadata", 1, "3yAbcdEFGhi/inventory"],
      [9, "graphdefs", 1, ""],
    ]);
    const [first] = spool.entries();
    assert.deepEqual(JSON.parse(decoder.decode(await spool.read(first))), [
      { hostId: "3yAbcdEFGhi", name: "loadavg5", time: 1764504000, value: 0 },
      { hostId: "3yAbcdEFGhi", name: "memory.used", time: 1764504000, value: 1000 },
    ]);
    const check = spool.entries("checks")[0];
    assert.equal(JSON.parse(decoder.decode(await spool.read(check))).status, "CRITICAL");
    const next = await spool.put({ kind: "metrics", body: body("[]"), count: 0 });
    assert.equal(next.id, 10);
    await spool.ack(spool.entries().map((e) => e.id));
    assert.deepEqual(await segments(dir), ["0000000004.seg"]);
  });
});

Deno.test("spool: at its byte bound the oldest records go one at a time, and the files stay within it", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      const maxBytes = 100_000;
      const { spool } = await open(dir, { maxBytes, segmentBytes: 4_000, fsync: false });
      const round = (i: number) => body(`[${String(i).padStart(4, "0")}${"x".repeat(1_000)}]`);
      let peak = 0;
      const kept: number[] = [];
      for (let i = 0; i < 120; i++) {
        await spool.put({ kind: "metrics", body: round(i), count: 10 });
        peak = Math.max(peak, await du(dir));
        kept.push(spool.entries().length);
      }
      const stats = spool.stats();
      assert.ok(peak <= maxBytes, `the files took ${peak} bytes`);
      assert.equal(stats.bytesOnDisk, await du(dir));
      // Once full, every new round costs exactly one old one: no bursts.
      const full = kept.findIndex((n, i) => i > 0 && n === kept[i - 1]);
      assert.ok(full > 0);
      assert.ok(kept.slice(full).every((n) => n === kept[full]), kept.join(","));
      const left = spool.entries();
      assert.equal(stats.dropped.full.records, 120 - left.length);
      assert.equal(stats.dropped.full.count, (120 - left.length) * 10);
      assert.equal(decoder.decode(await spool.read(left.at(-1)!)).slice(0, 5), "[0119");
      assert.equal(
        decoder.decode(await spool.read(left[0])).slice(0, 5),
        `[${String(120 - left.length).padStart(4, "0")}`,
      );
      const drops = lines.filter((l) => l.startsWith("WARNING"));
      assert.equal(drops.length, 120 - left.length);
      assert.ok(
        drops.every((d) =>
          d === "WARNING <spool> dropped 1 round (10 points): the spool is full (100000 bytes)"
        ),
      );
    });
  });
});

/** Bytes of the regular files in `dir`. */
async function du(dir: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".seg")) total += (await Deno.stat(join(dir, e.name))).size;
  }
  return total;
}

Deno.test("spool: one kind stuck while the others flow: acknowledged bytes are compacted away, the stuck records kept", async () => {
  await withTempDir("spool", async (dir) => {
    const maxBytes = 1 << 20;
    const { spool } = await open(dir, { maxBytes, segmentBytes: 16 * 1024, fsync: false });
    const stuck: number[] = [];
    const report = body(`{"c":"${"y".repeat(2_000)}"}`);
    for (let i = 0; i < 400; i++) {
      stuck.push((await spool.put({ kind: "metrics", body: body(`[${i}]`), count: 1 })).id);
      const flowing = await spool.put({ kind: "checks", body: report, count: 1 });
      await spool.ack([flowing.id]);
    }
    const stats = spool.stats();
    assert.equal(stats.dropped.full.records, 0);
    // 400 reports of 2 kB passed through; the files hold little more than the stuck rounds.
    assert.ok(stats.bytesOnDisk < stats.bytesHeld + 2 * 64 * 1024, JSON.stringify(stats));
    const reopened = await open(dir, { maxBytes, segmentBytes: 16 * 1024 });
    assert.deepEqual(reopened.spool.entries().map((e) => e.id), stuck);
    assert.equal(decoder.decode(await reopened.spool.read(reopened.spool.entries()[0])), "[0]");
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
        lines.some((l) => l.includes(`${unreadable} cannot be read (`) && l.includes("set aside")),
      );
      // New records never reuse a file name or an id of the replayed segments.
      const next = await second.spool.put({ kind: "metrics", body: body("[4]"), count: 1 });
      assert.ok(next.id > ids[2]);
      await second.spool.ack([ids[0], ids[2], next.id]);
      assert.deepEqual(await segments(dir), [`${unreadable}.unreadable`]);
    });
  });
});

unix.test("spool: without its lock at start it takes the lock before it writes, and yields to an owner", async () => {
  await withLogs(async (lines) => {
    await withTempDir("spool", async (dir) => {
      // As on a read-only root: no lock could be taken at start.
      const a = await open(dir, { owner: { unlockable: "Read-only file system" } });
      const first = await a.spool.put({ kind: "metrics", body: body("[1]"), count: 1 });
      assert.ok(a.spool.isDurable(first.id), "it took the lock itself and wrote");
      // Another process now holds the lock: a second spool without its lock stays in memory.
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `const f = await Deno.open(${
            JSON.stringify(join(dir, "b", "lock"))
          }, { read: true, write: true, create: true }); await f.lock(true); console.log("locked"); await new Promise((r) => setTimeout(r, 30000));`,
        ],
        stdout: "piped",
      }).spawn();
      try {
        await Deno.mkdir(join(dir, "b"));
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        assert.equal((await reader.read()).value?.trim(), "locked");
        reader.releaseLock();
        const b = await open(join(dir, "b"), { owner: { unlockable: "Read-only file system" } });
        const kept = await b.spool.put({ kind: "metrics", body: body("[2]"), count: 1 });
        assert.equal(b.spool.isDurable(kept.id), false);
        assert.ok(
          lines.some((l) =>
            l.startsWith("ERROR <spool> another mackerel-agent") &&
            l.includes("it keeps its data in memory (lost if it stops): stop one of them")
          ),
          lines.join("\n"),
        );
        assert.deepEqual(
          [...Deno.readDirSync(join(dir, "b"))].map((e) => e.name),
          ["lock"],
          "no segment written beside the owner",
        );
      } finally {
        child.kill("SIGKILL");
        await child.status;
        await child.stdout.cancel().catch(() => {});
      }
    });
  });
});
