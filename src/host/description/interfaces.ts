/**
 * The host's `interfaces`: per link, its MAC address and its IPv4 and IPv6 addresses.
 *
 * @module
 */
import { errorMessage } from "../../log.ts";
import { isLoopbackIp, parseIp } from "../../ip.ts";
import type { InterfaceSpec } from "../../mackerel/types.ts";

/** Lists interface addresses; `Deno.networkInterfaces` unless a test injects one. */
export type ListNetworkInterfaces = () => readonly Deno.NetworkInterfaceInfo[];

/**
 * Whether an address is a loopback address as Go's `net.IP.IsLoopback` sees it: `127.0.0.0/8`
 * (also IPv4-mapped, `::ffff:127.0.0.1`) or `::1` in any spelling. `undefined` when the text is no
 * IP address, which callers skip as upstream does.
 */
export function isLoopbackAddress(address: string): boolean | undefined {
  const ip = parseIp(address.split("%")[0]);
  return ip && isLoopbackIp(ip);
}

/**
 * Whether an interface is a loopback one, as upstream's `IsLoopback`: it has addresses and every
 * address that parses is a loopback address.
 */
export function isLoopback(
  iface: Pick<InterfaceSpec, "ipv4Addresses" | "ipv6Addresses">,
): boolean {
  const addresses = [...iface.ipv4Addresses, ...iface.ipv6Addresses];
  if (addresses.length === 0) return false;
  return addresses.every((address) => isLoopbackAddress(address) !== false);
}

/**
 * Collects the interfaces, grouped by name in listing order.
 *
 * The MAC address is lower-cased and omitted when absent or all zeros; link-local addresses are
 * kept (without a `%scope` suffix). Links without addresses and loopback links are left out; no
 * name is filtered (docker0 and veth links are sent, as upstream). Returns `null` when nothing
 * is left; throws `failed to collect interfaces: ...` when listing fails.
 */
export function collectInterfaces(
  list: ListNetworkInterfaces = Deno.networkInterfaces,
): InterfaceSpec[] | null {
  let infos: readonly Deno.NetworkInterfaceInfo[];
  try {
    infos = list();
  } catch (error) {
    const reason = errorMessage(error);
    throw new Error(`failed to collect interfaces: ${reason}`, { cause: error });
  }
  const byName = new Map<string, { v4: string[]; v6: string[]; mac?: string }>();
  for (const info of infos) {
    const entry = byName.get(info.name) ?? { v4: [], v6: [] };
    byName.set(info.name, entry);
    const mac = info.mac.toLowerCase();
    if (entry.mac === undefined && /[1-9a-f]/.test(mac)) entry.mac = mac;
    const address = info.address.split("%")[0];
    if (address === "") continue;
    (info.family === "IPv4" ? entry.v4 : entry.v6).push(address);
  }
  const specs: InterfaceSpec[] = [];
  for (const [name, { v4, v6, mac }] of byName) {
    const spec: InterfaceSpec = {
      name,
      ipv4Addresses: v4,
      ipv6Addresses: v6,
      ...(mac !== undefined ? { macAddress: mac } : {}),
    };
    if (v4.length + v6.length === 0 || isLoopback(spec)) continue;
    specs.push(spec);
  }
  return specs.length > 0 ? specs : null;
}
