/**
 * The metric names upstream's mackerel-agent 0.87.0 posts on each operating system, without plugins,
 * written down from its `command/command_<os>.go` and the generators they list. A `<placeholder>`
 * stands for a device, drive, interface or mount key (`[A-Za-z0-9_-]+`, as in the collectors'
 * declarations). The fixture rounds (`tests/platform/<os>/round_test.ts`) prove this agent posts
 * exactly these on macOS and Windows; a workflow on a real runner can assert they arrive with
 * {@linkcode missingMetricNames}.
 *
 * @module
 */
import { matchesTemplate } from "./metric_declaration.ts";

/** The operating systems with a list. */
export type ListedOs = "linux" | "darwin" | "windows";

/** Upstream's names by OS. Linux's are a 5.x+ kernel's (`/proc/stat` with guest, `MemAvailable`). */
export const UPSTREAM_METRIC_NAMES: Readonly<Record<ListedOs, readonly string[]>> = {
  linux: [
    "loadavg1",
    "loadavg5",
    "loadavg15",
    "cpu.user.percentage",
    "cpu.nice.percentage",
    "cpu.system.percentage",
    "cpu.idle.percentage",
    "cpu.iowait.percentage",
    "cpu.irq.percentage",
    "cpu.softirq.percentage",
    "cpu.steal.percentage",
    "cpu.guest.percentage",
    "memory.total",
    "memory.used",
    "memory.mem_available",
    "memory.swap_total",
    "memory.swap_cached",
    "memory.swap_free",
    "disk.<device>.reads.delta",
    "disk.<device>.writes.delta",
    "interface.<interface>.rxBytes.delta",
    "interface.<interface>.txBytes.delta",
    "filesystem.<device>.size",
    "filesystem.<device>.used",
  ],
  darwin: [
    "loadavg1",
    "loadavg5",
    "loadavg15",
    "cpu.user.percentage",
    "cpu.system.percentage",
    "cpu.idle.percentage",
    "memory.total",
    "memory.used",
    "memory.cached",
    "memory.free",
    "memory.swap_total",
    "memory.swap_free",
    "filesystem.<device>.size",
    "filesystem.<device>.used",
    "interface.<interface>.rxBytes.delta",
    "interface.<interface>.txBytes.delta",
  ],
  windows: [
    "processor_queue_length",
    "cpu.user.percentage",
    "cpu.system.percentage",
    "cpu.idle.percentage",
    "memory.free",
    "memory.total",
    "memory.used",
    "memory.pagefile_total",
    "memory.pagefile_free",
    "filesystem.<drive>.size",
    "filesystem.<drive>.used",
    "interface.<interface>.rxBytes.delta",
    "interface.<interface>.txBytes.delta",
    "disk.<drive>.reads.delta",
    "disk.<drive>.writes.delta",
  ],
};

/**
 * Upstream's names for `os` (`Deno.build.os`'s name), or none for a system not listed: what a
 * workflow on a real runner expects to arrive (`scripts/os_smoke.ts` loads it by this name).
 */
export function expectedMetricNames(os: string): readonly string[] {
  return os === "linux" || os === "darwin" || os === "windows" ? UPSTREAM_METRIC_NAMES[os] : [];
}

/** The names of `expected` that no name of `posted` matches (empty when every one arrived). */
export function missingMetricNames(
  expected: readonly string[],
  posted: Iterable<string>,
): string[] {
  const names = [...posted];
  return expected.filter((template) => !names.some((name) => matchesTemplate(name, template)));
}
