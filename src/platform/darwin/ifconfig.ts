/**
 * `ifconfig -a` on macOS, for the host's interfaces, read as upstream reads it.
 *
 * @module
 */
import type { InterfaceSpec } from "../../mackerel/types.ts";

/** `en0: flags=8863<UP,...> mtu 1500` starts an interface. */
const NAME = /^([0-9a-zA-Z@\-_]+):\s+/;
/** `ether 10:93:e9:0a:0b:0c`. */
const MAC = /^\s*ether\s+([0-9a-f:]+)/;
/** `inet 10.0.3.1 netmask 0xffffff00 broadcast 10.0.3.255`. */
const IPV4 = /^\s*inet\s+(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\s+netmask\s+(0x[0-9a-f]+)/;
/**
 * `inet6 2001:db8::1 prefixlen 64 autoconf`. A scoped address (`fe80::1%en0`) does not match, so
 * link-local addresses are not reported, as upstream's pattern has it.
 */
const IPV6 = /^\s*inet6\s+([0-9a-f:]+)\s+prefixlen\s+(\d+)/;

/**
 * Parses `ifconfig -a`: each interface that has a MAC or an address, in the order listed, with its
 * MAC (the last `ether` line) and addresses. Loopback and address-less interfaces are left to the
 * caller, as upstream filters them after parsing.
 */
export function parseIfconfig(text: string): InterfaceSpec[] {
  const byName = new Map<string, { v4: string[]; v6: string[]; mac?: string }>();
  const entry = (name: string) => {
    let found = byName.get(name);
    if (found === undefined) byName.set(name, found = { v4: [], v6: [] });
    return found;
  };
  let name = "";
  for (const line of text.split("\n")) {
    const named = NAME.exec(line);
    if (named) name = named[1];
    let match;
    if ((match = MAC.exec(line))) entry(name).mac = match[1];
    if ((match = IPV4.exec(line))) entry(name).v4.push(match[1]);
    if ((match = IPV6.exec(line))) entry(name).v6.push(match[1]);
  }
  return [...byName].map(([name, { v4, v6, mac }]) => ({
    name,
    ipv4Addresses: v4,
    ipv6Addresses: v6,
    ...(mac !== undefined ? { macAddress: mac } : {}),
  }));
}
