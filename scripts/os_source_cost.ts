/**
 * What one read of each kind of macOS and Windows source costs, measured here on Linux with
 * equivalents: a command spawned the way `platform.ts` runs `df` and `netstat` (its CPU and the
 * child's), an FFI call filling a structure that is then decoded (libc `sysinfo`, as
 * `host_statistics64` or `GlobalMemoryStatusEx` fill theirs), and Deno's built-ins the macOS
 * collectors use. CPU is counted from `/proc/self/stat` (own and waited-for children's ticks).
 *
 * ```sh
 * deno run -A scripts/os_source_cost.ts [--spawns=300] [--calls=200000]
 * ```
 *
 * @module
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { runOsCommand } from "../src/platform/platform.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    spawns: { type: "string", default: "300" },
    calls: { type: "string", default: "200000" },
  },
});
const SPAWNS = Number(values.spawns);
const CALLS = Number(values.calls);
const TICK_MS = 10;

/** Own and waited-for children's CPU ticks. */
function ticks(): { self: number; children: number } {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return { self: +fields[11] + +fields[12], children: +fields[13] + +fields[14] };
}

async function spawnCost(label: string, command: string, args: string[]): Promise<void> {
  await runOsCommand(command, args); // warm
  const before = ticks();
  const start = performance.now();
  for (let i = 0; i < SPAWNS; i++) await runOsCommand(command, args);
  const wall = (performance.now() - start) / SPAWNS;
  const after = ticks();
  const own = (after.self - before.self) * TICK_MS / SPAWNS;
  const child = (after.children - before.children) * TICK_MS / SPAWNS;
  console.log(
    `${label}: ${wall.toFixed(2)} ms wall, ${own.toFixed(2)} ms agent CPU + ` +
      `${child.toFixed(2)} ms child CPU per run (${SPAWNS} runs)`,
  );
}

function callCost(label: string, call: () => unknown, calls = CALLS): void {
  for (let i = 0; i < 1000; i++) call();
  const start = performance.now();
  for (let i = 0; i < calls; i++) call();
  const us = (performance.now() - start) * 1000 / calls;
  console.log(`${label}: ${us.toFixed(3)} µs per call (${calls} calls)`);
}

console.log(`# spawns (as src/platform/platform.ts runs macOS's df and netstat)`);
await spawnCost("df -Pkl", "/bin/df", ["-Pkl"]);
await spawnCost("cat /proc/net/dev (netstat stand-in)", "/bin/cat", ["/proc/net/dev"]);

console.log(`# FFI: a call that fills a structure, and its decoding`);
const libc = Deno.dlopen(
  "libc.so.6",
  {
    sysinfo: { parameters: ["buffer"], result: "i32" },
  } as const,
);
const info = new Uint8Array(112);
const view = new DataView(info.buffer);
callCost("libc sysinfo() into 112 bytes + decode 4 fields", () => {
  libc.symbols.sysinfo(info);
  return view.getBigUint64(32, true) + view.getBigUint64(40, true) + view.getBigUint64(64, true) +
    view.getBigUint64(72, true);
});
libc.close();

console.log(`# Deno built-ins (macOS loadavg, cpu; the memory fallback)`);
callCost("Deno.loadavg()", () => Deno.loadavg(), 20_000);
callCost(`node:os cpus() (${cpus().length} CPUs)`, () => cpus(), 2_000);
callCost("Deno.systemMemoryInfo()", () => Deno.systemMemoryInfo(), 20_000);
