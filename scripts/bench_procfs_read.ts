/**
 * Reading the small procfs files of every round, four ways: `Deno.readTextFile` (a thread-pool
 * round trip per file), `Deno.readTextFileSync`, `Deno.openSync` + `readSync` into one reused
 * buffer, and a file kept open and re-read from offset 0 (seq_file gives fresh contents then).
 * Prints CPU time (this process, every thread) and wall time per round of reads, median of
 * several batches, and the syscalls of each way with `strace -f -c` when strace is installed.
 *
 * Run with `deno run -A scripts/bench_procfs_read.ts`.
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { median } from "./bench_procs.ts";

/** What one round of upstream's collectors reads from /proc. */
const FILES = ["stat", "meminfo", "loadavg", "diskstats", "net/dev", "mounts"].map((f) =>
  `/proc/${f}`
);
const ROUNDS = 2000;
const BATCHES = 7;
const decoder = new TextDecoder();
const buffer = new Uint8Array(64 * 1024);

/** Reads a whole file into the shared buffer (growing never needed for these files). */
function readInto(file: Deno.FsFile): string {
  let length = 0;
  for (;;) {
    const n = file.readSync(buffer.subarray(length));
    if (n === null || n === 0) break;
    length += n;
  }
  return decoder.decode(buffer.subarray(0, length));
}

const held = new Map(FILES.map((f) => [f, Deno.openSync(f)]));

const WAYS: Record<string, () => Promise<number> | number> = {
  async: async () => {
    let n = 0;
    for (const text of await Promise.all(FILES.map((f) => Deno.readTextFile(f)))) n += text.length;
    return n;
  },
  "async, one after another": async () => {
    let n = 0;
    for (const f of FILES) n += (await Deno.readTextFile(f)).length;
    return n;
  },
  sync: () => {
    let n = 0;
    for (const f of FILES) n += Deno.readTextFileSync(f).length;
    return n;
  },
  "openSync + readSync, reused buffer": () => {
    let n = 0;
    for (const f of FILES) {
      using file = Deno.openSync(f);
      n += readInto(file).length;
    }
    return n;
  },
  "kept open, seek 0 + readSync": () => {
    let n = 0;
    for (const f of FILES) {
      const file = held.get(f)!;
      file.seekSync(0, Deno.SeekMode.Start);
      n += readInto(file).length;
    }
    return n;
  },
};

const only = Deno.args[0];

if (only !== undefined) {
  // Under strace: one way only, no measuring.
  for (let i = 0; i < ROUNDS; i++) await WAYS[only]();
} else {
  console.log(`${FILES.length} procfs files per round (${FILES.join(", ")}), ${ROUNDS} rounds`);
  for (const [name, way] of Object.entries(WAYS)) {
    const cpus: number[] = [];
    const walls: number[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const cpu = cpuUsage();
      const wall = performance.now();
      for (let i = 0; i < ROUNDS; i++) await way();
      walls.push((performance.now() - wall) * 1000 / ROUNDS);
      const used = cpuUsage(cpu);
      cpus.push((used.user + used.system) / ROUNDS);
    }
    const calls = syscalls(name);
    console.log(
      `${name.padEnd(36)} CPU ${median(cpus).toFixed(0).padStart(4)} µs/round, wall ` +
        `${median(walls).toFixed(0).padStart(4)} µs/round${calls ? `; per round: ${calls}` : ""}`,
    );
  }
}

/** Syscalls per round of one way, from `strace -f -c` of a child running only that way. */
function syscalls(name: string): string | undefined {
  let out;
  try {
    out = new Deno.Command("strace", {
      args: [
        "-f",
        "-c",
        "-o",
        "/dev/stderr",
        Deno.execPath(),
        "run",
        "-A",
        import.meta.filename!,
        name,
      ],
      stdout: "null",
      stderr: "piped",
    }).outputSync();
  } catch {
    return undefined;
  }
  const table = decoder.decode(out.stderr);
  const pick = (call: string) => {
    const m = table.match(
      new RegExp(`^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)(?:\\s+\\d+)?\\s+${call}$`, "m"),
    );
    return m ? (Number(m[1]) / ROUNDS).toFixed(1) : "0";
  };
  const total = table.match(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?total$/m);
  return `${total ? (Number(total[1]) / ROUNDS).toFixed(0) : "?"} syscalls, futex ${pick("futex")}`;
}
