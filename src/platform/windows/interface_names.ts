/**
 * How upstream names a Windows network adapter in `interface.<name>.*`: its description with every
 * character outside `[0-9A-Za-z-]` made `_`, and a `_` appended to a name already taken.
 *
 * @module
 */

/** Upstream's `normalizeName`: `Intel(R) 82574L` -> `Intel_R__82574L`. */
export function normalizeAdapterName(name: string): string {
  return name.replace(/[^0-9A-Za-z-]/gu, "_");
}

/**
 * The metric key of each name: normalized, in the sorted order of the names, with `_` appended
 * while the key is taken (two adapters `A(1)` and `A[1]` get `A_1_` and `A_1__`).
 */
export function adapterKeys(names: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of [...new Set(names)].sort()) {
    let key = normalizeAdapterName(name);
    while (taken.has(key)) key += "_";
    taken.add(key);
    keys.set(name, key);
  }
  return keys;
}

/**
 * An adapter's description as its PDH instance name shows it undone where it can be: PDH writes
 * `(` and `)` as `[` and `]` (and `#`, `/`, `\` as `_`, which cannot be undone), so an
 * `[interfaces] ignore` written against the description (`Intel\(R\)`) matches as upstream's does.
 */
export function descriptionOfInstance(instance: string): string {
  return instance.replaceAll("[", "(").replaceAll("]", ")");
}
