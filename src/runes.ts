/**
 * Length limits counted as Go counts them: in runes (code points), not UTF-16 units.
 *
 * @module
 */

/** The first `n` code points of `s` (all of `s` when it is shorter); never splits a surrogate pair. */
export function truncateRunes(s: string, n: number): string {
  // Fast path: a string of at most n UTF-16 units has at most n code points.
  if (s.length <= n) return s;
  let units = 0;
  let runes = 0;
  for (const ch of s) {
    if (runes === n) return s.slice(0, units);
    units += ch.length;
    runes++;
  }
  return s;
}
