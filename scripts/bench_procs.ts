/**
 * What a benchmark reads of another process in /proc: CPU time (utime + stime of every thread) and
 * memory (VmRSS, VmHWM), plus the machine the figures were taken on, and the helpers the
 * benchmark scripts print them with.
 *
 * @module
 */

/** One look at a process. */
export interface ProcSample {
  /** `performance.now()` when read. */
  readonly at: number;
  /** utime + stime of the whole process, in milliseconds (clock-tick resolution). */
  readonly cpuMs: number;
  /** Resident set size, in KiB. */
  readonly rssKb: number;
  /** Peak resident set size, in KiB. */
  readonly hwmKb: number;
}

let clockTicks: number | undefined;

/** `getconf CLK_TCK`: the unit of utime and stime (100 on every Linux seen so far). */
function ticksPerSecond(): number {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).outputSync();
    clockTicks = Number(new TextDecoder().decode(out.stdout).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** Reads `/proc/<pid>/stat` and `/proc/<pid>/status`. */
export function sampleProc(pid: number): ProcSample {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of proc(5), counted from the state field (3) here.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1]);
  return {
    at: performance.now(),
    cpuMs: ticks * 1000 / ticksPerSecond(),
    rssKb: kb("VmRSS"),
    hwmKb: kb("VmHWM"),
  };
}

/** utime, stime, cutime and cstime of `/proc/<pid>/stat` in ticks, and the parent's pid. */
function statTicks(pid: number): { self: number; children: number; ppid: number } | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined; // gone meanwhile
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // proc(5) fields 4 (ppid), 14-17 (utime, stime, cutime, cstime), counted from field 3 here.
  return {
    ppid: Number(fields[1]),
    self: Number(fields[11]) + Number(fields[12]),
    children: Number(fields[13]) + Number(fields[14]),
  };
}

/**
 * CPU time of a process tree, in milliseconds: utime + stime of `pid` and of every live
 * descendant, plus the time of the children each of them has reaped (cutime + cstime). A plugin
 * counts while it runs and, once reaped, in its parent's cutime: never twice, never lost.
 */
export function treeCpuMs(pid: number): number {
  const parents = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const one = statTicks(Number(entry.name));
    if (!one) continue;
    ticks.set(Number(entry.name), one.self + one.children);
    const siblings = parents.get(one.ppid) ?? [];
    siblings.push(Number(entry.name));
    parents.set(one.ppid, siblings);
  }
  let total = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const next = todo.pop()!;
    total += ticks.get(next) ?? 0;
    todo.push(...parents.get(next) ?? []);
  }
  return total * 1000 / ticksPerSecond();
}

/** The load averages of `/proc/loadavg` (1, 5 and 15 minutes), as printed there. */
export function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** The machine and the date, one line, to print with the figures. */
export function machineLine(): string {
  const kernel = Deno.readTextFileSync("/proc/sys/kernel/osrelease").trim();
  const model = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m)?.[1];
  return `${new Date().toISOString()} · ${navigator.hardwareConcurrency} CPUs` +
    `${model ? ` (${model})` : ""} · Linux ${kernel} · Deno ${Deno.version.deno}`;
}

/** Milliseconds as `12.3`. */
export const ms = (value: number, digits = 2) => value.toFixed(digits);

/** The middle value of `xs` (the upper one of an even count). */
export const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** KiB as MiB, `12.3`. */
export const mib = (kb: number) => (kb / 1024).toFixed(1);
