/**
 * The interfaces' byte counters of a macOS host, from `netstat -bni` as upstream reads them
 * (go-osstat's `network` package): the 64-bit counters the kernel keeps per link.
 *
 * @module
 */

/** One link's counters. */
export interface LinkBytes {
  readonly name: string;
  readonly rxBytes: number;
  readonly txBytes: number;
}

/**
 * Parses `netstat -bni` (or `-ib`): one entry per `<Link#N>` row, loopback links (`lo*`) left out
 * and a trailing `*` (interface down) cut from the name. The `Ibytes` and `Obytes` columns are found
 * by the header; a link row without an address (a tunnel) has one column less before them.
 *
 * @throws {Error} when the header is not netstat's or a counter is not a number.
 */
export function parseNetstat(text: string): LinkBytes[] {
  const lines = text.split("\n");
  const header = lines[0] ?? "";
  if (!header.startsWith("Name")) {
    throw new Error(`unexpected output of netstat -bni: ${header}`);
  }
  const columns = header.trim().split(/\s+/);
  const rxAt = columns.indexOf("Ibytes");
  const txAt = columns.indexOf("Obytes");
  if (rxAt <= 0 || txAt <= 0) throw new Error(`unexpected output of netstat -bni: ${header}`);
  const links: LinkBytes[] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3) continue;
    const name = fields[0].replace(/\*$/, "");
    if (name.startsWith("lo") || !fields[2].startsWith("<Link#")) continue;
    const shift = fields.length < columns.length ? 1 : 0;
    const rx = fields[rxAt - shift];
    const tx = fields[txAt - shift];
    if (!/^\d+$/.test(rx ?? "")) throw new Error(`failed to parse Ibytes of ${name}`);
    if (!/^\d+$/.test(tx ?? "")) throw new Error(`failed to parse Obytes of ${name}`);
    links.push({ name, rxBytes: Number(rx), txBytes: Number(tx) });
  }
  return links;
}
