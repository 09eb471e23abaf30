import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { createSource } from "../../src/host/source.ts";
import {
  createInterfaceCollector,
  INTERFACE_COLLECTOR,
  parseNetDev,
} from "../../src/metrics/interface.ts";
import { PROCFS_FIXTURES, withProcfsSnapshots } from "../support/procfs_tree.ts";
import { manualClock } from "../support/virtual_clock.ts";
import { at } from "./rounds.ts";

const counts = (
  [rxBytes, rxPackets, rxErrors, rxDrops]: number[],
  [txBytes, txPackets, txErrors, txDrops]: number[],
) => ({ rxBytes, rxPackets, rxErrors, rxDrops, txBytes, txPackets, txErrors, txDrops });

Deno.test("interface: parseNetDev reads bytes, packets, errs and drop of rx and tx, and skips the headers", async () => {
  const stats = parseNetDev(await Deno.readTextFile(join(PROCFS_FIXTURES, "x86", "net", "dev")));
  assert.deepEqual(stats, [
    { name: "lo", ...counts([8307, 89, 0, 0], [8307, 89, 0, 0]) },
    { name: "eth0", ...counts([1000000, 9000, 5, 10], [500000, 4000, 1, 0]) },
    { name: "eth0.100", ...counts([60000, 400, 0, 2], [20000, 150, 0, 0]) },
    { name: "docker0", ...counts([20000, 150, 0, 0], [30000, 210, 0, 3]) },
    { name: "veth1234", ...counts([30000, 210, 7, 7], [20000, 150, 7, 7]) },
    { name: "virbr0", ...counts([4000, 40, 0, 0], [6000, 50, 0, 0]) },
  ]);
  // Fewer than 16 fields or a non-numeric one: the line does not count.
  assert.deepEqual(
    parseNetDev(
      "eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\neth2: 1 2 3 4 5 6 7 8 x 1 1 1 1 1 1 1\n",
    ),
    [],
  );
});

Deno.test("interface: no values on the first sample, then bytes per second without lo and veth", async () => {
  await withProcfsSnapshots("net/dev", async (dir, next) => {
    const clock = manualClock(5_000);
    const collector = createInterfaceCollector({
      source: createSource({ procfs: dir }),
    });
    assert.equal(collector.name, "interface");
    assert.deepEqual(INTERFACE_COLLECTOR.sources(createSource({ procfs: dir })), [
      join(dir, "net", "dev"),
    ]);
    assert.deepEqual(await collector.collect(at(clock.now())), []);

    await next("x86-next");
    clock.advance(2000);
    assert.deepEqual(await collector.collect(at(clock.now())), [
      { name: "interface.eth0.rxBytes.delta", value: 2000, time: 5 },
      { name: "interface.eth0.txBytes.delta", value: 500, time: 5 },
      { name: "interface.eth0_100.rxBytes.delta", value: 300, time: 5 },
      { name: "interface.eth0_100.txBytes.delta", value: 50, time: 5 },
      { name: "interface.docker0.rxBytes.delta", value: 0, time: 5 },
      { name: "interface.docker0.txBytes.delta", value: 100, time: 5 },
      { name: "interface.virbr0.rxBytes.delta", value: 0, time: 5 },
      { name: "interface.virbr0.txBytes.delta", value: 0, time: 5 },
    ]);
  });
});

Deno.test("interface: a counter that went backwards or a vanished interface is omitted", async () => {
  await withProcfsSnapshots("net/dev", async (dir, next) => {
    const clock = manualClock(5_000);
    const collector = createInterfaceCollector({
      source: createSource({ procfs: dir }),
    });
    await collector.collect(at(clock.now()));
    await next("reset");
    clock.advance(2000);
    assert.deepEqual(await collector.collect(at(clock.now())), [
      { name: "interface.eth0.txBytes.delta", value: 1000, time: 5 },
      { name: "interface.eth0_100.rxBytes.delta", value: 0, time: 5 },
      { name: "interface.eth0_100.txBytes.delta", value: 0, time: 5 },
      { name: "interface.virbr0.rxBytes.delta", value: 5, time: 5 },
    ]);
  });
});

Deno.test("interface: ignore is matched unanchored against the sanitized name", async () => {
  await withProcfsSnapshots("net/dev", async (dir, next) => {
    const clock = manualClock(5_000);
    const collector = createInterfaceCollector({
      source: createSource({ procfs: dir }),
      ignore: /docker|0_1/,
    });
    await collector.collect(at(clock.now()));
    await next("x86-next");
    clock.advance(8000);
    assert.deepEqual(
      (await collector.collect(at(clock.now()))).map((v) => `${v.name}=${v.value}`),
      [
        "interface.eth0.rxBytes.delta=500",
        "interface.eth0.txBytes.delta=125",
        "interface.virbr0.rxBytes.delta=0",
        "interface.virbr0.txBytes.delta=0",
      ],
    );
  });
});

const netDevLine = fc.tuple(
  fc.constantFrom("lo", "eth0", "veth9", "br-1.2", "wlan0"),
  fc.array(
    fc.oneof({ arbitrary: fc.nat(), weight: 30 }, {
      arbitrary: fc.constantFrom(-1, 0.5, NaN, "x"),
      weight: 1,
    }),
    { minLength: 14, maxLength: 18 },
  ),
).map(([name, fields]) => `${name}: ${fields.join(" ")}`);

const netDevText = fc.array(fc.oneof(netDevLine, netDevLine, fc.string()), { maxLength: 8 })
  .map((lines) => lines.join("\n"));

Deno.test("interface: parseNetDev never throws and rates are never negative or NaN", async () => {
  let emitted = 0;
  await fc.assert(
    fc.asyncProperty(netDevText, netDevText, fc.nat({ max: 5000 }), async (first, second, ms) => {
      const texts = [first, second];
      let ms0 = 0;
      const source = { ...createSource(), readProc: () => Promise.resolve(texts.shift() ?? "") };
      const collector = createInterfaceCollector({ source });
      await collector.collect(at(ms0));
      ms0 += ms;
      for (const { value } of await collector.collect(at(ms0))) {
        assert.ok(Number.isFinite(value) && value >= 0, String(value));
        emitted++;
      }
    }),
    // Enough runs that some pairs share a device with valid counters: the check below needs it.
    { numRuns: 1000 },
  );
  assert.ok(emitted > 0, "no run produced a rate");
});
