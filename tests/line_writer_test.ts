import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createLineWriter, type WriteTarget } from "../src/line_writer.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { waitFor } from "./support/wait.ts";
import { onUnix } from "./support/platform.ts";

const unix = onUnix("stops the child with SIGTERM");

/** A target whose writes complete only when the test lets them, at most `chunk` bytes each. */
function heldTarget(chunk = Infinity) {
  const decoder = new TextDecoder();
  let text = "";
  let calls = 0;
  let release: (() => void) | undefined;
  let held = true;
  const target: WriteTarget = {
    async write(bytes) {
      calls++;
      if (held) await new Promise<void>((resolve) => release = resolve);
      const n = Math.min(bytes.length, chunk);
      text += decoder.decode(bytes.subarray(0, n));
      return n;
    },
  };
  return {
    target,
    text: () => text,
    calls: () => calls,
    /** Lets every write through from now on. */
    open() {
      held = false;
      release?.();
    },
  };
}

const dropped = (n: number) => `-- ${n} dropped --`;

Deno.test("line writer: lines queued during a write go out together, in order", async () => {
  const t = heldTarget();
  const writer = createLineWriter({ target: t.target, droppedLine: dropped });
  for (let i = 0; i < 1000; i++) writer.write(`line ${i}`);
  t.open();
  assert.equal(await writer.flush(), true);
  assert.equal(t.text(), Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join(""));
  assert.equal(t.calls(), 2); // the first line alone, then the 999 queued behind it
  assert.equal(writer.dropped, 0);
});

Deno.test("line writer: a stalled reader loses the oldest lines, and the next line says how many", async () => {
  const t = heldTarget();
  const writer = createLineWriter({ target: t.target, droppedLine: dropped, capacity: 100 });
  writer.write("first"); // in flight, held
  for (let i = 0; i < 50; i++) writer.write(`queued ${String(i).padStart(2, "0")}`); // 10 chars each
  assert.equal(writer.dropped, 40);
  const unblocked = writer.flush();
  t.open();
  assert.equal(await unblocked, true);
  const kept = Array.from({ length: 10 }, (_, i) => `queued ${40 + i}\n`).join("");
  assert.equal(t.text(), `first\n-- 40 dropped --\n${kept}`);
});

Deno.test("line writer: a line longer than the capacity is kept whole", async () => {
  const t = heldTarget(7); // partial writes too
  const writer = createLineWriter({ target: t.target, droppedLine: dropped, capacity: 10 });
  writer.write("a");
  writer.write("b");
  writer.write("c".repeat(50));
  t.open();
  assert.equal(await writer.flush(), true);
  assert.equal(t.text(), `a\n-- 1 dropped --\n${"c".repeat(50)}\n`);
});

Deno.test("line writer: flush gives up when its signal aborts, and reports a broken target", async () => {
  const t = heldTarget();
  const writer = createLineWriter({ target: t.target, droppedLine: dropped });
  writer.write("held");
  const controller = new AbortController();
  const flushed = writer.flush(controller.signal);
  controller.abort();
  assert.equal(await flushed, false);
  t.open();
  assert.equal(await writer.flush(), true);

  const broken = createLineWriter({
    target: { write: () => Promise.reject(new Deno.errors.BrokenPipe("gone")) },
    droppedLine: dropped,
  });
  broken.write("lost");
  broken.write("lost too");
  assert.equal(await broken.flush(), false);
  broken.write("after");
  assert.equal(broken.dropped, 3);
});

Deno.test("line writer: options are checked up front", () => {
  const target = heldTarget().target;
  assert.throws(
    () => createLineWriter({ target, droppedLine: dropped, capacity: 0 }),
    /RangeError: capacity must be a positive integer, got 0/,
  );
  assert.throws(
    () => createLineWriter({ target, droppedLine: dropped, batchChars: 1.5 }),
    /RangeError: batchChars must be a positive integer, got 1.5/,
  );
});

const BUSY_LOGGER = fileURLToPath(new URL("./fixtures/output/busy_logger.ts", import.meta.url));

/** What the test keeps of a stream once it reads it: the last 64 KB, and whether `notice` passed. */
function readTail(stream: ReadableStream<Uint8Array>, notice: RegExp) {
  let tail = "";
  let noticed = false;
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      // Tested before the tail is cut: a 100 KB line after the notice would push it out.
      noticed ||= notice.test(tail.slice(-256) + chunk);
      tail = (tail + chunk).slice(-(1 << 16));
    }
  })();
  return { tail: () => tail, noticed: () => noticed, done };
}

/**
 * Runs the busy logger with stdout and stderr on pipes the test reads only when it decides to,
 * killed after 30 s whatever happens; `fn` gets the child and its progress counter.
 */
async function withBusyLogger(
  fn: (child: Deno.ChildProcess, progress: () => number) => Promise<void>,
): Promise<void> {
  await withTempDir("busy_logger", async (dir) => {
    const progressFile = `${dir}/progress`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", BUSY_LOGGER, progressFile],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const progress = () => {
      try {
        return Number(Deno.readTextFileSync(progressFile)) || 0;
      } catch {
        return 0;
      }
    };
    try {
      await fn(child, progress);
    } finally {
      clearTimeout(guard);
      try {
        child.kill("SIGKILL");
      } catch {
        // It has exited, as it should.
      }
      await child.status;
      // Whatever the test did not read is discarded; cancelling a consumed stream is harmless.
      await Promise.allSettled([child.stdout.cancel(), child.stderr.cancel()]);
    }
  });
}

unix.test("line writer: a process whose pipes nobody reads keeps working, then reports the drops", async () => {
  await withBusyLogger(async (child, progress) => {
    // 100 KB a round on each stream: far past the pipes and the 1 Mi queues by round 20.
    await waitFor(() => progress() >= 30, "30 rounds with nobody reading");
    const stalledAt = progress();
    await waitFor(() => progress() >= stalledAt + 20, "more rounds, still unread");
    const stderr = readTail(
      child.stderr,
      /WARNING <main> \d+ log lines dropped: stderr was not read fast enough\n/,
    );
    const stdout = readTail(child.stdout, /\n\{"droppedLines":\d+\}\n/);
    await waitFor(() => stderr.noticed(), "the drop count on stderr");
    await waitFor(() => stdout.noticed(), "the drop count on stdout");
    child.kill("SIGTERM");
    const status = await child.status;
    await Promise.all([stderr.done, stdout.done]);
    assert.equal(status.code, 0);
    // Flushed on exit: the last lines arrive whole.
    assert.match(stderr.tail(), /INFO <busy> finished after \d+ rounds\n$/);
    assert.match(stdout.tail(), /\n\{"finished":\d+\}\n$/);
  });
});

unix.test("line writer: a process stopped while nobody reads exits cleanly within the flush bound", async () => {
  await withBusyLogger(async (child, progress) => {
    await waitFor(() => progress() >= 30, "30 rounds with nobody reading");
    child.kill("SIGTERM");
    // The flush gives up after 1 s; the exit does not wait for the stuck write.
    assert.equal((await child.status).code, 0);
  });
});
