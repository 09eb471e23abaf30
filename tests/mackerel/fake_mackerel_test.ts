import assert from "node:assert/strict";
import { type FakeMackerel, startFakeMackerel } from "../support/fake_mackerel.ts";

const KEY = "fake-key";
const GOOD_HEADERS = {
  "X-Api-Key": KEY,
  "User-Agent": "mackerel-agent/1.2.3 (Revision abcdef0)",
  "X-Agent-Version": "1.2.3",
  "X-Revision": "abcdef0",
};
const HOST = {
  name: "web01",
  meta: { "agent-name": "mackerel-agent/1.2.3 (Revision abcdef0)" },
  interfaces: null,
  roleFullnames: ["Svc:app"],
  checks: [{ name: "ssh" }],
  customIdentifier: "ci-1",
};

/** Sends one request the way the agent does, unless `headers`/`raw` say otherwise. */
async function send(
  fake: FakeMackerel,
  method: string,
  path: string,
  body?: unknown,
  options: { headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; json: unknown }> {
  const hasBody = body !== undefined || options.raw !== undefined;
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: {
      ...GOOD_HEADERS,
      ...(hasBody || method !== "GET" ? { "Content-Type": "application/json" } : {}),
      ...options.headers,
    },
    body: options.raw ?? (body === undefined ? undefined : `${JSON.stringify(body)}\n`),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function withFake(fn: (fake: FakeMackerel) => Promise<void>): Promise<void> {
  const fake = await startFakeMackerel({ apiKey: KEY, hosts: [{ id: "seed", name: "seeded" }] });
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

Deno.test("fake_mackerel: serves the host lifecycle and records each request", async () => {
  await withFake(async (fake) => {
    const created = await send(fake, "POST", "/api/v0/hosts", HOST);
    assert.deepEqual(created, { status: 200, json: { id: "fake0000001" } });
    assert.deepEqual(await send(fake, "GET", "/api/v0/hosts/fake0000001"), {
      status: 200,
      json: {
        host: {
          id: "fake0000001",
          name: "web01",
          status: "working",
          memo: "",
          roles: {},
          isRetired: false,
          customIdentifier: "ci-1",
        },
      },
    });
    assert.equal(
      (await send(fake, "PUT", "/api/v0/hosts/fake0000001", { ...HOST, name: "web02" })).status,
      200,
    );
    assert.equal(
      (await send(fake, "POST", "/api/v0/hosts/fake0000001/status", { status: "standby" })).status,
      200,
    );
    assert.deepEqual(fake.hosts.get("fake0000001")?.name, "web02");
    assert.deepEqual(fake.hosts.get("fake0000001")?.status, "standby");
    assert.equal((await send(fake, "POST", "/api/v0/hosts/fake0000001/retire", null)).status, 200);
    assert.equal(fake.hosts.get("fake0000001")?.retired, true);
    const first = fake.requests[0];
    assert.deepEqual(
      [first.method, first.path, first.query, first.status, first.body],
      ["POST", "/api/v0/hosts", "", 200, HOST],
    );
    assert.equal(first.headers["x-api-key"], KEY);
    assert.equal(typeof first.time, "number");
    assert.deepEqual(fake.violations, []);
  });
});

Deno.test("fake_mackerel: the host list filters by custom identifier and status, without retired hosts", async () => {
  await withFake(async (fake) => {
    fake.addHost({ id: "a", name: "a", customIdentifier: "x", status: "poweroff" });
    fake.addHost({ id: "b", name: "b", customIdentifier: "x", retired: true });
    fake.addHost({ id: "c", name: "c", customIdentifier: "y" });
    const ids = async (query: string) =>
      ((await send(fake, "GET", `/api/v0/hosts?${query}`)).json as { hosts: { id: string }[] })
        .hosts.map((h) => h.id);
    assert.deepEqual(await ids("customIdentifier=x&status=working&status=poweroff"), ["a"]);
    assert.deepEqual(await ids("customIdentifier=x&status=working"), []);
    assert.deepEqual(await ids("customIdentifier=y"), ["c"]);
    assert.deepEqual(await ids(""), ["seed", "a", "c"]);
  });
});

Deno.test("fake_mackerel: unknown host ids answer 404", async () => {
  await withFake(async (fake) => {
    const statuses = [
      (await send(fake, "GET", "/api/v0/hosts/nope")).status,
      (await send(fake, "PUT", "/api/v0/hosts/nope", HOST)).status,
      (await send(fake, "POST", "/api/v0/hosts/nope/status", { status: "working" })).status,
      (await send(fake, "POST", "/api/v0/hosts/nope/retire", null)).status,
      (await send(fake, "PUT", "/api/v0/hosts/nope/metadata/ns", {})).status,
    ];
    assert.deepEqual(statuses, [404, 404, 404, 404, 404]);
    assert.deepEqual(fake.violations, []);
  });
});

Deno.test("fake_mackerel: keeps points, graph defs, check reports and metadata", async () => {
  await withFake(async (fake) => {
    const point = { hostId: "seed", name: "loadavg1", time: 1700000000, value: 0.5 };
    await send(fake, "POST", "/api/v0/tsdb", [point]);
    await send(fake, "POST", "/api/v0/graph-defs/create", [
      { name: "custom.g", unit: "float", metrics: [{ name: "custom.g.m", isStacked: false }] },
    ]);
    const report = {
      source: { type: "host", hostId: "seed" },
      name: "ssh",
      status: "OK",
      message: "fine",
      occurredAt: 1700000000,
    };
    await send(fake, "POST", "/api/v0/monitoring/checks/report", { reports: [report] });
    await send(fake, "PUT", "/api/v0/hosts/seed/metadata/my-ns", { k: [1] });
    assert.equal((await send(fake, "PUT", "/api/v0/hosts/seed/metadata/bad.ns", {})).status, 400);
    assert.deepEqual(fake.metrics(), [point]);
    assert.deepEqual(fake.graphDefs(), [
      { name: "custom.g", unit: "float", metrics: [{ name: "custom.g.m", isStacked: false }] },
    ]);
    assert.deepEqual(fake.checkReports(), [report]);
    assert.deepEqual([...fake.metadata], [["seed/my-ns", { k: [1] }]]);
    assert.deepEqual(fake.violations, []);
  });
});

Deno.test("fake_mackerel: records header and body violations", async () => {
  await withFake(async (fake) => {
    const bad = [
      await send(fake, "GET", "/api/v0/hosts/seed", undefined, {
        headers: { "X-Api-Key": "wrong" },
      }),
      await send(fake, "GET", "/api/v0/hosts/seed", undefined, {
        headers: { "User-Agent": "curl/8" },
      }),
      await send(fake, "POST", "/api/v0/tsdb", [], { headers: { "Content-Type": "text/plain" } }),
      await send(fake, "POST", "/api/v0/tsdb", undefined, { raw: "[]" }),
      await send(fake, "POST", "/api/v0/tsdb", [{ hostId: "h", name: "n", time: 1.5, value: 1 }]),
      await send(fake, "POST", "/api/v0/hosts", { ...HOST, checks: undefined }),
      await send(fake, "POST", "/api/v0/hosts/seed/retire", {}),
      await send(fake, "POST", "/api/v0/monitoring/checks/report", {
        reports: [{
          source: { type: "host", hostId: "h" },
          name: "c",
          status: "OK",
          message: "",
          occurredAt: 1,
          notificationInterval: 5,
        }],
      }),
      await send(fake, "POST", "/api/v0/nothing", []),
    ];
    assert.deepEqual(bad.map((r) => r.status), [403, 400, 400, 400, 400, 400, 400, 400, 404]);
    assert.deepEqual(fake.violations, [
      "GET /api/v0/hosts/seed: X-Api-Key does not match the expected key",
      'GET /api/v0/hosts/seed: User-Agent "curl/8" is not mackerel-agent\'s',
      'POST /api/v0/tsdb: Content-Type is "text/plain"',
      "POST /api/v0/tsdb: body is not JSON followed by a newline",
      'POST /api/v0/tsdb: tsdb point 0 is malformed: {"hostId":"h","name":"n","time":1.5,"value":1}',
      "POST /api/v0/hosts: host payload is malformed",
      "POST /api/v0/hosts/seed/retire: retire body is not null",
      "POST /api/v0/monitoring/checks/report: check report 0 is malformed: " +
      '{"source":{"type":"host","hostId":"h"},"name":"c","status":"OK","message":"",' +
      '"occurredAt":1,"notificationInterval":5}',
      "POST /api/v0/nothing: unknown endpoint",
    ]);
    assert.deepEqual(fake.metrics(), []);
  });
});

Deno.test("fake_mackerel: failNext fails the next n requests, then answers normally", async () => {
  await withFake(async (fake) => {
    fake.failNext(2, 503, "busy");
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await send(fake, "POST", "/api/v0/tsdb", []));
    assert.deepEqual(answers, [
      { status: 503, json: { error: { message: "busy" } } },
      { status: 503, json: { error: { message: "busy" } } },
      { status: 200, json: { success: true } },
    ]);
  });
});

Deno.test("fake_mackerel: failWhile fails matching requests until removed", async () => {
  await withFake(async (fake) => {
    let left = 3;
    const hasThree = (r: { body: unknown }) =>
      Array.isArray(r.body) && r.body.some((p) => p.value === 3) && left-- > 0;
    const stop = fake.failWhile(hasThree);
    const three = [{ hostId: "h", name: "n", time: 3, value: 3 }];
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await send(fake, "POST", "/api/v0/tsdb", three)).status);
    }
    assert.deepEqual(statuses, [503, 503, 503, 200]);
    stop();
    const window = fake.failWhile({ from: Date.now() - 1000, until: Date.now() + 60_000 }, 500);
    assert.equal((await send(fake, "GET", "/api/v0/hosts/seed")).status, 500);
    window();
    fake.failWhile({ from: 0, until: 1 }, 500);
    assert.equal((await send(fake, "GET", "/api/v0/hosts/seed")).status, 200);
    assert.deepEqual(fake.metrics(), three);
  });
});

Deno.test("fake_mackerel: resetConnections drops connections without an answer", async () => {
  await withFake(async (fake) => {
    fake.resetConnections(1);
    await assert.rejects(send(fake, "POST", "/api/v0/tsdb", []), TypeError);
    assert.equal((await send(fake, "POST", "/api/v0/tsdb", [])).status, 200);
    assert.deepEqual(
      fake.requests.map((r) => [r.method, r.path, r.status, r.headers["x-api-key"]]),
      [["POST", "/api/v0/tsdb", 0, KEY], ["POST", "/api/v0/tsdb", 200, KEY]],
    );
  });
});

Deno.test("fake_mackerel: setDelay slows answers; a client that hangs up is not served", async () => {
  await withFake(async (fake) => {
    fake.setDelay(30);
    assert.equal((await send(fake, "POST", "/api/v0/tsdb", [])).status, 200);
    fake.setDelay(10_000);
    const point = { hostId: "h", name: "n", time: 60, value: 1 };
    const controller = new AbortController();
    const pending = fetch(`${fake.url}/api/v0/tsdb`, {
      method: "POST",
      headers: { ...GOOD_HEADERS, "Content-Type": "application/json" },
      body: `${JSON.stringify([point])}\n`,
      signal: controller.signal,
    });
    while (fake.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await assert.rejects(pending);
    await fake.idle();
    assert.deepEqual([fake.requests[1].status, fake.metrics()], [0, []]);
  });
});
