import assert from "node:assert/strict";
import {
  collectInterfaces,
  isLoopback,
  isLoopbackAddress,
} from "../../../src/host/description/interfaces.ts";

function info(
  name: string,
  family: "IPv4" | "IPv6",
  address: string,
  mac = "00:00:00:00:00:00",
): Deno.NetworkInterfaceInfo {
  return { name, family, address, mac, netmask: "", scopeid: null, cidr: `${address}/64` };
}

Deno.test("interfaces: isLoopback only when every address is loopback (upstream tables)", () => {
  const loopback: readonly [string[], string[]][] = [
    [["127.0.0.1"], []],
    [[], ["::1"]],
    [["127.0.0.1", "127.0.0.2"], []],
    [[], ["::1", "::0:1"]],
    [["127.0.0.1"], ["::1"]],
  ];
  for (const [ipv4Addresses, ipv6Addresses] of loopback) {
    assert.equal(isLoopback({ ipv4Addresses, ipv6Addresses }), true, `${ipv4Addresses}`);
  }
  const notLoopback: readonly [string[], string[]][] = [
    [[], []],
    [["227.0.0.1"], []],
    [[], ["::2"]],
    [["227.0.0.1", "127.0.0.2"], []],
    [[], ["::1", "::2"]],
    [["128.0.0.1"], ["::1"]],
    [["127.0.0.1"], ["::2"]],
  ];
  for (const [ipv4Addresses, ipv6Addresses] of notLoopback) {
    assert.equal(isLoopback({ ipv4Addresses, ipv6Addresses }), false, `${ipv6Addresses}`);
  }
});

Deno.test("interfaces: isLoopbackAddress follows Go's IsLoopback, undefined for non-addresses", () => {
  const table: readonly (readonly [string, boolean | undefined])[] = [
    ["127.255.255.254", true],
    ["::ffff:127.0.0.1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::1%lo", true],
    ["::127.0.0.1", false],
    ["fe80::1", false],
    ["10.0.0.1", false],
    ["localhost", undefined],
    ["", undefined],
  ];
  for (const [address, expected] of table) {
    assert.equal(isLoopbackAddress(address), expected, address);
  }
});

Deno.test("interfaces: grouped by name, MAC lowercased, loopback and zero MAC left out", () => {
  const list = () => [
    info("lo", "IPv4", "127.0.0.1"),
    info("eth0", "IPv4", "10.0.0.5", "02:42:AC:11:00:02"),
    info("lo", "IPv6", "::1"),
    info("eth0", "IPv6", "fe80::42:acff:fe11:2%eth0", "02:42:AC:11:00:02"),
    info("eth0", "IPv4", "10.0.0.6", "02:42:AC:11:00:02"),
    info("tun0", "IPv4", "10.8.0.1"),
    info("veth1a2b", "IPv6", "fe80::1", "aa:bb:cc:dd:ee:ff"),
  ];
  assert.deepEqual(collectInterfaces(list), [
    {
      name: "eth0",
      ipv4Addresses: ["10.0.0.5", "10.0.0.6"],
      ipv6Addresses: ["fe80::42:acff:fe11:2"],
      macAddress: "02:42:ac:11:00:02",
    },
    { name: "tun0", ipv4Addresses: ["10.8.0.1"], ipv6Addresses: [] },
    {
      name: "veth1a2b",
      ipv4Addresses: [],
      ipv6Addresses: ["fe80::1"],
      macAddress: "aa:bb:cc:dd:ee:ff",
    },
  ]);
});

Deno.test("interfaces: null when only loopback is left, an error when listing fails", () => {
  assert.equal(collectInterfaces(() => [info("lo", "IPv4", "127.0.0.1")]), null);
  assert.equal(collectInterfaces(() => []), null);
  assert.throws(
    () =>
      collectInterfaces(() => {
        throw new Deno.errors.NotCapable('Requires sys access to "networkInterfaces"');
      }),
    { message: 'failed to collect interfaces: Requires sys access to "networkInterfaces"' },
  );
});

Deno.test("interfaces: the live machine's first interface has an IPv4 address and a MAC", () => {
  const interfaces = collectInterfaces();
  assert.ok(interfaces && interfaces.length > 0);
  const withV4 = interfaces.find((iface) => iface.ipv4Addresses.length > 0);
  assert.ok(withV4);
  assert.match(withV4.macAddress ?? "", /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  assert.ok(interfaces.every((iface) => iface.name !== "lo"));
});
