/**
 * The Mackerel API client: one typed method per endpoint the agent uses (docs/upstream.md,
 * "Mackerel API").
 *
 * Every call is one HTTP request under a deadline (30 s by default) and either resolves or throws
 * an {@linkcode ApiError}; retries belong to the callers (docs/upstream.md, "Retry rules"). Bodies
 * are Go JSON plus `\n`, and a call succeeds only on a 2xx answer whose body decodes as JSON
 * (docs/upstream.md, "Results and error classes"). The API key travels in
 * the `X-Api-Key` header only and is blanked out of every error.
 *
 * @module
 */
import type { HostPayload, MetricPoint } from "./types.ts";
import type {
  CheckReport,
  CheckReportPayload,
  GraphDef,
  HostResponse,
  HostStatus,
} from "./api_types.ts";
import { ApiError, type ApiErrorInit } from "./errors.ts";
import { encodeGoJson, encodeMetricPoints } from "./json.ts";
import { describeBadHostId, isHostId } from "./host_id.ts";
import { truncateRunes } from "../runes.ts";
import { createHttpTransport } from "./http.ts";
import { BodyTooLarge, readBoundedBody } from "../bounded_body.ts";
import { STATUS_TEXT } from "./status_text.ts";
import { deadline as startDeadline, DeadlineError } from "../async/abort.ts";

/** Options of {@linkcode createMackerelClient}. */
export interface MackerelClientOptions {
  /** `apibase` of the config; its path and query are discarded. */
  readonly apibase: string;
  readonly apikey: string;
  readonly version: string;
  readonly revision: string;
  /** Defaults to `mackerel-agent/<version> (Revision <revision>)`. */
  readonly userAgent?: string;
  /** Deadline of each request, response body included; default 30000. */
  readonly timeoutMs?: number;
  /** `disable_http_keep_alive`: `Connection: close` and no pooled connection. */
  readonly disableKeepAlive?: boolean;
  /** As `HTTP_PROXY`, which applies when this is unset; loopback is never proxied. */
  readonly httpProxy?: string;
  /** As `HTTPS_PROXY`, which applies when this is unset. */
  readonly httpsProxy?: string;
  /** Replaces the transport (proxy options are then ignored); for tests. */
  readonly fetch?: typeof fetch;
  /** Bytes of a response body read at most; a longer answer is an error. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

/** The API calls of the agent. Each takes an optional signal that aborts it (-> network error). */
export interface MackerelClient {
  /** The apibase as given. */
  readonly apibase: string;
  /** `GET /api/v0/hosts/<id>`. */
  findHost(id: string, signal?: AbortSignal): Promise<HostResponse>;
  /** The first working/standby/maintenance/poweroff host with this custom identifier; undefined when none (or `ci` is empty). */
  findHostByCustomIdentifier(ci: string, signal?: AbortSignal): Promise<HostResponse | undefined>;
  /** `POST /api/v0/hosts`; resolves to the new host id. */
  createHost(payload: HostPayload, signal?: AbortSignal): Promise<string>;
  /** `PUT /api/v0/hosts/<id>`. */
  updateHost(id: string, payload: HostPayload, signal?: AbortSignal): Promise<void>;
  /** `POST /api/v0/hosts/<id>/status`. */
  updateHostStatus(id: string, status: HostStatus, signal?: AbortSignal): Promise<void>;
  /** `POST /api/v0/hosts/<id>/retire` with the body `null`. */
  retireHost(id: string, signal?: AbortSignal): Promise<void>;
  /** `POST /api/v0/tsdb`. */
  postMetrics(points: readonly MetricPoint[], signal?: AbortSignal): Promise<void>;
  /** `POST /api/v0/tsdb` with a body already encoded (see `encodeMetricPoints`). */
  postMetricsJson(json: string, signal?: AbortSignal): Promise<void>;
  /** `POST /api/v0/graph-defs/create`. */
  createGraphDefs(defs: readonly GraphDef[], signal?: AbortSignal): Promise<void>;
  /**
   * `POST /api/v0/monitoring/checks/report`, applying upstream's compatibility rules
   * (docs/upstream.md, "Check plugins").
   */
  reportCheckMonitors(reports: readonly CheckReport[], signal?: AbortSignal): Promise<void>;
  /** `PUT /api/v0/hosts/<hostId>/metadata/<namespace>` with the value re-encoded as Go would. */
  putMetadata(
    hostId: string,
    namespace: string,
    value: unknown,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Releases the HTTP clients. */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** The API answers with a few hundred bytes; a megabyte is already a broken server or proxy. */
const DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;
const MESSAGE_LIMIT = 1024;
const NOTIFICATION_INTERVAL_FALLBACK = 10;
const HOST_STATUSES = ["working", "standby", "maintenance", "poweroff"];

type ErrorDetails = Omit<ApiErrorInit, "method" | "path" | "redact">;

interface Call {
  readonly method: "GET" | "POST" | "PUT";
  readonly path: string;
  readonly query?: string;
  /** Absent for GET; otherwise encoded as Go JSON, or already encoded. */
  readonly body?: { readonly value: unknown; readonly sortKeys?: boolean } | {
    readonly json: string;
  };
  readonly signal?: AbortSignal;
}

/** Where and how the client sends: the API's base URL, its headers, limits and transport. */
interface Connection {
  readonly base: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Secrets never shown in an error. */
  readonly redact: readonly string[];
  readonly send: (url: URL, init: RequestInit) => Promise<Response>;
}

function failureOf(
  connection: Connection,
  call: Pick<Call, "method" | "path">,
  init: ErrorDetails,
): ApiError {
  return new ApiError({ method: call.method, path: call.path, redact: connection.redact, ...init });
}

/** One API call: its JSON answer, or an {@linkcode ApiError} saying what went wrong. */
async function requestJson(connection: Connection, call: Call): Promise<unknown> {
  const { base, headers, send, timeoutMs, maxResponseBytes } = connection;
  const fail = (init: ErrorDetails) => failureOf(connection, call, init);
  let body: string | undefined;
  try {
    body = call.body &&
      `${
        "json" in call.body
          ? call.body.json
          : encodeGoJson(call.body.value, { sortKeys: call.body.sortKeys })
      }\n`;
  } catch (cause) {
    throw fail({ status: 0, kind: "other", reason: (cause as Error).message, cause });
  }
  // Rendered as Go does: the `?` stays even with an empty query.
  const url = new URL(`${base.protocol}//${base.host}${call.path}?${call.query ?? ""}`);
  // Called off once the answer is read: a timer left to run out wakes an idle agent for nothing.
  const limit = startDeadline(timeoutMs, call.signal);
  const { signal } = limit;
  let status = 0;
  let text: string;
  let statusLine = "";
  let retryAfter: string | null = null;
  try {
    const response = await send(url, {
      method: call.method,
      headers: body === undefined && call.method === "GET"
        ? headers
        : { ...headers, "Content-Type": "application/json" },
      body,
      signal,
      redirect: "follow",
    });
    status = response.status;
    // Go's resp.Status; a server may send no reason phrase, so fall back to the standard one.
    const reason = response.statusText || STATUS_TEXT[status] || "";
    statusLine = `${status} ${reason}`.trim();
    retryAfter = response.headers.get("retry-after");
    text = new TextDecoder().decode(await readBoundedBody(response, maxResponseBytes));
  } catch (cause) {
    if (cause instanceof BodyTooLarge) {
      throw fail({ status, kind: "other", reason: `${cause.message} (${statusLine})`, cause });
    }
    const reason = signal.reason instanceof DeadlineError
      ? `request timed out after ${timeoutMs} ms`
      : signal.aborted
      ? "request aborted"
      : transportReason(cause);
    throw fail({ status: 0, reason, cause });
  } finally {
    limit.dispose();
  }
  if (status < 200 || status > 299) {
    throw fail({ status, reason: serverMessage(text) || statusLine, body: text, retryAfter });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    const reason = text.trim() === "" ? "empty response body" : "response body is not JSON";
    throw fail({ status, kind: "other", reason: `${reason} (${statusLine})`, body: text, cause });
  }
}

/** Creates a client for one apibase and key. */
export function createMackerelClient(options: MackerelClientOptions): MackerelClient {
  const base = new URL(options.apibase);
  const userinfo = base.username
    ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`
    : undefined;
  base.username = base.password = "";
  const injected = options.fetch;
  const transport = injected ? undefined : createHttpTransport(options);
  const connection: Connection = {
    base,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    redact: [options.apikey],
    send: transport ? transport.fetch : (url: URL, init: RequestInit) => injected!(url, init),
    headers: {
      "X-Api-Key": options.apikey,
      "User-Agent": options.userAgent ??
        `mackerel-agent/${options.version} (Revision ${options.revision})`,
      "X-Agent-Version": options.version,
      "X-Revision": options.revision,
      // Go sends the URL's userinfo as basic auth; fetch refuses URLs that carry it.
      ...(userinfo ? { Authorization: `Basic ${btoa(userinfo)}` } : {}),
      ...(options.disableKeepAlive ? { Connection: "close" } : {}),
    },
  };
  const request = (call: Call) => requestJson(connection, call);
  const failure = (call: Pick<Call, "method" | "path">, init: ErrorDetails) =>
    failureOf(connection, call, init);
  const unexpected = (call: Pick<Call, "method" | "path">, what: string, body: unknown) =>
    failure(call, {
      status: 200,
      kind: "other",
      reason: `unexpected response: ${what}`,
      body: JSON.stringify(body) ?? "",
    });

  return {
    apibase: options.apibase,
    async findHost(id, signal) {
      const call = { method: "GET", path: `/api/v0/hosts/${id}`, signal } as const;
      const data = await request(call);
      const host = toHost(field(data, "host"));
      if (!host) throw unexpected(call, "no host", data);
      return host;
    },
    async findHostByCustomIdentifier(ci, signal) {
      if (ci === "") return undefined;
      const query = [`customIdentifier=${goQueryEscape(ci)}`]
        .concat(HOST_STATUSES.map((status) => `status=${status}`)).join("&");
      const call = { method: "GET", path: "/api/v0/hosts", query, signal } as const;
      const data = await request(call);
      const hosts = field(data, "hosts");
      if (!Array.isArray(hosts)) throw unexpected(call, "no host list", data);
      if (hosts.length === 0) return undefined;
      const host = toHost(hosts[0]);
      if (!host) throw unexpected(call, "malformed host", data);
      return host;
    },
    async createHost(payload, signal) {
      const call = { method: "POST", path: "/api/v0/hosts", signal } as const;
      const data = await request({ ...call, body: { value: orderHostPayload(payload) } });
      const id = field(data, "id");
      if (!isHostId(id)) throw unexpected(call, `not a host id: ${describeBadHostId(id)}`, data);
      return id;
    },
    async updateHost(id, payload, signal) {
      const body = { value: orderHostPayload(payload) };
      await request({ method: "PUT", path: `/api/v0/hosts/${id}`, body, signal });
    },
    async updateHostStatus(id, status, signal) {
      const body = { value: { status } };
      await request({ method: "POST", path: `/api/v0/hosts/${id}/status`, body, signal });
    },
    async retireHost(id, signal) {
      const body = { value: null };
      await request({ method: "POST", path: `/api/v0/hosts/${id}/retire`, body, signal });
    },
    async postMetrics(points, signal) {
      let json: string;
      try {
        json = encodeMetricPoints(points);
      } catch (cause) {
        const call = { method: "POST", path: "/api/v0/tsdb" } as const;
        throw failure(call, { status: 0, kind: "other", reason: (cause as Error).message, cause });
      }
      await this.postMetricsJson(json, signal);
    },
    async postMetricsJson(json, signal) {
      await request({ method: "POST", path: "/api/v0/tsdb", body: { json }, signal });
    },
    async createGraphDefs(defs, signal) {
      const value = defs.map((d) => ({
        name: d.name,
        displayName: d.displayName,
        unit: d.unit,
        metrics: d.metrics.map((m) => ({
          name: m.name,
          displayName: m.displayName,
          isStacked: m.isStacked,
        })),
      }));
      await request({ method: "POST", path: "/api/v0/graph-defs/create", body: { value }, signal });
    },
    async reportCheckMonitors(reports, signal) {
      const body = { value: { reports: reports.map(toCheckReportPayload) } };
      await request({ method: "POST", path: "/api/v0/monitoring/checks/report", body, signal });
    },
    async putMetadata(hostId, namespace, value, signal) {
      const path = `/api/v0/hosts/${hostId}/metadata/${namespace}`;
      // The plugin's JSON was decoded into a Go interface{}: maps are written with sorted keys.
      await request({ method: "PUT", path, body: { value, sortKeys: true }, signal });
    },
    close() {
      transport?.close();
    },
  };
}

/**
 * Applies docs/upstream.md, "Check plugins": message cut to 1024 code points,
 * notificationInterval >= 10, maxCheckAttempts > 0.
 */
export function toCheckReportPayload(report: CheckReport): CheckReportPayload {
  const interval = report.notificationInterval;
  const attempts = report.maxCheckAttempts;
  return {
    source: { type: "host", hostId: report.hostId },
    name: report.name,
    status: report.status,
    message: truncateRunes(report.message, MESSAGE_LIMIT),
    occurredAt: report.occurredAt,
    notificationInterval: interval === undefined
      ? undefined
      : Math.max(interval, NOTIFICATION_INTERVAL_FALLBACK),
    maxCheckAttempts: attempts === undefined || attempts <= 0 ? undefined : attempts,
  };
}

/** Escapes a query value as Go's `url.QueryEscape` (space -> `+`, only `A-Za-z0-9-_.~` kept). */
export function goQueryEscape(value: string): string {
  return Array.from(new TextEncoder().encode(value.toWellFormed()), (byte) => {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    return c === " " ? "+" : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
}

/**
 * The field order of docs/upstream.md, "Host payload"; `displayName` and `customIdentifier` are
 * omitted when empty (Go omitempty).
 */
function orderHostPayload(p: HostPayload): HostPayload {
  return {
    name: p.name,
    displayName: p.displayName || undefined,
    meta: p.meta,
    interfaces: p.interfaces && p.interfaces.length > 0 ? p.interfaces : null,
    roleFullnames: p.roleFullnames,
    checks: p.checks,
    customIdentifier: p.customIdentifier || undefined,
  };
}

function field(data: unknown, key: string): unknown {
  return data !== null && typeof data === "object"
    ? (data as Record<string, unknown>)[key]
    : undefined;
}

function toHost(raw: unknown): HostResponse | undefined {
  const id = field(raw, "id");
  if (!isHostId(id)) return undefined;
  const text = (key: string) => {
    const value = field(raw, key);
    return typeof value === "string" ? value : undefined;
  };
  const roles = field(raw, "roles");
  return {
    id,
    name: text("name") ?? "",
    status: text("status") ?? "",
    customIdentifier: text("customIdentifier") ?? "",
    displayName: text("displayName"),
    memo: text("memo"),
    roles: roles !== null && typeof roles === "object"
      ? roles as Record<string, readonly string[]>
      : undefined,
  };
}

/** The `error.message` (or string `error`) of an API error body, as mackerel-client-go reads it. */
function serverMessage(text: string): string {
  try {
    const error = field(JSON.parse(text), "error");
    if (typeof error === "string") return error;
    const message = field(error, "message");
    return typeof message === "string" ? message : "";
  } catch {
    return "";
  }
}

function transportReason(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause instanceof Error ? cause.cause.message : "";
  return inner ? `${cause.message}: ${inner}` : cause.message;
}
