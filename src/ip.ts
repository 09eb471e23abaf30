/**
 * IP addresses as Go's `net.ParseIP` reads them: text to bytes, loopback, equality and prefixes.
 *
 * Ours rather than `node:net`'s `isIP` and `BlockList`: importing `node:net` loads a part of Deno's
 * Node polyfills that the daemon would hold resident for these few checks.
 *
 * @module
 */

/** Dotted decimal, each part 0-255 without a leading zero (Go refuses `010.0.0.1` since 1.17). */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** What IPv6 text may hold: hex groups, colons, and dots of an embedded IPv4 tail; no zone. */
const IPV6_CHARACTERS = /^[0-9A-Fa-f:.]+$/;

/**
 * The address in `text`: 4 bytes for IPv4, 16 for IPv6 (an embedded IPv4 tail such as
 * `::ffff:127.0.0.1` included); `undefined` when `text` is no address (a name, a zone `%eth0`,
 * brackets).
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (IPV4.test(text)) return Uint8Array.from(text.split("."), Number);
  if (!text.includes(":") || !IPV6_CHARACTERS.test(text)) return undefined;
  let canonical: string;
  try {
    // The URL parser validates IPv6 as RFC 4291 writes it and prints it canonically: hex groups,
    // at most one `::`, an IPv4 tail turned into two groups.
    canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [left, right = ""] = canonical.split("::");
  const groups = (part: string) => part === "" ? [] : part.split(":").map((g) => parseInt(g, 16));
  const head = groups(left);
  const tail = groups(right);
  const all = [...head, ...Array(8 - head.length - tail.length).fill(0), ...tail];
  return Uint8Array.from(all.flatMap((group) => [group >> 8, group & 0xff]));
}

/** Whether `ip` is a loopback address as Go's `IsLoopback` sees it: 127/8 (also IPv4-mapped) or ::1. */
export function isLoopbackIp(ip: Uint8Array): boolean {
  if (ip.length === 4) return ip[0] === 127;
  const zeros = (from: number, to: number) => ip.subarray(from, to).every((b) => b === 0);
  if (zeros(0, 15) && ip[15] === 1) return true;
  return zeros(0, 10) && ip[10] === 0xff && ip[11] === 0xff && ip[12] === 127;
}

/** Whether two addresses of one family are the same. */
export function sameIp(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Whether `ip` lies in `network`/`prefixBits`: the same family and the same first `prefixBits`
 * bits. A prefix longer than the family's address (or negative, or not an integer) matches nothing.
 */
export function inPrefix(ip: Uint8Array, network: Uint8Array, prefixBits: number): boolean {
  if (ip.length !== network.length) return false;
  if (!Number.isInteger(prefixBits) || prefixBits < 0 || prefixBits > ip.length * 8) return false;
  const whole = prefixBits >> 3;
  if (!sameIp(ip.subarray(0, whole), network.subarray(0, whole))) return false;
  const rest = prefixBits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[whole] & mask) === (network[whole] & mask);
}
