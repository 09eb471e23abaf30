/**
 * `sysctl` output (`name: value` per line), for the CPU and memory parts of a macOS host's
 * description.
 *
 * @module
 */

/** Parses `sysctl <names>` output into values by name; a line without `: ` is skipped. */
export function parseSysctl(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    values.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return values;
}

/** `machdep.cpu` keys upstream reports, with their names in the cpu part. */
const CPU_KEYS: ReadonlyMap<string, string> = new Map([
  ["core_count", "cores"],
  ["brand_string", "model_name"],
  ["model", "model"],
  ["vendor", "vendor_id"],
  ["family", "family"],
  ["stepping", "stepping"],
]);

/**
 * The cpu spec of one processor from `sysctl machdep.cpu`: the keys upstream knows, as text.
 * Apple silicon has no vendor, family, model or stepping; Intel Macs have them all.
 */
export function cpuSpecFromSysctl(text: string): Record<string, string> {
  const spec: Record<string, string> = {};
  for (const [name, value] of parseSysctl(text)) {
    const label = CPU_KEYS.get(name.replace(/^machdep\.cpu\./, ""));
    if (label !== undefined) spec[label] = value;
  }
  return spec;
}

/**
 * A `sysctl -n` integer (`hw.logicalcpu`, `hw.memsize`).
 *
 * @throws {Error} naming the text when it is not a non-negative integer.
 */
export function parseSysctlInteger(text: string, name: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new Error(`sysctl -n ${name}: not an integer: ${JSON.stringify(trimmed.slice(0, 40))}`);
  }
  return Number(trimmed);
}
