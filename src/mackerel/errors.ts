/**
 * The error of a failed Mackerel API call and its classes (docs/upstream.md,
 * "Results and error classes").
 *
 * The retry rules (docs/upstream.md, "Retry rules") branch on the class: *network* (no HTTP answer:
 * refused, reset, timed out, aborted), *client* (4xx), *server* (5xx) and *other* (an undecodable
 * 2xx body, an unfollowed 3xx, a body that cannot be encoded).
 *
 * @module
 */

/** The class of an {@linkcode ApiError}. */
export type ApiErrorKind = "network" | "client" | "server" | "other";

/** What {@linkcode ApiError} is built from. */
export interface ApiErrorInit {
  readonly method: string;
  /** The endpoint path, without query (`/api/v0/tsdb`). */
  readonly path: string;
  /** The HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** The reason: the server's `error.message`, the status line, or the transport error. */
  readonly reason: string;
  /** The response body, if any; the error keeps at most 200 code points of it. */
  readonly body?: string;
  /** Forced class; otherwise derived from `status` (0 -> network). */
  readonly kind?: ApiErrorKind;
  readonly cause?: unknown;
  /** Secrets (the API key) to blank out of the message and the body excerpt. */
  readonly redact?: readonly string[];
  /** The answer's `Retry-After` header, as sent. */
  readonly retryAfter?: string | null;
  /** When the answer arrived, for a `Retry-After` date; now by default. */
  readonly nowMs?: number;
}

const EXCERPT_LENGTH = 200;
const REDACTED = "<redacted>";

/** A failed API request; the message reads `API request failed: <reason> (<METHOD> <path>)`. */
export class ApiError extends Error {
  /** The HTTP method. */
  readonly method: string;
  /** The endpoint path, without query. */
  readonly path: string;
  /** The HTTP status, 0 for transport errors. */
  readonly status: number;
  /** At most 200 code points of the response body, secrets removed. */
  readonly bodyExcerpt: string;
  /** The class the retry rules use. */
  readonly kind: ApiErrorKind;
  /** How long the server asked the client to wait (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;

  constructor(init: ApiErrorInit) {
    const redact = (text: string) => redactSecrets(text, init.redact ?? []);
    super(`API request failed: ${redact(init.reason)} (${init.method} ${init.path})`, {
      cause: init.cause,
    });
    this.name = "ApiError";
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.bodyExcerpt = Array.from(redact(init.body ?? "")).slice(0, EXCERPT_LENGTH).join("");
    this.kind = init.kind ?? kindOfStatus(init.status);
    const retryAfterMs = parseRetryAfter(init.retryAfter, init.nowMs ?? Date.now());
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** `Retry-After` in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The class of an HTTP status: 0 -> network, 4xx -> client, 5xx -> server, anything else -> other. */
export function kindOfStatus(status: number): ApiErrorKind {
  if (status === 0) return "network";
  if (status >= 400 && status <= 499) return "client";
  if (status >= 500 && status <= 599) return "server";
  return "other";
}

/** Replaces every occurrence of each non-empty secret with `<redacted>`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  // A secret of a few characters is no key (Mackerel's are 44): hiding every "a" in a message
  // would garble it and protect nothing.
  return secrets.reduce(
    (out, secret) => secret.length >= MIN_SECRET_LENGTH ? out.replaceAll(secret, REDACTED) : out,
    text,
  );
}

/** Secrets shorter than this are not redacted. */
const MIN_SECRET_LENGTH = 6;

/** Finds an {@linkcode ApiError} in an error or its `cause` chain (Go's `errors.As`). */
export function findApiError(error: unknown): ApiError | undefined {
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = e.cause) {
    if (e instanceof ApiError) return e;
    seen.add(e);
  }
  return undefined;
}

/** True when the request got no HTTP answer (refused, reset, timed out, aborted), even if wrapped. */
export function isNetworkError(error: unknown): boolean {
  return findApiError(error)?.kind === "network";
}

/** True for an API answer with a 4xx status, even if wrapped. */
export function isClientError(error: unknown): boolean {
  return findApiError(error)?.kind === "client";
}

/** True for an API answer with a 5xx status, even if wrapped. */
export function isServerError(error: unknown): boolean {
  return findApiError(error)?.kind === "server";
}
