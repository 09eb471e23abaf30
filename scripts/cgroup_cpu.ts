/**
 * Exact CPU time of a process tree, through a control group of its own: the kernel adds every
 * nanosecond any of its threads and children run (those that already ended too) to the group's
 * counter, where `/proc/<pid>/stat` gives whole 10 ms ticks. A comparison of agents that each
 * spend a few milliseconds a minute needs the former to tell 0.45 from 0.55 in ten minutes.
 *
 * cgroup v1's `cpuacct` (`cpuacct.usage`, ns) or cgroup v2's `cpu.stat` (`usage_usec`), where one
 * is mounted and writable (root); {@linkcode openCpuGroup} says `undefined` otherwise and the
 * caller keeps to ticks.
 *
 * @module
 */
import { join } from "node:path";

/** A control group made for one process tree. */
export interface CpuGroup {
  /** The command line that runs `command` inside the group (joins it, then execs). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** CPU time of everything that ran in the group so far, in milliseconds (ns precision). */
  cpuMs(): number;
  /** Removes the group (it must be empty: its processes ended). */
  remove(): void;
}

/** Where a group can be made: v1 cpuacct first (its counter is in ns), then v2. */
const HIERARCHIES = [
  { dir: "/sys/fs/cgroup/cpuacct", counter: "cpuacct.usage", scale: 1e-6, field: undefined },
  { dir: "/sys/fs/cgroup/unified", counter: "cpu.stat", scale: 1e-3, field: "usage_usec" },
  { dir: "/sys/fs/cgroup", counter: "cpu.stat", scale: 1e-3, field: "usage_usec" },
] as const;

/** Makes a group named `name` (made unique with the pid), or `undefined` when none can be made. */
export function openCpuGroup(name: string): CpuGroup | undefined {
  for (const hierarchy of HIERARCHIES) {
    const dir = join(hierarchy.dir, `${name.replace(/\W+/g, "-")}-${Deno.pid}`);
    try {
      Deno.statSync(join(hierarchy.dir, hierarchy.counter));
      Deno.mkdirSync(dir);
    } catch {
      continue;
    }
    const counter = join(dir, hierarchy.counter);
    return {
      wrap: (command, args) => ({
        command: "/bin/sh",
        // $0 is the group's procs file; the shell joins it, then becomes the command.
        args: ["-c", 'echo $$ > "$0" && exec "$@"', join(dir, "cgroup.procs"), command, ...args],
      }),
      cpuMs() {
        const text = Deno.readTextFileSync(counter);
        if (hierarchy.field === undefined) return Number(text.trim()) * hierarchy.scale;
        const line = text.split("\n").find((l) => l.startsWith(`${hierarchy.field} `));
        return Number(line?.split(" ")[1] ?? NaN) * hierarchy.scale;
      },
      remove() {
        try {
          Deno.removeSync(dir);
        } catch {
          // still busy or gone; a leftover empty group costs nothing
        }
      },
    };
  }
  return undefined;
}
