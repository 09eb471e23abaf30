import assert from "node:assert/strict";
import { parseNetstat } from "../../../src/platform/darwin/netstat.ts";
import { darwinFixture } from "./fixtures.ts";

Deno.test("netstat: link rows only, loopback left out, a down link's star cut (upstream's own case)", () => {
  assert.deepEqual(parseNetstat(darwinFixture("netstat-bni-go-osstat.txt")), [
    { name: "gif0", rxBytes: 0, txBytes: 0 },
    { name: "stf0", rxBytes: 0, txBytes: 0 },
    { name: "en0", rxBytes: 18096041919, txBytes: 8602191509 },
    { name: "en1", rxBytes: 0, txBytes: 0 },
    { name: "en2", rxBytes: 0, txBytes: 0 },
  ]);
});

Deno.test("netstat: the columns are found by the header, with or without Drop", () => {
  assert.deepEqual(parseNetstat(darwinFixture("netstat-ibdn-gopsutil.txt")), [
    { name: "gif0", rxBytes: 0, txBytes: 0 },
    { name: "stf0", rxBytes: 0, txBytes: 0 },
    { name: "en0", rxBytes: 7295722068, txBytes: 379533492 },
  ]);
  const old = parseNetstat(darwinFixture("netstat-ib-2012.txt"));
  assert.deepEqual(old.at(-1), { name: "en0", rxBytes: 13309516362, txBytes: 11363839527 });
  assert.equal(old.length, 3);
});

Deno.test("netstat: Apple silicon's anpi links are listed like any other", () => {
  const links = parseNetstat(darwinFixture("netstat-ib-apple-silicon.txt"));
  assert.deepEqual(links.map((l) => l.name), ["gif0", "stf0", "anpi2", "anpi1", "anpi0", "en3"]);
});

Deno.test("netstat: another header, or a counter that is not a number, is an error", () => {
  assert.throws(() => parseNetstat("Routing tables\n"), /unexpected output of netstat -bni/);
  assert.throws(() => parseNetstat("Name Mtu Network Address Ipkts\n"), /unexpected output/);
  const bad = "Name Mtu Network Address Ipkts Ierrs Ibytes Opkts Oerrs Obytes Coll\n" +
    "en0 1500 <Link#4> aa:bb:cc:dd:ee:ff 1 0 many 1 0 2 0\n";
  assert.throws(() => parseNetstat(bad), /failed to parse Ibytes of en0/);
});
