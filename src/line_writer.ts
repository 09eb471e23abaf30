/**
 * A bounded, non-blocking writer of text lines, for stderr (logs) and stdout (the stdout sink).
 *
 * A synchronous write to a pipe nobody reads (journald applying back-pressure, a paused pager)
 * blocks the whole event loop: collection, posting and signal handling stop with it. Here
 * {@linkcode LineWriter.write} only queues the line and returns; one asynchronous write at a time
 * (Deno performs it on a blocking-pool thread) carries everything queued meanwhile, so a healthy
 * reader costs one write call per burst of lines. When the reader stalls, the queue is bounded:
 * the oldest lines are dropped and counted, and the next line that reaches the reader says how
 * many were lost. {@linkcode LineWriter.flush} lets the process wait, bounded by a signal, for
 * what is queued before it exits.
 *
 * A stalled write keeps Rust's stdout/stderr lock, so a synchronous write to the same stream
 * (`console.log`, `writeSync`) would still block: everything the daemon prints should come here.
 *
 * @module
 */

/** Where the bytes go: `Deno.stdout` and `Deno.stderr` are targets. */
export interface WriteTarget {
  /** Writes some of `bytes` and resolves to how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Options of {@linkcode createLineWriter}. */
export interface LineWriterOptions {
  readonly target: WriteTarget;
  /** The line written where `count` lines were dropped (without its newline). */
  readonly droppedLine: (count: number) => string;
  /**
   * Characters (UTF-16 code units, newlines included) queued at most before the oldest lines are
   * dropped; default 1 Mi, which is 1 to 3 MiB of UTF-8. The newest line is always kept.
   */
  readonly capacity?: number;
  /** Characters handed to one write call at most; default 64 Ki. */
  readonly batchChars?: number;
}

/** A writer of lines that never blocks its caller. */
export interface LineWriter {
  /** Queues `line` (without its newline) and returns at once; the oldest lines go when full. */
  write(line: string): void;
  /**
   * Resolves true once everything queued so far has been written, or false when `signal` aborts
   * first or the target failed (a closed pipe: what was queued is lost).
   */
  flush(signal?: AbortSignal): Promise<boolean>;
  /** Lines dropped since the writer was created (queue full, or the target failed). */
  readonly dropped: number;
}

const DEFAULT_CAPACITY = 1 << 20;
const DEFAULT_BATCH_CHARS = 1 << 16;
/** Spent slots at the head of the queue before it is compacted. */
const COMPACT_AFTER = 1024;

/** Creates a {@linkcode LineWriter} over `target`. */
export function createLineWriter(options: LineWriterOptions): LineWriter {
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  const batchChars = options.batchChars ?? DEFAULT_BATCH_CHARS;
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }
  if (!Number.isSafeInteger(batchChars) || batchChars < 1) {
    throw new RangeError(`batchChars must be a positive integer, got ${batchChars}`);
  }
  const encoder = new TextEncoder();
  let queue: (string | undefined)[] = [];
  let head = 0;
  let queuedChars = 0;
  /** Dropped since the last notice reached the queue's front. */
  let unreported = 0;
  let dropped = 0;
  let writing = false;
  let broken = false;
  let idle: (() => void)[] = [];

  const dropOldest = () => {
    queuedChars -= queue[head]!.length + 1;
    queue[head++] = undefined;
    unreported++;
    dropped++;
  };

  /** Lines of the write in progress, lost with it if the target fails. */
  let inFlight = 0;

  /** The next write: a pending drop notice, then queued lines up to the batch size. */
  const nextBatch = (): string => {
    let batch = unreported > 0 ? options.droppedLine(unreported) + "\n" : "";
    unreported = 0;
    inFlight = 0;
    while (head < queue.length && (batch === "" || batch.length < batchChars)) {
      const line = queue[head]!;
      queue[head++] = undefined;
      queuedChars -= line.length + 1;
      batch += line + "\n";
      inFlight++;
    }
    if (head >= COMPACT_AFTER && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return batch;
  };

  const pump = async () => {
    writing = true;
    try {
      while (head < queue.length || unreported > 0) {
        const bytes = encoder.encode(nextBatch());
        for (let at = 0; at < bytes.length;) {
          const written = await options.target.write(bytes.subarray(at));
          if (!(written > 0)) throw new Error("the target accepted no bytes");
          at += written;
        }
      }
    } catch {
      // The reader is gone (EPIPE) or the stream is unusable: nothing more can be written.
      broken = true;
      dropped += inFlight + queue.length - head;
      queue = [];
      head = 0;
      queuedChars = 0;
      unreported = 0;
    } finally {
      writing = false;
      const waiting = idle;
      idle = [];
      for (const wake of waiting) wake();
    }
  };

  return {
    write(line) {
      if (broken) {
        dropped++;
        return;
      }
      queue.push(line);
      queuedChars += line.length + 1;
      while (queuedChars > capacity && queue.length - head > 1) dropOldest();
      if (!writing) void pump();
    },
    flush(signal) {
      if (!writing) return Promise.resolve(!broken);
      if (signal?.aborted) return Promise.resolve(false);
      return new Promise((resolve) => {
        const onAbort = () => {
          idle = idle.filter((wake) => wake !== done);
          resolve(false);
        };
        const done = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(!broken);
        };
        idle.push(done);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    get dropped() {
      return dropped;
    },
  };
}
