import assert from "node:assert/strict";
import { BlockList, isIP } from "node:net";
import fc from "fast-check";
import { inPrefix, isLoopbackIp, parseIp, sameIp } from "../src/ip.ts";

const ip = (text: string) => {
  const parsed = parseIp(text);
  assert.ok(parsed, `${text} parses`);
  return parsed;
};

Deno.test("ip: IPv4 and IPv6 text as Go's net.ParseIP reads it", () => {
  assert.deepEqual(parseIp("192.168.0.1"), Uint8Array.of(192, 168, 0, 1));
  assert.deepEqual(parseIp("::1"), Uint8Array.of(...Array(15).fill(0), 1));
  assert.deepEqual(
    parseIp("::ffff:127.0.0.1")?.subarray(10),
    Uint8Array.of(255, 255, 127, 0, 0, 1),
  );
  assert.deepEqual(
    parseIp("2001:DB8::8:800:200C:417A")?.subarray(0, 4),
    Uint8Array.of(32, 1, 13, 184),
  );
  assert.deepEqual(parseIp("1:2:3:4:5:6:7:8")?.subarray(14), Uint8Array.of(0, 8));
  for (
    const no of [
      "",
      "localhost",
      "010.0.0.1",
      "256.0.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "fe80::1%eth0",
      "[::1]",
      "1::2::3",
      "12345::",
      "::ffff:1.2.3.04",
      "example.com:80",
    ]
  ) {
    assert.equal(parseIp(no), undefined, no);
  }
});

Deno.test("ip: loopback is 127/8, IPv4-mapped 127/8 and ::1 in any spelling", () => {
  for (
    const yes of [
      "127.0.0.1",
      "127.255.0.9",
      "::1",
      "0:0::0:1",
      "::ffff:127.0.0.1",
      "::ffff:7f01:2",
    ]
  ) {
    assert.ok(isLoopbackIp(ip(yes)), yes);
  }
  for (const no of ["128.0.0.1", "::2", "::127.0.0.1", "::fffe:127.0.0.1", "fe80::1", "10.0.0.1"]) {
    assert.ok(!isLoopbackIp(ip(no)), no);
  }
});

Deno.test("ip: equality and prefixes within a family; a prefix out of range matches nothing", () => {
  assert.ok(sameIp(ip("::0:1"), ip("::1")));
  assert.ok(!sameIp(ip("127.0.0.1"), ip("::ffff:127.0.0.1")));
  assert.ok(inPrefix(ip("10.1.2.3"), ip("10.0.0.0"), 8));
  assert.ok(inPrefix(ip("10.1.2.3"), ip("10.1.2.0"), 23));
  assert.ok(!inPrefix(ip("10.1.4.3"), ip("10.1.2.0"), 23));
  assert.ok(inPrefix(ip("1.2.3.4"), ip("9.9.9.9"), 0));
  assert.ok(!inPrefix(ip("::ffff:10.0.0.1"), ip("10.0.0.0"), 8));
  for (const bits of [33, -1, 1.5, NaN]) assert.ok(!inPrefix(ip("10.0.0.1"), ip("10.0.0.0"), bits));
  assert.ok(inPrefix(ip("2001:db8::1"), ip("2001:db8::"), 32));
  assert.ok(!inPrefix(ip("2001:db9::1"), ip("2001:db8::"), 32));
});

Deno.test("ip: parsing, equality and prefixes agree with node:net for any address", () => {
  const address = fc.oneof(fc.ipV4(), fc.ipV6());
  fc.assert(
    fc.property(address, address, fc.integer({ min: 0, max: 128 }), (a, b, bits) => {
      const family = isIP(a);
      const pa = parseIp(a);
      assert.equal(pa?.length, family === 4 ? 4 : 16, a);
      const pb = parseIp(b)!;
      const type = family === 4 ? "ipv4" : "ipv6";
      if (isIP(b) !== family) {
        assert.ok(!inPrefix(pa!, pb, bits));
        return;
      }
      const prefix = Math.min(bits, family === 4 ? 32 : 128);
      const list = new BlockList();
      list.addSubnet(b, prefix, type);
      assert.equal(inPrefix(pa!, pb, prefix), list.check(a, type), `${a} in ${b}/${prefix}`);
      const one = new BlockList();
      one.addAddress(b, type);
      assert.equal(sameIp(pa!, pb), one.check(a, type), `${a} = ${b}`);
    }),
    { numRuns: 2000 },
  );
});
