import assert from "node:assert/strict";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import {
  createInterfaceErrorsCollector,
  INTERFACE_ERRORS_COLLECTOR,
} from "../../src/metrics/interface_errors.ts";
import { at, fixtureTrees, readable, recordingSource, T0 } from "./rounds.ts";

const INTERFACE_ERRORS_GRAPH_DEFS = graphDefsOf(INTERFACE_ERRORS_COLLECTOR.metrics);

const rates = (key: string, time: number, [rxErrors, txErrors, rxDrops, txDrops]: number[]) =>
  Object.entries({ rxErrors, txErrors, rxDrops, txDrops }).map(([counter, value]) => ({
    name: `custom.interface_errors.${key}.${counter}`,
    value,
    time,
  }));

Deno.test("interface_errors: errors and drops per second, for the interfaces upstream graphs", async () => {
  const trees = fixtureTrees();
  const collector = createInterfaceErrorsCollector({ source: trees.source });
  assert.equal(collector.name, "interface_errors");
  assert.deepEqual(await collector.collect(at(T0)), []);
  trees.use("x86-next");
  const time = T0 / 1000;
  // No lo and no veth*; eth0.100 sanitized to eth0_100, as interface.* names it.
  assert.deepEqual(await collector.collect(at(T0 + 60_000)), [
    ...rates("eth0", time, [1, 0, 2, 1]), // Δ 60, 0, 120, 60 in 60 s
    ...rates("eth0_100", time, [0, 0, 0.5, 0]),
    ...rates("docker0", time, [0, 0, 0, 3]),
    ...rates("virbr0", time, [0, 0, 0, 0]),
  ]);
});

Deno.test("interface_errors: counters that went down and vanished interfaces are left out; ignore applies", async () => {
  const trees = fixtureTrees();
  const collector = createInterfaceErrorsCollector({ source: trees.source, ignore: /virbr/ });
  await collector.collect(at(T0));
  trees.use("reset");
  const time = T0 / 1000;
  assert.deepEqual(await collector.collect(at(T0 + 10_000)), [
    { name: "custom.interface_errors.eth0.txErrors", value: 0.3, time }, // 1 → 4 in 10 s
    { name: "custom.interface_errors.eth0.txDrops", value: 7, time }, // 0 → 70
    ...rates("eth0_100", time, [0, 0, 0, 0]),
  ]);
});

Deno.test("interface_errors: the graph definition draws one graph per interface", () => {
  assert.deepEqual(INTERFACE_ERRORS_GRAPH_DEFS.map((g) => g.name), ["custom.interface_errors.#"]);
  assert.deepEqual(INTERFACE_ERRORS_GRAPH_DEFS[0].metrics.map((m) => m.name), [
    "custom.interface_errors.#.rxErrors",
    "custom.interface_errors.#.txErrors",
    "custom.interface_errors.#.rxDrops",
    "custom.interface_errors.#.txDrops",
  ]);
});

const live = await readable("/proc/net/dev");

Deno.test({
  name: `interface_errors: live values are the kernel's${
    live ? "" : " (skipped: cannot open /proc)"
  }`,
  ignore: !live,
  async fn() {
    const { source, take } = recordingSource();
    const collector = createInterfaceErrorsCollector({ source });
    await collector.collect(at(T0));
    const before = take().get("net/dev")!;
    const values = await collector.collect(at(T0 + 60_000));
    const after = take().get("net/dev")!;
    // An independent reading: columns 3, 4, 11 and 12 after the colon.
    const columns = (text: string) =>
      new Map(
        text.split("\n").slice(2).filter((l) => l.includes(":")).map((l) => {
          const [name, rest] = l.split(":");
          const f = rest.trim().split(/\s+/).map(Number);
          return [name.trim(), [f[2], f[10], f[3], f[11]]];
        }),
      );
    const [was, now] = [columns(before), columns(after)];
    const expected = [...now].filter(([name]) => name !== "lo" && !name.startsWith("veth"))
      .flatMap(([name, counts]) =>
        rates(
          name.replace(/[^A-Za-z0-9_-]/g, "_"),
          T0 / 1000,
          counts.map((c, i) => (c - was.get(name)![i]) / 60),
        )
      );
    assert.deepEqual(values, expected);
    assert.ok(expected.length > 0, "this machine has an interface besides lo");
  },
});
