/**
 * TCP (`[collectors] tcp`): connections by state from `<procfs>/net/tcp` and `net/tcp6`, opens and
 * retransmitted segments from `<procfs>/net/snmp`:
 *
 * - `custom.tcp.connections.<state>` (`established`, `syn_sent`, `syn_recv`, `fin_wait1`,
 *   `fin_wait2`, `time_wait`, `close`, `close_wait`, `last_ack`, `listen`, `closing`): sockets of
 *   IPv4 and IPv6 together at the round's time, every state sent (0 when none);
 * - `custom.tcp.opens.active`, `custom.tcp.opens.passive` (`ActiveOpens`, `PassiveOpens`) and
 *   `custom.tcp.segments.retransmitted` (`RetransSegs`): per second over the round's window.
 *
 * Why the socket tables rather than `snmp`'s `CurrEstab` and `sockstat`: those give established
 * (with close-wait folded in), time-wait and orphans only, while the states an operator looks for
 * in trouble (close-wait piling up behind a stuck application, syn-recv under a flood) need the
 * per-socket lines. Their cost grows with the number of sockets; `scripts/collect_bench.ts`
 * measures it, and the collector is off by default.
 *
 * Like every `/proc/net` file these describe the network namespace of the reading process.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { inGraph } from "./metric_declaration.ts";

/** The kernel's TCP states (include/net/tcp_states.h) by their hex code in the `st` column. */
export const TCP_STATES: Readonly<Record<string, string>> = {
  "01": "established",
  "02": "syn_sent",
  "03": "syn_recv",
  "04": "fin_wait1",
  "05": "fin_wait2",
  "06": "time_wait",
  "07": "close",
  "08": "close_wait",
  "09": "last_ack",
  "0A": "listen",
  "0B": "closing",
};

/** Zero for every state, in the kernel's order. */
export function emptyTcpCounts(): Map<string, number> {
  return new Map(Object.values(TCP_STATES).map((state) => [state, 0]));
}

/** `   0: 0100007F:0277 00000000:0000 0A ...`: slot, local and remote address, then the state. */
const SOCKET_LINE = /^\s*\d+:\s+\S+\s+\S+\s+([0-9A-F]{2})\s/gm;

/**
 * Adds the sockets of one `/proc/net/tcp`-style table to `counts` by state (the fourth column);
 * the header and lines of an unknown state are skipped.
 */
export function countTcpStates(text: string, counts: Map<string, number>): void {
  // One regex pass over the text: no array of lines for a table of 100 000 sockets.
  for (const match of text.matchAll(SOCKET_LINE)) {
    const state = TCP_STATES[match[1]];
    if (state !== undefined) counts.set(state, counts.get(state)! + 1);
  }
}

/**
 * Parses `/proc/net/snmp` (pairs of `Proto: names...` and `Proto: values...` lines) into
 * `Proto` -> name -> value; a pair whose lengths differ or whose values are not integers is skipped.
 */
export function parseSnmp(text: string): Map<string, Map<string, number>> {
  const tables = new Map<string, Map<string, number>>();
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    const [proto, ...names] = lines[i].trim().split(/\s+/);
    const [again, ...values] = lines[i + 1].trim().split(/\s+/);
    if (!proto.endsWith(":") || proto !== again || names.length !== values.length) continue;
    if (!values.every((v) => /^-?\d+$/.test(v))) continue;
    tables.set(proto.slice(0, -1), new Map(names.map((n, j) => [n, Number(values[j])])));
    i++;
  }
  return tables;
}

const COUNTERS = {
  ActiveOpens: "custom.tcp.opens.active",
  PassiveOpens: "custom.tcp.opens.passive",
  RetransSegs: "custom.tcp.segments.retransmitted",
} as const;

/** Options of {@linkcode createTcpCollector}. */
export interface TcpCollectorOptions {
  readonly source: Source;
}

/** Creates the `tcp` collector. */
export function createTcpCollector({ source }: TcpCollectorOptions): Collector {
  return createCounterRateCollector({
    name: "tcp",
    metricName: (_, counter) => COUNTERS[counter as keyof typeof COUNTERS],
    read: async () => {
      const [tcp, tcp6, snmp] = await Promise.all([
        source.readProc("net/tcp"),
        // A kernel booted with ipv6.disable=1 has no tcp6 table.
        source.readProc("net/tcp6").catch((error) => {
          if (error instanceof Deno.errors.NotFound) return "";
          throw error;
        }),
        source.readProc("net/snmp"),
      ]);
      const counts = emptyTcpCounts();
      countTcpStates(tcp, counts);
      countTcpStates(tcp6, counts);
      const gauges = [...counts].map(([state, value]) => ({
        name: `custom.tcp.connections.${state}`,
        value,
      }));
      const table = parseSnmp(snmp).get("Tcp");
      const rates: Record<string, number> = {};
      for (const counter of Object.keys(COUNTERS)) {
        const value = table?.get(counter);
        if (value !== undefined) rates[counter] = value;
      }
      return { gauges, counters: new Map([["tcp", rates]]) };
    },
  });
}

/** The registry's line: off unless `[collectors] tcp = true`. Connections by state; opens; retransmits. */
export const TCP_COLLECTOR: CollectorDefinition = {
  name: "tcp",
  os: ["linux"],
  optIn: "tcp",
  metrics: [
    ...inGraph(
      "TCP Connections",
      Object.values(TCP_STATES).map((state) => ({
        name: `custom.tcp.connections.${state}`,
        unit: "integer",
        description: `TCP sockets (IPv4 and IPv6) in state ${state}.`,
      })),
    ),
    ...inGraph("TCP Opens (per second)", [
      {
        name: COUNTERS.ActiveOpens,
        unit: "float",
        description: "Connections this host opened per second (ActiveOpens).",
      },
      {
        name: COUNTERS.PassiveOpens,
        unit: "float",
        description: "Connections this host accepted per second (PassiveOpens).",
      },
    ]),
    ...inGraph("TCP Segments (per second)", [{
      name: COUNTERS.RetransSegs,
      unit: "float",
      description: "TCP segments retransmitted per second (RetransSegs).",
    }]),
  ],
  sources: (source) => [source.procPath("net/tcp"), source.procPath("net/snmp")],
  create: ({ source }) => createTcpCollector({ source }),
};
