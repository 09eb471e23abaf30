/**
 * A fake Mackerel API on 127.0.0.1 for tests: records every request, checks headers and body shapes
 * against upstream's (docs/upstream.md, "Mackerel API"), keeps hosts, points, graph defs, check
 * reports and metadata, and can be scripted to fail (status codes, slowness, connection resets).
 *
 * Clients connect to a small TCP relay in front of a `Deno.serve` backend: `Deno.serve` cannot drop
 * a connection without answering, the relay can. Every response carries `Connection: close`, so
 * each request arrives on a connection of its own and the relay can decide per request.
 *
 * @module
 */
import type { MetricPoint } from "../../src/mackerel/types.ts";

/** One request as the fake saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The raw query, without `?`. */
  readonly query: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly rawBody: string;
  /** The parsed JSON body; undefined when there is none or it does not parse. */
  readonly body: unknown;
  /** `Date.now()` on arrival. */
  readonly time: number;
  /** The status answered; 0 when the connection was dropped (reset, or the client went away). */
  readonly status: number;
}

/** A host the fake knows. */
export interface FakeHost {
  readonly id: string;
  name: string;
  status: string;
  customIdentifier: string;
  retired: boolean;
  memo: string;
  roles: Record<string, string[]>;
  /** The last body of `POST /api/v0/hosts` or `PUT /api/v0/hosts/<id>`. */
  payload?: unknown;
}

/** Options of {@linkcode startFakeMackerel}. */
export interface FakeMackerelOptions {
  /** The key clients must send; default `test-api-key`. */
  readonly apiKey?: string;
  /** Hosts that exist from the start. */
  readonly hosts?: readonly (Partial<FakeHost> & { readonly id: string })[];
}

/** A rule of {@linkcode FakeMackerel.failWhile}: a predicate, or a `Date.now()` window [from, until). */
export type FailCondition =
  | ((request: RecordedRequest) => boolean)
  | { readonly from: number; readonly until: number };

/** A running fake API. */
export interface FakeMackerel {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly apiKey: string;
  readonly requests: readonly RecordedRequest[];
  /** Protocol violations seen (bad headers, body shapes); tests assert it is empty. */
  readonly violations: readonly string[];
  readonly hosts: ReadonlyMap<string, FakeHost>;
  /** Metadata by `<hostId>/<namespace>`. */
  readonly metadata: ReadonlyMap<string, unknown>;
  /** Every point of every accepted `POST /api/v0/tsdb`, in arrival order. */
  metrics(): MetricPoint[];
  /** Every accepted graph definition. */
  graphDefs(): unknown[];
  /** Every accepted check report (the elements of `reports`). */
  checkReports(): unknown[];
  /** Registers a host as if it existed on Mackerel. */
  addHost(host: Partial<FakeHost> & { readonly id: string }): FakeHost;
  /** Answers the next `n` requests with `status` and `{"error":{"message":…}}`. */
  failNext(n: number, status?: number, message?: string): void;
  /** Answers `status` to requests matching the condition until the returned function is called. */
  failWhile(condition: FailCondition, status?: number): () => void;
  /** Answers requests matching `condition` with `respond`'s response until the returned function is called. */
  answerWith(
    condition: (request: RecordedRequest) => boolean,
    respond: (request: RecordedRequest) => Response,
  ): () => void;
  /** Delays every answer by `ms` (0 to stop). */
  setDelay(ms: number): void;
  /** Drops the next `n` connections after reading their request, without answering. */
  resetConnections(n: number): void;
  /** Resolves once no request is being handled (delayed ones included). */
  idle(): Promise<void>;
  /** Stops the server and waits for every connection to end. */
  close(): Promise<void>;
}

const STATUSES = ["working", "standby", "maintenance", "poweroff"];
const CHECK_STATUSES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
const USER_AGENT = /^mackerel-agent\/([^\s()]+) \(Revision ([^\s()]+)\)$/;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Starts a fake API on an ephemeral loopback port. */
export function startFakeMackerel(options: FakeMackerelOptions = {}): Promise<FakeMackerel> {
  const apiKey = options.apiKey ?? "test-api-key";
  const requests: Mutable<RecordedRequest>[] = [];
  const violations: string[] = [];
  const hosts = new Map<string, FakeHost>();
  const metadata = new Map<string, unknown>();
  const points: MetricPoint[] = [];
  const graphDefs: unknown[] = [];
  const checkReports: unknown[] = [];
  const rules: { condition: FailCondition; status: number }[] = [];
  const answers: {
    condition: (request: RecordedRequest) => boolean;
    respond: (request: RecordedRequest) => Response;
  }[] = [];
  const closing = new AbortController();
  let failures: { count: number; status: number; message?: string } = { count: 0, status: 500 };
  let delayMs = 0;
  let resets = 0;
  let nextId = 1;

  const addHost = (init: Partial<FakeHost> & { readonly id: string }): FakeHost => {
    const host: FakeHost = {
      name: "",
      status: "working",
      customIdentifier: "",
      retired: false,
      memo: "",
      roles: {},
      ...init,
    };
    hosts.set(host.id, host);
    return host;
  };
  for (const host of options.hosts ?? []) addHost(host);

  const json = (status: number, value: unknown) =>
    new Response(JSON.stringify(value), {
      status,
      headers: { "content-type": "application/json", connection: "close" },
    });
  const error = (status: number, message: string) => json(status, { error: { message } });
  const hostView = (h: FakeHost) => ({
    id: h.id,
    name: h.name,
    status: h.status,
    memo: h.memo,
    roles: h.roles,
    isRetired: h.retired,
    ...(h.customIdentifier ? { customIdentifier: h.customIdentifier } : {}),
  });

  function route(req: RecordedRequest): Response {
    const { method, path, body } = req;
    const m = path.match(/^\/api\/v0\/hosts\/([^/]+)(?:\/(status|retire)|\/metadata\/([^/]+))?$/);
    const host = m ? hosts.get(m[1]) : undefined;
    if (m && !host) return error(404, "Host Not Found.");
    const ok = json(200, { success: true });
    if (host && m?.[3] !== undefined && method === "PUT") {
      if (!/^[-a-zA-Z0-9_]+$/.test(m[3])) return error(400, "invalid namespace");
      metadata.set(`${host.id}/${m[3]}`, body);
      return ok;
    }
    if (host && m?.[2] === "status" && method === "POST") {
      host.status = String((body as { status?: unknown })?.status);
      return ok;
    }
    if (host && m?.[2] === "retire" && method === "POST") {
      host.retired = true;
      return ok;
    }
    if (host && !m?.[2] && m?.[3] === undefined && method === "GET") {
      return json(200, { host: hostView(host) });
    }
    if (host && !m?.[2] && m?.[3] === undefined && method === "PUT") {
      applyPayload(host, body);
      return json(200, { id: host.id });
    }
    if (path === "/api/v0/hosts" && method === "POST") {
      const created = addHost({ id: `fake${String(nextId++).padStart(7, "0")}` });
      applyPayload(created, body);
      return json(200, { id: created.id });
    }
    if (path === "/api/v0/hosts" && method === "GET") {
      const params = new URLSearchParams(req.query);
      const ci = params.get("customIdentifier");
      const statuses = params.getAll("status");
      const found = [...hosts.values()].filter((h) =>
        !h.retired && (ci === null || h.customIdentifier === ci) &&
        (statuses.length === 0 || statuses.includes(h.status))
      );
      return json(200, { hosts: found.map(hostView) });
    }
    if (path === "/api/v0/tsdb" && method === "POST") {
      points.push(...(body as MetricPoint[]));
      return ok;
    }
    if (path === "/api/v0/graph-defs/create" && method === "POST") {
      graphDefs.push(...(body as unknown[]));
      return ok;
    }
    if (path === "/api/v0/monitoring/checks/report" && method === "POST") {
      checkReports.push(...(body as { reports: unknown[] }).reports);
      return ok;
    }
    violations.push(`${method} ${path}: unknown endpoint`);
    return error(404, "Not Found");
  }

  function failureFor(req: RecordedRequest): Response | undefined {
    const answer = answers.find((a) => a.condition(req));
    if (answer) return answer.respond(req);
    if (failures.count > 0) {
      failures.count--;
      return error(failures.status, failures.message ?? `fake failure ${failures.status}`);
    }
    const now = Date.now();
    const rule = rules.find(({ condition: c }) =>
      typeof c === "function" ? c(req) : now >= c.from && now < c.until
    );
    return rule && error(rule.status, `fake failure ${rule.status}`);
  }

  async function handle(request: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
    const url = new URL(request.url);
    const rawBody = await request.text();
    const record: Mutable<RecordedRequest> = {
      method: request.method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      headers: Object.fromEntries(request.headers),
      rawBody,
      body: parseJson(rawBody),
      time: Date.now(),
      status: 0,
    };
    requests.push(record);
    const problems = validate(record, apiKey);
    violations.push(...problems.map((p) => `${record.method} ${record.path}: ${p}`));
    if (delayMs > 0) {
      // Not request.signal: reading it makes Deno warn about its legacy abort behaviour.
      const gone = clientGone.get((info.remoteAddr as Deno.NetAddr).port)?.signal;
      await sleep(delayMs, gone ? [closing.signal, gone] : [closing.signal]);
      if (gone?.aborted || closing.signal.aborted) return error(503, "client went away");
    }
    const response = record.headers["x-api-key"] !== apiKey
      ? error(403, "Authentication failed.")
      : failureFor(record) ??
        (problems.length > 0 ? error(400, problems.join("; ")) : route(record));
    record.status = response.status;
    return response;
  }

  const inflight = new Set<Promise<Response>>();
  const backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => {
    const handling = handle(req, info);
    const done = () => inflight.delete(handling);
    inflight.add(handling);
    handling.then(done, done);
    return handling;
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const relays = new Set<Promise<void>>();
  /** By the relay's local port as the backend sees it: aborted when the client hangs up. */
  const clientGone = new Map<number, AbortController>();

  async function relay(conn: Deno.Conn): Promise<void> {
    conns.add(conn);
    let upstream: Deno.Conn | undefined;
    try {
      if (resets > 0) {
        resets--;
        const buffer = new Uint8Array(65536);
        const n = await conn.read(buffer);
        requests.push(parseHead(new TextDecoder().decode(buffer.subarray(0, n ?? 0))));
        return;
      }
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: backend.addr.port });
      conns.add(upstream);
      const port = (upstream.localAddr as Deno.NetAddr).port;
      const gone = new AbortController();
      clientGone.set(port, gone);
      await Promise.allSettled([
        conn.readable.pipeTo(upstream.writable).finally(() => gone.abort()),
        upstream.readable.pipeTo(conn.writable),
      ]);
    } catch {
      // a peer went away: nothing to relay any more
    } finally {
      if (upstream) clientGone.delete((upstream.localAddr as Deno.NetAddr).port);
      for (const c of [conn, upstream]) {
        if (!c) continue;
        conns.delete(c);
        try {
          c.close();
        } catch {
          // already closed by the pipe
        }
      }
    }
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const done = relay(conn).finally(() => relays.delete(done));
        relays.add(done);
      }
    } catch {
      // the listener was closed
    }
  })();

  return Promise.resolve({
    url: `http://127.0.0.1:${listener.addr.port}`,
    apiKey,
    requests,
    violations,
    hosts,
    metadata,
    metrics: () => [...points],
    graphDefs: () => [...graphDefs],
    checkReports: () => [...checkReports],
    addHost,
    failNext(n, status = 500, message) {
      failures = { count: n, status, message };
    },
    failWhile(condition, status = 503) {
      const rule = { condition, status };
      rules.push(rule);
      return () => {
        const i = rules.indexOf(rule);
        if (i >= 0) rules.splice(i, 1);
      };
    },
    answerWith(condition, respond) {
      const answer = { condition, respond };
      answers.push(answer);
      return () => {
        const i = answers.indexOf(answer);
        if (i >= 0) answers.splice(i, 1);
      };
    },
    setDelay(ms) {
      delayMs = ms;
    },
    resetConnections(n) {
      resets = n;
    },
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async close() {
      closing.abort();
      listener.close();
      await accepting;
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await Promise.allSettled([...relays]);
      await backend.shutdown();
    },
  });
}

function applyPayload(host: FakeHost, payload: unknown): void {
  const p = payload as { name?: string; customIdentifier?: string };
  host.payload = payload;
  host.name = p.name ?? host.name;
  if (p.customIdentifier) host.customIdentifier = p.customIdentifier;
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The request line and headers of a request the relay drops. */
function parseHead(text: string): RecordedRequest {
  const [head, rawBody = ""] = text.split("\r\n\r\n", 2);
  const [line = "", ...fields] = head.split("\r\n");
  const [method = "", target = ""] = line.split(" ");
  const url = new URL(target, "http://fake");
  const headers = Object.fromEntries(fields.map((f) => {
    const i = f.indexOf(":");
    return [f.slice(0, i).trim().toLowerCase(), f.slice(i + 1).trim()];
  }));
  const query = url.search.replace(/^\?/, "");
  const body = parseJson(rawBody);
  return { method, path: url.pathname, query, headers, rawBody, body, time: Date.now(), status: 0 };
}

function sleep(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    // Listeners are removed at once: Deno warns when a request's signal with a listener aborts
    // after a successful response.
    for (const signal of signals) signal.addEventListener("abort", done);
    function done() {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const isInt = (v: unknown) => Number.isInteger(v);
const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");

/**
 * Checks a request against docs/upstream.md: "Transport" (headers, Go JSON + `\n` bodies) and the
 * body shapes of "Endpoints".
 */
function validate(req: RecordedRequest, apiKey: string): string[] {
  const problems: string[] = [];
  const h = req.headers;
  if (h["x-api-key"] !== apiKey) problems.push("X-Api-Key does not match the expected key");
  const ua = (h["user-agent"] ?? "").match(USER_AGENT);
  if (!ua) problems.push(`User-Agent ${JSON.stringify(h["user-agent"])} is not mackerel-agent's`);
  else if (h["x-agent-version"] !== ua[1] || h["x-revision"] !== ua[2]) {
    problems.push("X-Agent-Version/X-Revision do not match the User-Agent");
  }
  const hasBody = req.method !== "GET" || req.rawBody !== "";
  if (hasBody && h["content-type"] !== "application/json") {
    problems.push(`Content-Type is ${JSON.stringify(h["content-type"])}`);
  }
  if (!hasBody && h["content-type"] !== undefined) problems.push("Content-Type on a GET");
  if (!hasBody) return problems;
  if (!req.rawBody.endsWith("\n") || req.body === undefined) {
    return problems.concat("body is not JSON followed by a newline");
  }
  return problems.concat(shapeProblems(req.method, req.path, req.body));
}

function shapeProblems(method: string, path: string, body: unknown): string[] {
  if (path === "/api/v0/tsdb") {
    if (!Array.isArray(body)) return ["tsdb body is not an array"];
    return body.flatMap((p, i) =>
      isObject(p) && typeof p.hostId === "string" && typeof p.name === "string" &&
        isInt(p.time) && typeof p.value === "number" && Number.isFinite(p.value)
        ? []
        : [`tsdb point ${i} is malformed: ${JSON.stringify(p)}`]
    );
  }
  if (path === "/api/v0/hosts" || (method === "PUT" && /^\/api\/v0\/hosts\/[^/]+$/.test(path))) {
    const ok = isObject(body) && typeof body.name === "string" && body.name !== "" &&
      isObject(body.meta) && (body.interfaces === null || Array.isArray(body.interfaces)) &&
      isStrings(body.roleFullnames) && Array.isArray(body.checks) &&
      body.checks.every((c) => isObject(c) && typeof c.name === "string") &&
      body.displayName !== "" && body.customIdentifier !== "";
    return ok ? [] : ["host payload is malformed"];
  }
  if (path.endsWith("/status")) {
    return isObject(body) && STATUSES.includes(body.status as string)
      ? []
      : ["status body is malformed"];
  }
  if (path.endsWith("/retire")) return body === null ? [] : ["retire body is not null"];
  if (path === "/api/v0/graph-defs/create") {
    const ok = Array.isArray(body) &&
      body.every((d) =>
        isObject(d) && typeof d.name === "string" && Array.isArray(d.metrics) &&
        d.metrics.every((m) =>
          isObject(m) && typeof m.name === "string" && typeof m.isStacked === "boolean"
        )
      );
    return ok ? [] : ["graph defs are malformed"];
  }
  if (path === "/api/v0/monitoring/checks/report") {
    if (!isObject(body) || !Array.isArray(body.reports)) return ["check reports are malformed"];
    return body.reports.flatMap((r, i) =>
      isObject(r) && isObject(r.source) && r.source.type === "host" &&
        typeof r.source.hostId === "string" && typeof r.name === "string" &&
        CHECK_STATUSES.includes(r.status as string) && typeof r.message === "string" &&
        Array.from(r.message).length <= 1024 && isInt(r.occurredAt) &&
        (r.notificationInterval === undefined ||
          (isInt(r.notificationInterval) && (r.notificationInterval as number) >= 10)) &&
        (r.maxCheckAttempts === undefined ||
          (isInt(r.maxCheckAttempts) && (r.maxCheckAttempts as number) >= 1))
        ? []
        : [`check report ${i} is malformed: ${JSON.stringify(r)}`]
    );
  }
  return [];
}
