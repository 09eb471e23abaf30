import assert from "node:assert/strict";
import {
  createMackerelClient,
  goQueryEscape,
  type MackerelClient,
  type MackerelClientOptions,
  toCheckReportPayload,
} from "../../src/mackerel/client.ts";
import {
  ApiError,
  isClientError,
  isNetworkError,
  isServerError,
} from "../../src/mackerel/errors.ts";
import { encodeGoJson } from "../../src/mackerel/json.ts";
import { proxyForUrl } from "../../src/mackerel/http.ts";
import type { HostPayload } from "../../src/mackerel/types.ts";
import type { CheckReport } from "../../src/mackerel/api_types.ts";
import { fileURLToPath } from "node:url";
import { runAgent } from "../support/agent_process.ts";
import { clientFor } from "../support/api_client.ts";
import { type FakeMackerel, startFakeMackerel } from "../support/fake_mackerel.ts";

const CLIENT_PROXY = fileURLToPath(new URL("../fixtures/env/client_proxy.ts", import.meta.url));

const KEY = "test-api-key";
const META = {
  "agent-revision": "abc1234",
  "agent-version": "0.1.0",
  "agent-name": "mackerel-agent/0.1.0 (Revision abc1234)",
};
const PAYLOAD: HostPayload = {
  name: "web<01>&",
  displayName: "",
  meta: META,
  interfaces: [],
  roleFullnames: ["My-Service:app"],
  checks: [{ name: "ssh" }],
  customIdentifier: "i-0abc.ec2.amazonaws.com",
};
const PAYLOAD_JSON = '{"name":"web\\u003c01\\u003e\\u0026","meta":{"agent-revision":"abc1234",' +
  '"agent-version":"0.1.0","agent-name":"mackerel-agent/0.1.0 (Revision abc1234)"},' +
  '"interfaces":null,"roleFullnames":["My-Service:app"],"checks":[{"name":"ssh"}],' +
  '"customIdentifier":"i-0abc.ec2.amazonaws.com"}\n';

async function withFake(
  fn: (fake: FakeMackerel, client: MackerelClient) => Promise<void>,
  options: Partial<MackerelClientOptions> = {},
): Promise<void> {
  const fake = await startFakeMackerel({ apiKey: KEY });
  const client = clientFor(fake, options);
  try {
    await fn(fake, client);
  } finally {
    client.close();
    await fake.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ApiError, `not an ApiError: ${e}`);
    return e;
  }
  assert.fail("the call succeeded");
}

Deno.test("client: every request carries upstream's headers; GET has no Content-Type", async () => {
  await withFake(async (fake, client) => {
    fake.addHost({ id: "9rxGOHfVF8F", name: "mydb001" });
    await client.findHost("9rxGOHfVF8F");
    await client.updateHostStatus("9rxGOHfVF8F", "working");
    const [get, post] = fake.requests;
    for (const request of [get, post]) {
      assert.equal(request.headers["x-api-key"], KEY);
      assert.equal(request.headers["user-agent"], "mackerel-agent/0.1.0 (Revision abc1234)");
      assert.equal(request.headers["x-agent-version"], "0.1.0");
      assert.equal(request.headers["x-revision"], "abc1234");
      assert.equal(request.headers["connection"], undefined);
    }
    assert.equal(get.headers["content-type"], undefined);
    assert.equal(post.headers["content-type"], "application/json");
    assert.deepEqual(fake.violations, []);
  });
});

Deno.test("client: disableKeepAlive sends Connection: close", async () => {
  await withFake(async (fake, client) => {
    await client.postMetrics([]);
    assert.equal(fake.requests[0].headers["connection"], "close");
    assert.equal(fake.requests[0].rawBody, "[]\n");
  }, { disableKeepAlive: true });
});

Deno.test("client: the path and query of apibase are discarded", async () => {
  const fake = await startFakeMackerel({ apiKey: KEY });
  const client = clientFor(fake, { apibase: `${fake.url}/some/prefix/?x=1#frag` });
  try {
    fake.addHost({ id: "abc", name: "h" });
    await client.findHost("abc");
    assert.deepEqual([fake.requests[0].path, fake.requests[0].query], ["/api/v0/hosts/abc", ""]);
  } finally {
    client.close();
    await fake.close();
  }
});

Deno.test("client: findHost reads id, name, status, customIdentifier, memo and roles", async () => {
  await withFake(async (fake, client) => {
    fake.addHost({
      id: "9rxGOHfVF8F",
      name: "mydb001",
      status: "standby",
      memo: "memo",
      roles: { "My-Service": ["db-master"] },
      customIdentifier: "ci-1",
    });
    assert.deepEqual(await client.findHost("9rxGOHfVF8F"), {
      id: "9rxGOHfVF8F",
      name: "mydb001",
      status: "standby",
      customIdentifier: "ci-1",
      displayName: undefined,
      memo: "memo",
      roles: { "My-Service": ["db-master"] },
    });
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`), [
      "GET /api/v0/hosts/9rxGOHfVF8F",
    ]);
  });
});

Deno.test("client: findHost of an unknown id is a client error with the server's message", async () => {
  await withFake(async (_fake, client) => {
    const error = await rejection(client.findHost("nope"));
    assert.equal(error.message, "API request failed: Host Not Found. (GET /api/v0/hosts/nope)");
    assert.deepEqual([error.status, error.kind, error.method, error.path], [
      404,
      "client",
      "GET",
      "/api/v0/hosts/nope",
    ]);
    assert.equal(error.bodyExcerpt, '{"error":{"message":"Host Not Found."}}');
    assert.ok(isClientError(error) && !isServerError(error) && !isNetworkError(error));
  });
});

Deno.test("client: findHostByCustomIdentifier sends upstream's query and takes the first host", async () => {
  await withFake(async (fake, client) => {
    fake.addHost({ id: "h1", name: "one", customIdentifier: "i-0abc.ec2.amazonaws.com" });
    fake.addHost({ id: "h2", name: "two", customIdentifier: "a b&c/~", status: "poweroff" });
    assert.equal((await client.findHostByCustomIdentifier("i-0abc.ec2.amazonaws.com"))?.id, "h1");
    assert.equal((await client.findHostByCustomIdentifier("a b&c/~"))?.name, "two");
    assert.equal(await client.findHostByCustomIdentifier("missing"), undefined);
    assert.equal(await client.findHostByCustomIdentifier(""), undefined);
    const statuses = "status=working&status=standby&status=maintenance&status=poweroff";
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}?${r.query}`), [
      `GET /api/v0/hosts?customIdentifier=i-0abc.ec2.amazonaws.com&${statuses}`,
      `GET /api/v0/hosts?customIdentifier=a+b%26c%2F~&${statuses}`,
      `GET /api/v0/hosts?customIdentifier=missing&${statuses}`,
    ]);
  });
});

Deno.test("client: goQueryEscape escapes as Go's url.QueryEscape", () => {
  assert.equal(goQueryEscape("aZ09-_.~ !*'()é"), "aZ09-_.~+%21%2A%27%28%29%C3%A9");
});

Deno.test("client: createHost posts the payload in upstream's order as Go JSON and returns the id", async () => {
  await withFake(async (fake, client) => {
    const id = await client.createHost(PAYLOAD);
    assert.equal(id, "fake0000001");
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`), ["POST /api/v0/hosts"]);
    assert.equal(fake.requests[0].rawBody, PAYLOAD_JSON);
    assert.equal(fake.hosts.get(id)?.name, "web<01>&");
    assert.deepEqual(fake.violations, []);
  });
});

Deno.test("client: updateHost puts the payload; displayName kept when set", async () => {
  await withFake(async (fake, client) => {
    fake.addHost({ id: "abc", name: "old" });
    await client.updateHost("abc", { ...PAYLOAD, displayName: "Web", customIdentifier: "" });
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`), ["PUT /api/v0/hosts/abc"]);
    const expected = PAYLOAD_JSON
      .replace('"meta"', '"displayName":"Web","meta"')
      .replace(',"customIdentifier":"i-0abc.ec2.amazonaws.com"', "");
    assert.equal(fake.requests[0].rawBody, expected);
    assert.equal(fake.hosts.get("abc")?.name, "web<01>&");
  });
});

Deno.test("client: updateHostStatus and retireHost send their bodies", async () => {
  await withFake(async (fake, client) => {
    fake.addHost({ id: "abc", name: "h", customIdentifier: "ci" });
    await client.updateHostStatus("abc", "maintenance");
    await client.retireHost("abc");
    assert.deepEqual(
      fake.requests.map((r) => [r.method, r.path, r.rawBody]),
      [
        ["POST", "/api/v0/hosts/abc/status", '{"status":"maintenance"}\n'],
        ["POST", "/api/v0/hosts/abc/retire", "null\n"],
      ],
    );
    assert.deepEqual([fake.hosts.get("abc")?.status, fake.hosts.get("abc")?.retired], [
      "maintenance",
      true,
    ]);
    assert.equal(await client.findHostByCustomIdentifier("ci"), undefined);
  });
});

Deno.test("client: postMetrics sends every point, value 0 included", async () => {
  await withFake(async (fake, client) => {
    const points = [
      { hostId: "abc", name: "loadavg1", time: 1700000000, value: 0 },
      { hostId: "abc", name: "custom.x.y", time: 1700000060, value: 1.5e-7 },
    ];
    await client.postMetrics(points);
    assert.equal(
      fake.requests[0].rawBody,
      '[{"hostId":"abc","name":"loadavg1","time":1700000000,"value":0},' +
        '{"hostId":"abc","name":"custom.x.y","time":1700000060,"value":1.5e-7}]\n',
    );
    assert.deepEqual(fake.metrics(), points);
    assert.deepEqual(fake.violations, []);
  });
});

Deno.test("client: a NaN value fails as an `other` error without a request", async () => {
  await withFake(async (fake, client) => {
    const error = await rejection(
      client.postMetrics([{ hostId: "a", name: "n", time: 1, value: NaN }]),
    );
    assert.equal(
      error.message,
      "API request failed: json: unsupported value: NaN (POST /api/v0/tsdb)",
    );
    assert.deepEqual([error.kind, error.status, fake.requests.length], ["other", 0, 0]);
  });
});

Deno.test("client: createGraphDefs sends the definitions; an undefined displayName is omitted", async () => {
  await withFake(async (fake, client) => {
    await client.createGraphDefs([{
      name: "custom.dice",
      displayName: "My Dice",
      unit: "integer",
      metrics: [
        { name: "custom.dice.d6", displayName: "Die (d6)", isStacked: false },
        { name: "custom.dice.d20", isStacked: true },
      ],
    }, { name: "custom.two", unit: "float", metrics: [] }]);
    assert.equal(fake.requests[0].path, "/api/v0/graph-defs/create");
    assert.equal(
      fake.requests[0].rawBody,
      '[{"name":"custom.dice","displayName":"My Dice","unit":"integer","metrics":[' +
        '{"name":"custom.dice.d6","displayName":"Die (d6)","isStacked":false},' +
        '{"name":"custom.dice.d20","isStacked":true}]},' +
        '{"name":"custom.two","unit":"float","metrics":[]}]\n',
    );
    assert.deepEqual(fake.violations, []);
  });
});

const REPORT: CheckReport = {
  hostId: "9rxGOHfVF8F",
  name: "sabasaba",
  status: "OK",
  message: "mesmes",
  occurredAt: 0,
};

Deno.test("client: reportCheckMonitors sends upstream's body", async () => {
  await withFake(async (fake, client) => {
    await client.reportCheckMonitors([
      REPORT,
      { ...REPORT, status: "CRITICAL", notificationInterval: 5, maxCheckAttempts: 3 },
    ]);
    assert.equal(fake.requests[0].path, "/api/v0/monitoring/checks/report");
    assert.equal(
      fake.requests[0].rawBody,
      '{"reports":[{"source":{"type":"host","hostId":"9rxGOHfVF8F"},"name":"sabasaba",' +
        '"status":"OK","message":"mesmes","occurredAt":0},' +
        '{"source":{"type":"host","hostId":"9rxGOHfVF8F"},"name":"sabasaba",' +
        '"status":"CRITICAL","message":"mesmes","occurredAt":0,' +
        '"notificationInterval":10,"maxCheckAttempts":3}]}\n',
    );
    assert.equal(fake.checkReports().length, 2);
    assert.deepEqual(fake.violations, []);
  });
});

Deno.test("client: check reports follow the compatibility rules of notificationInterval and maxCheckAttempts", () => {
  const interval = (v: number | undefined) =>
    toCheckReportPayload({ ...REPORT, notificationInterval: v }).notificationInterval;
  const attempts = (v: number | undefined) =>
    toCheckReportPayload({ ...REPORT, maxCheckAttempts: v }).maxCheckAttempts;
  assert.deepEqual([0, 1, 9, 10, 11, -1, undefined].map(interval), [
    10,
    10,
    10,
    10,
    11,
    10,
    undefined,
  ]);
  assert.deepEqual([0, -1, undefined, 1, 5].map(attempts), [undefined, undefined, undefined, 1, 5]);
});

Deno.test("client: a check message is cut to 1024 code points", () => {
  const long = "🐟".repeat(1000) + "x".repeat(30);
  const cut = toCheckReportPayload({ ...REPORT, message: long }).message;
  assert.equal(cut, "🐟".repeat(1000) + "x".repeat(24));
  assert.equal(toCheckReportPayload({ ...REPORT, message: "OK\n" }).message, "OK\n");
});

Deno.test("client: putMetadata puts the value with Go's sorted map keys", async () => {
  await withFake(async (fake, client) => {
    fake.addHost({ id: "abc", name: "h" });
    await client.putMetadata("abc", "my-ns_1", {
      b: [1, { z: 1, a: "<&>" }],
      "10": true,
      "2": null,
    });
    assert.deepEqual([fake.requests[0].method, fake.requests[0].path], [
      "PUT",
      "/api/v0/hosts/abc/metadata/my-ns_1",
    ]);
    assert.equal(
      fake.requests[0].rawBody,
      '{"10":true,"2":null,"b":[1,{"a":"\\u003c\\u0026\\u003e","z":1}]}\n',
    );
    assert.deepEqual(fake.metadata.get("abc/my-ns_1"), {
      "10": true,
      "2": null,
      b: [1, { a: "<&>", z: 1 }],
    });
  });
});

Deno.test("client: 5xx is a server error with the server's message", async () => {
  await withFake(async (fake, client) => {
    fake.failNext(1, 503, "maintenance");
    const error = await rejection(client.postMetrics([]));
    assert.equal(error.message, "API request failed: maintenance (POST /api/v0/tsdb)");
    assert.deepEqual([error.status, error.kind], [503, "server"]);
    assert.ok(isServerError(error) && !isClientError(error) && !isNetworkError(error));
    await client.postMetrics([]);
  });
});

Deno.test("client: without an error message the status line is the reason; `error` may be a string", async () => {
  const answers = [
    new Response("<html>oops</html>", { status: 502, statusText: "Bad Gateway" }),
    new Response('{"error":"plain text"}', { status: 400, statusText: "Bad Request" }),
    new Response('{"error":{"message":""}}', { status: 500, statusText: "Internal Server Error" }),
    // A server that sends no reason phrase: the standard one stands in.
    new Response("", { status: 503 }),
  ];
  const client = createMackerelClient({
    apibase: "http://mackerel.invalid",
    apikey: KEY,
    version: "1",
    revision: "r",
    fetch: () => Promise.resolve(answers.shift()!),
  });
  const messages = [];
  for (let i = 0; i < 4; i++) messages.push((await rejection(client.retireHost("x"))).message);
  assert.deepEqual(messages, [
    "API request failed: 502 Bad Gateway (POST /api/v0/hosts/x/retire)",
    "API request failed: plain text (POST /api/v0/hosts/x/retire)",
    "API request failed: 500 Internal Server Error (POST /api/v0/hosts/x/retire)",
    "API request failed: 503 Service Unavailable (POST /api/v0/hosts/x/retire)",
  ]);
  client.close();
});

Deno.test("client: a 2xx answer whose body is not JSON is an error of kind other", async () => {
  const answers = [new Response("OK", { status: 200 }), new Response(null, { status: 204 })];
  const client = createMackerelClient({
    apibase: "http://mackerel.invalid",
    apikey: KEY,
    version: "1",
    revision: "r",
    fetch: () => Promise.resolve(answers.shift()!),
  });
  const first = await rejection(client.postMetrics([]));
  assert.equal(
    first.message,
    "API request failed: response body is not JSON (200 OK) (POST /api/v0/tsdb)",
  );
  assert.deepEqual([first.kind, first.status, first.bodyExcerpt], ["other", 200, "OK"]);
  const second = await rejection(client.postMetrics([]));
  assert.equal(
    second.message,
    "API request failed: empty response body (204 No Content) (POST /api/v0/tsdb)",
  );
  assert.deepEqual([second.kind, second.status], ["other", 204]);
  assert.ok(!isNetworkError(first) && !isClientError(first) && !isServerError(first));
  client.close();
});

Deno.test("client: an answer slower than the deadline is a network error", async () => {
  await withFake(async (fake, client) => {
    fake.setDelay(5_000);
    const error = await rejection(
      client.postMetrics([{ hostId: "a", name: "n", time: 60, value: 1 }]),
    );
    assert.equal(
      error.message,
      "API request failed: request timed out after 150 ms (POST /api/v0/tsdb)",
    );
    assert.deepEqual([error.kind, error.status], ["network", 0]);
    // The fake notices the client hung up and neither stores the data nor answers.
    await fake.idle();
    assert.deepEqual([fake.metrics(), fake.requests[0].status], [[], 0]);
  }, { timeoutMs: 150 });
});

Deno.test("client: a caller's abort signal ends the request as a network error", async () => {
  await withFake(async (fake, client) => {
    fake.setDelay(5_000);
    const controller = new AbortController();
    const pending = client.postMetrics([], controller.signal);
    setTimeout(() => controller.abort(), 20);
    const error = await rejection(pending);
    assert.equal(error.message, "API request failed: request aborted (POST /api/v0/tsdb)");
    assert.equal(error.kind, "network");
  });
});

Deno.test("client: a reset connection is a network error, and the next call goes through", async () => {
  await withFake(async (fake, client) => {
    fake.resetConnections(1);
    const error = await rejection(
      client.postMetrics([{ hostId: "a", name: "n", time: 1, value: 2 }]),
    );
    assert.deepEqual([error.kind, error.status, error.path], ["network", 0, "/api/v0/tsdb"]);
    assert.ok(isNetworkError(new Error("wrapped", { cause: error })));
    await client.postMetrics([{ hostId: "a", name: "n", time: 1, value: 2 }]);
    assert.deepEqual(fake.requests.map((r) => [r.path, r.status]), [
      ["/api/v0/tsdb", 0],
      ["/api/v0/tsdb", 200],
    ]);
    assert.equal(fake.metrics().length, 1);
  });
});

Deno.test("client: a refused connection is a network error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const client = createMackerelClient({
    apibase: `http://127.0.0.1:${port}`,
    apikey: KEY,
    version: "1",
    revision: "r",
  });
  try {
    const error = await rejection(client.findHost("x"));
    assert.deepEqual([error.kind, error.status], ["network", 0]);
    assert.match(
      error.message,
      /^API request failed: .*(refused|os error 111).* \(GET \/api\/v0\/hosts\/x\)$/,
    );
  } finally {
    client.close();
  }
});

Deno.test("client: the API key never appears in an error, even when the server echoes it", async () => {
  await withFake(async (fake, client) => {
    fake.failNext(1, 403, `the key ${KEY} is not allowed`);
    const error = await rejection(client.postMetrics([]));
    assert.equal(
      error.message,
      "API request failed: the key <redacted> is not allowed (POST /api/v0/tsdb)",
    );
    assert.equal(error.bodyExcerpt, '{"error":{"message":"the key <redacted> is not allowed"}}');
    assert.ok(!String(error.stack).includes(KEY));
    fake.setDelay(5_000);
    const timeout = await rejection(client.postMetrics([]));
    assert.ok(!`${timeout.message} ${timeout.bodyExcerpt}`.includes(KEY));
  }, { timeoutMs: 500 });
});

Deno.test("client: the body excerpt keeps at most 200 code points", async () => {
  await withFake(async (fake, client) => {
    fake.failNext(1, 500, "é".repeat(300));
    const error = await rejection(client.postMetrics([]));
    const prefix = '{"error":{"message":"';
    assert.equal(error.bodyExcerpt, prefix + "é".repeat(200 - prefix.length));
  });
});

Deno.test("errors: classification as upstream's IsNetworkError / IsClientError / IsServerError", () => {
  const api = (status: number) => new ApiError({ method: "GET", path: "/p", status, reason: "r" });
  const cases: [unknown, boolean, boolean, boolean][] = [
    [undefined, false, false, false],
    [new Error("plain"), false, false, false],
    ["text", false, false, false],
    [api(0), true, false, false],
    [new Error("outer", { cause: new Error("mid", { cause: api(0) }) }), true, false, false],
    [api(399), false, false, false],
    [api(400), false, true, false],
    [api(499), false, true, false],
    [new Error("wrapped", { cause: api(404) }), false, true, false],
    [api(500), false, false, true],
    [api(599), false, false, true],
    [api(600), false, false, false],
  ];
  for (const [error, network, client, server] of cases) {
    assert.deepEqual(
      [isNetworkError(error), isClientError(error), isServerError(error)],
      [network, client, server],
      String(error),
    );
  }
});

Deno.test("json: encodes as Go's encoding/json", () => {
  assert.equal(
    encodeGoJson("<a href='x'>&\u2028\u2029</a>"),
    "\"\\u003ca href='x'\\u003e\\u0026\\u2028\\u2029\\u003c/a\\u003e\"",
  );
  assert.equal(
    encodeGoJson({ a: undefined, b: [undefined, 1e21, 1e-7, -0, 0.1] }),
    '{"b":[null,1e+21,1e-7,-0,0.1]}',
  );
  assert.equal(encodeGoJson('\ud800x\n\t"\\'), '"\ufffdx\\n\\t\\"\\\\"');
  assert.equal(
    encodeGoJson({ b: 1, a: { d: 1, c: 2 }, "10": 0, "9": 0 }, { sortKeys: true }),
    '{"10":0,"9":0,"a":{"c":2,"d":1},"b":1}',
  );
  assert.equal(encodeGoJson(null), "null");
  assert.throws(() => encodeGoJson([Infinity]), new TypeError("json: unsupported value: Infinity"));
});

Deno.test("http: proxyForUrl follows Go's environment rules", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const proxy = (url: string, vars: Record<string, string>) =>
    proxyForUrl(new URL(url), { env: env(vars) })?.href;
  const both = { HTTP_PROXY: "http://p1:3128", HTTPS_PROXY: "p2:8080" };
  assert.equal(proxy("http://api.example.com/", both), "http://p1:3128/");
  assert.equal(proxy("https://api.example.com/", both), "http://p2:8080/");
  assert.equal(proxy("https://api.example.com/", { HTTP_PROXY: "http://p1:3128" }), undefined);
  assert.equal(proxy("http://a.example.com/", { http_proxy: "http://low:1" }), "http://low:1/");
  assert.equal(
    proxy("http://a.example.com/", { HTTP_PROXY: "http://up:1", http_proxy: "http://low:1" }),
    "http://up:1/",
  );
  for (
    const loopback of [
      "http://127.0.0.1:8080/",
      "http://127.8.0.1/",
      "http://localhost/",
      "http://[::1]:80/",
    ]
  ) {
    assert.equal(proxy(loopback, both), undefined, loopback);
  }
  const noProxy = (url: string, value: string) => proxy(url, { ...both, NO_PROXY: value });
  assert.equal(noProxy("http://api.example.com/", "example.com"), undefined);
  assert.equal(noProxy("http://example.com/", "example.com"), undefined);
  assert.equal(noProxy("http://example.com/", ".example.com"), "http://p1:3128/");
  assert.equal(noProxy("http://a.example.com/", "*.example.com"), undefined);
  assert.equal(noProxy("http://notexample.com/", "example.com"), "http://p1:3128/");
  assert.equal(noProxy("http://10.1.2.3/", "10.0.0.0/8"), undefined);
  assert.equal(noProxy("http://11.1.2.3/", "10.0.0.0/8, 11.1.2.4"), "http://p1:3128/");
  assert.equal(noProxy("http://11.1.2.4/", "10.0.0.0/8, 11.1.2.4"), undefined);
  assert.equal(noProxy("https://api.example.com/", "api.example.com:80"), "http://p2:8080/");
  assert.equal(noProxy("http://api.example.com/", "api.example.com:80"), undefined);
  assert.equal(noProxy("http://anything/", "*"), undefined);
  assert.equal(
    proxyForUrl(new URL("http://a.example/"), { httpProxy: "http://opt:1", env: env({}) })?.href,
    "http://opt:1/",
  );
  assert.equal(
    proxy("http://a.example/", { HTTP_PROXY: "http://p:1", REQUEST_METHOD: "GET" }),
    undefined,
  );
});

/** A forward proxy on loopback: records absolute-URI requests and sends them to `target`. */
function startProxy(target: () => string) {
  const seen: string[] = [];
  const client = Deno.createHttpClient({});
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push(`${req.method} ${req.url}`);
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("host");
    const answer = await fetch(`${target()}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" ? undefined : await req.text(),
      client,
    });
    return new Response(await answer.text(), { status: answer.status });
  });
  const close = async () => {
    await server.shutdown();
    client.close();
  };
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close };
}

Deno.test("client: httpProxy carries requests for an http apibase; loopback goes direct", async () => {
  const fake = await startFakeMackerel({ apiKey: KEY });
  const proxy = startProxy(() => fake.url);
  const viaProxy = clientFor(fake, { apibase: "http://mackerel.test/", httpProxy: proxy.url });
  const direct = clientFor(fake, { httpProxy: proxy.url });
  try {
    fake.addHost({ id: "abc", name: "h" });
    assert.equal((await viaProxy.findHost("abc")).name, "h");
    assert.deepEqual(proxy.seen, ["GET http://mackerel.test/api/v0/hosts/abc?"]);
    assert.equal((await direct.findHost("abc")).name, "h");
    assert.equal(proxy.seen.length, 1);
    assert.equal(fake.requests.length, 2);
    assert.deepEqual(fake.violations, []);
  } finally {
    viaProxy.close();
    direct.close();
    await proxy.close();
    await fake.close();
  }
});

Deno.test("client: HTTP_PROXY from the environment is used, but never for loopback", async () => {
  const fake = await startFakeMackerel({ apiKey: KEY });
  const proxy = startProxy(() => fake.url);
  try {
    // In a child of its own: a variable set here would reach the clients and children of every
    // test file running beside this one.
    const out = await runAgent([fake.url, KEY], {
      entry: CLIENT_PROXY,
      env: { HTTP_PROXY: proxy.url },
      timeoutMs: 20_000,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { noProxy: null });
    assert.deepEqual(proxy.seen, ["POST http://mackerel.test/api/v0/tsdb?"]);
    assert.equal(fake.requests.length, 2);
  } finally {
    await proxy.close();
    await fake.close();
  }
});
