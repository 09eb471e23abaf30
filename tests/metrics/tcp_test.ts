import assert from "node:assert/strict";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import { join } from "node:path";
import {
  countTcpStates,
  createTcpCollector,
  emptyTcpCounts,
  parseSnmp,
  TCP_COLLECTOR,
  TCP_STATES,
} from "../../src/metrics/tcp.ts";
import { PROCFS_FIXTURES } from "../support/procfs_tree.ts";
import { at, fixtureTrees, readable, recordingSource, T0 } from "./rounds.ts";

const TCP_GRAPH_DEFS = graphDefsOf(TCP_COLLECTOR.metrics);

const fixture = (rel: string) => Deno.readTextFile(join(PROCFS_FIXTURES, "x86", rel));

/** The x86 fixture's sockets: net/tcp plus net/tcp6. */
const X86_CONNECTIONS = {
  established: 4,
  syn_sent: 0,
  syn_recv: 1,
  fin_wait1: 1,
  fin_wait2: 0,
  time_wait: 1,
  close: 0,
  close_wait: 1,
  last_ack: 0,
  listen: 3,
  closing: 0,
};

const connections = (counts: Record<string, number>) =>
  Object.entries(counts).map(([state, value]) => ({
    name: `custom.tcp.connections.${state}`,
    value,
  }));

Deno.test("tcp: countTcpStates counts the st column of IPv4 and IPv6 tables, not the header", async () => {
  const counts = emptyTcpCounts();
  countTcpStates(await fixture("net/tcp"), counts);
  countTcpStates(await fixture("net/tcp6"), counts);
  assert.deepEqual(Object.fromEntries(counts), X86_CONNECTIONS);
  const odd = emptyTcpCounts();
  countTcpStates("garbage\n   0: 1:2 3:4 0C rest\n   1: a b 0A tail\n", odd);
  assert.equal(odd.get("listen"), 1);
  assert.equal([...odd.values()].reduce((a, b) => a + b), 1);
});

Deno.test("tcp: parseSnmp pairs names with values per protocol", async () => {
  const tcp = parseSnmp(await fixture("net/snmp")).get("Tcp")!;
  assert.equal(tcp.get("MaxConn"), -1);
  assert.equal(tcp.get("ActiveOpens"), 5000);
  assert.equal(tcp.get("PassiveOpens"), 3000);
  assert.equal(tcp.get("RetransSegs"), 1200);
  assert.equal(parseSnmp("Tcp: A B\nTcp: 1\nUdp: C\nUdp: x\n").size, 0);
});

Deno.test("tcp: connections by state each round, opens and retransmits per second", async () => {
  const trees = fixtureTrees();
  const collector = createTcpCollector({ source: trees.source });
  assert.deepEqual(await collector.collect(at(T0)), connections(X86_CONNECTIONS));
  trees.use("x86-next");
  const time = T0 / 1000;
  assert.deepEqual(await collector.collect(at(T0 + 60_000)), [
    ...connections(X86_CONNECTIONS),
    { name: "custom.tcp.opens.active", value: 2, time }, // 120 in 60 s
    { name: "custom.tcp.opens.passive", value: 0.5, time }, // 30
    { name: "custom.tcp.segments.retransmitted", value: 1, time }, // 60
  ]);
});

Deno.test("tcp: a kernel without IPv6 has no tcp6 table: IPv4 sockets only", async () => {
  const { source } = fixtureTrees();
  const collector = createTcpCollector({
    source: {
      ...source,
      readProc: (rel) =>
        rel === "net/tcp6"
          ? Promise.reject(new Deno.errors.NotFound(`no ${rel}`))
          : source.readProc(rel),
    },
  });
  const values = new Map((await collector.collect(at(T0))).map((v) => [v.name, v.value]));
  assert.equal(values.get("custom.tcp.connections.listen"), 2);
  assert.equal(values.get("custom.tcp.connections.established"), 3);
  assert.equal(values.get("custom.tcp.connections.fin_wait1"), 0);
});

Deno.test("tcp: every metric sent has a line in the graph definitions", async () => {
  const trees = fixtureTrees();
  const collector = createTcpCollector({ source: trees.source });
  await collector.collect(at(T0));
  const sent = (await collector.collect(at(T0 + 60_000))).map((v) => v.name).sort();
  const defined = TCP_GRAPH_DEFS.flatMap((g) => g.metrics.map((m) => m.name)).sort();
  assert.deepEqual(sent, defined);
  assert.equal(Object.keys(TCP_STATES).length, 11);
});

const live = await readable("/proc/net/tcp") && await readable("/proc/net/snmp");

Deno.test({
  name: `tcp: live values are the kernel's${live ? "" : " (skipped: cannot open /proc/net)"}`,
  ignore: !live,
  async fn() {
    // A connection of our own, so the tables hold at least a listener and two established ends.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dialed = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const accepted = await listener.accept();
    try {
      const { source, take } = recordingSource();
      const collector = createTcpCollector({ source });
      await collector.collect(at(T0));
      const before = take();
      const values = new Map(
        (await collector.collect(at(T0 + 60_000))).map((v) => [v.name, v.value]),
      );
      const after = take();
      // An independent count: the fourth whitespace-separated field of every line but the header.
      const expected = new Map(Object.values(TCP_STATES).map((s) => [s, 0]));
      for (const rel of ["net/tcp", "net/tcp6"]) {
        for (const line of (after.get(rel) ?? "").trim().split("\n").slice(1)) {
          const state = TCP_STATES[line.trim().split(/\s+/)[3]];
          expected.set(state, expected.get(state)! + 1);
        }
      }
      for (const [state, count] of expected) {
        assert.equal(values.get(`custom.tcp.connections.${state}`), count, state);
      }
      assert.ok(expected.get("listen")! >= 1 && expected.get("established")! >= 2);
      const snmp = (texts: Map<string, string>, name: string) => {
        const [names, numbers] = texts.get("net/snmp")!.split("\n")
          .filter((l) => l.startsWith("Tcp:")).map((l) => l.split(" "));
        return Number(numbers[names.indexOf(name)]);
      };
      const rate = (name: string) => (snmp(after, name) - snmp(before, name)) / 60;
      assert.equal(values.get("custom.tcp.opens.active"), rate("ActiveOpens"));
      assert.equal(values.get("custom.tcp.opens.passive"), rate("PassiveOpens"));
      assert.equal(values.get("custom.tcp.segments.retransmitted"), rate("RetransSegs"));
    } finally {
      dialed.close();
      accepted.close();
      listener.close();
    }
  },
});
