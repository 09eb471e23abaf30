/**
 * End to end: the real agent (`-interval 1`) with `[otlp]` against OTLP receivers on loopback
 * (tests/support/otlp_receivers.ts, decoding with protobufjs from the official definitions) and
 * the fake Mackerel API.
 */
import assert from "node:assert/strict";
import { spawnAgent, waitFor } from "../support/agent_process.ts";
import { type DaemonSetup, enqueued, stopAgent, withDaemon } from "../support/daemon_run.ts";
import {
  type OtlpReceiver,
  type ReceivedPoint,
  type ReceivedResource,
  startOtlpGrpcReceiver,
  startOtlpHttpReceiver,
} from "../support/otlp_receivers.ts";

const has = (receiver: OtlpReceiver, metric: string) =>
  receiver.accepted().some((r) => r.points.some((p) => p.metric === metric));

const pointsOf = (resources: readonly ReceivedResource[], metric: string): ReceivedPoint[] =>
  resources.flatMap((r) => r.points.filter((p) => p.metric === metric));

/** The boot time of this machine in ns: the start time of the kernel's counters. */
async function bootNs(): Promise<bigint> {
  const btime = (await Deno.readTextFile("/proc/stat")).match(/^btime (\d+)$/m)![1];
  return BigInt(btime) * 1_000_000_000n;
}

/** Asserts what one round of host metrics must carry, whatever the transport. */
async function assertHostMetrics(s: DaemonSetup, receiver: OtlpReceiver): Promise<void> {
  const [hostId] = [...s.api.hosts.keys()];
  const resources = receiver.accepted();
  const own = resources.filter((r) => r.resource["mackerelio.host.id"] === hostId);
  assert.ok(own.length >= 2, "two rounds of the host");
  const resource = own[0].resource;
  assert.equal(resource["host.name"], s.api.hosts.get(hostId)!.name);
  assert.equal(resource["service.name"], "mackerel-agent");
  assert.equal(resource["os.type"], "linux");
  assert.ok(["amd64", "arm64"].includes(resource["host.arch"]), resource["host.arch"]);
  assert.match(resource["service.version"], /^\d+\.\d+\.\d+/);
  assert.equal(own[0].scope.name, "mackerel-agent");

  const boot = await bootNs();
  const cpu = pointsOf(own, "system.cpu.time");
  assert.deepEqual(
    [...new Set(cpu.map((p) => p.attributes["cpu.mode"]))].sort(),
    ["idle", "interrupt", "nice", "softirq", "steal", "system", "user", "wait"],
  );
  for (const p of cpu) {
    assert.equal(p.type, "sum");
    assert.equal(p.temporality, 2, "cumulative");
    assert.equal(p.monotonic, true);
    assert.equal(p.unit, "s");
    assert.equal(p.startNs, boot, "counted since boot");
    assert.ok(p.timeNs > boot && p.value >= 0);
  }
  assert.ok(cpu.every((p) => p.timeNs <= BigInt(Date.now()) * 1_000_000n));

  const memory = pointsOf(own, "system.memory.usage");
  assert.deepEqual(
    [...new Set(memory.map((p) => p.attributes["system.memory.state"]))].sort(),
    ["buffered", "cached", "free", "slab_reclaimable", "slab_unreclaimable", "used"],
  );
  const total = Number((await Deno.readTextFile("/proc/meminfo")).match(/^MemTotal:\s+(\d+)/m)![1]);
  const byTime = Map.groupBy(memory, (p) => p.timeNs);
  for (const states of byTime.values()) {
    const get = (s: string) => states.find((p) => p.attributes["system.memory.state"] === s)!.value;
    // used + free + buffered + cached is the total, as hostmetrics counts it.
    assert.equal(get("used") + get("free") + get("buffered") + get("cached"), total * 1024);
    assert.ok(states.every((p) => p.type === "sum" && p.monotonic === false && p.unit === "By"));
  }
  const load = pointsOf(own, "system.cpu.load_average.1m");
  assert.ok(load.length >= 2 && load.every((p) => p.type === "gauge" && p.unit === "{thread}"));
  const net = pointsOf(own, "system.network.io");
  assert.ok(
    net.every((p) => ["receive", "transmit"].includes(p.attributes["network.io.direction"])),
  );
  const fs = pointsOf(own, "system.filesystem.usage");
  assert.ok(fs.some((p) => p.attributes["system.filesystem.mountpoint"] === "/"));
}

Deno.test("otlp e2e: http/protobuf to <endpoint>/v1/metrics carries the host metrics, the resource and the plugins' gauges", async () => {
  const receiver = await startOtlpHttpReceiver();
  try {
    const conf = `[otlp]\nendpoint = "${receiver.url}"\nprotocol = "http/protobuf"\n` +
      `[otlp.headers]\nx-tenant = "t1"\n` +
      `[plugin.metrics.echo]\ncommand = "echo 'echo.value 7 0'"\n` +
      `[collectors]\nagent = true\n`;
    await withDaemon(conf, async (s) => {
      const agent = spawnAgent(s.args);
      await waitFor(
        () =>
          receiver.accepted().filter((r) =>
              r.points.some((p) => p.metric === "system.cpu.utilization")
            )
              .length >= 1 &&
          has(receiver, "custom.echo.value") &&
          has(receiver, "custom.mackerel_agent.cpu.percentage") &&
          s.api.graphDefs().length > 0,
        "OTLP rounds with plugin and agent values",
      );
      assert.equal(await stopAgent(agent), 0, agent.stderr());
      const request = receiver.requests[0];
      assert.equal(request.headers["content-type"], "application/x-protobuf");
      assert.equal(request.headers["content-encoding"], "gzip");
      assert.equal(request.headers["x-tenant"], "t1");
      assert.equal(request.headers["mackerel-api-key"], undefined, "the key goes to Mackerel only");
      await assertHostMetrics(s, receiver);
      const echo = pointsOf(receiver.accepted(), "custom.echo.value");
      assert.ok(echo.every((p) => p.type === "gauge" && p.value === 7));
      // The Mackerel API gets its usual rounds beside, and the agent's health with its graphs.
      const names = new Set(s.api.metrics().map((p) => p.name));
      assert.ok(names.has("loadavg1") && names.has("custom.echo.value"));
      for (const name of ["memory.rss", "spool.records", "spool_bytes.waiting", "dropped.full"]) {
        assert.ok(names.has(`custom.mackerel_agent.${name}`), name);
      }
      const defs = s.api.graphDefs() as { name: string }[];
      assert.ok(defs.some((d) => d.name === "custom.mackerel_agent.memory"));
      assert.ok(has(receiver, "custom.mackerel_agent.memory.rss"), "the agent's health over OTLP");
      assert.deepEqual(s.api.violations, []);
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("otlp e2e: gRPC to a MetricsService carries the same, with headers as metadata", async () => {
  const receiver = await startOtlpGrpcReceiver();
  try {
    const conf = `[otlp]\nendpoint = "${receiver.url}"\n[otlp.headers]\nMackerel-Api-Key = "k2"\n`;
    await withDaemon(conf, async (s) => {
      const agent = spawnAgent(s.args);
      await waitFor(
        () =>
          receiver.accepted().filter((r) => r.points.some((p) => p.metric === "system.cpu.time"))
            .length >= 2,
        "two OTLP rounds over gRPC",
      );
      assert.equal(await stopAgent(agent), 0, agent.stderr());
      assert.equal(receiver.requests[0].headers["mackerel-api-key"], "k2");
      // The messages are gzip-compressed (the flag of each frame); grpc-js takes them only with
      // the grpc-encoding it keeps to itself.
      await assertHostMetrics(s, receiver);
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("otlp e2e: a 503 outage, kill -9 and a restart deliver every export once", async () => {
  const receiver = await startOtlpHttpReceiver();
  try {
    const conf = `[otlp]\nendpoint = "${receiver.url}"\nprotocol = "http/protobuf"\n`;
    await withDaemon(conf, async (s) => {
      const outage = receiver.failWhile({ status: 503 });
      const first = spawnAgent(s.args);
      await waitFor(
        () => enqueued(first).size >= 4 && receiver.requests.length >= 2,
        "rounds kept during the outage",
      );
      first.kill("SIGKILL");
      await first.exited;
      const last = Math.max(...enqueued(first).keys());
      await waitFor(() => Date.now() >= (last + 1) * 1000, "the next second");

      const second = spawnAgent(s.args);
      await waitFor(() => enqueued(second).size >= 2, "the restarted agent's rounds");
      outage();
      const rounds = () => new Set([...enqueued(first).keys(), ...enqueued(second).keys()]);
      const received = () =>
        pointsOf(receiver.accepted(), "system.memory.usage")
          .filter((p) => p.attributes["system.memory.state"] === "used")
          .map((p) => Number(p.timeNs / 1_000_000_000n));
      await waitFor(
        () => [...rounds()].every((t) => received().includes(t)),
        "every kept round over OTLP",
        { timeoutMs: 30_000 },
      );
      assert.equal(await stopAgent(second), 0, second.stderr());
      const times = received();
      assert.equal(new Set(times).size, times.length, "no round twice");
      assert.deepEqual(new Set(times), rounds());
      assert.match(second.stderr(), /Posting what an earlier run left in the spool: .*OTLP export/);
    });
  } finally {
    await receiver.close();
  }
});
