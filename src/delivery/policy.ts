/**
 * The one delivery policy: how the outcome of a write to the API is classified, for metric posts,
 * check reports, metadata and graph definitions alike.
 *
 * - delivered: a 2xx answer with a JSON body;
 * - transient (kept and retried): no answer (network error, timeout), 408, 429 and 5xx - and a 2xx
 *   whose body is not JSON, since the data may or may not have been taken (a duplicate beats a loss);
 * - refused credentials (kept and retried, with an ERROR): 401 and 403 are about the request - a
 *   key being rotated, a proxy or API fault - not about the data, which waits until the key works;
 * - permanent (not retried blindly): any other 4xx. A 400, 413 or 422 refuses the payload, so a
 *   payload of many items is split to find the refused ones (./split.ts, ./refusal.ts); other 4xx
 *   (404 ...) refuse the request itself and drop it.
 *
 * A `Retry-After` on a transient answer is honoured, capped at ten agent minutes.
 *
 * OTLP exports (the `[otlp]` endpoint) follow the OTLP specification's rules within the same
 * classes: no answer, the gRPC codes UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED and
 * ABORTED, and the HTTP statuses 429, 502, 503 and 504 are transient (a `RetryInfo` or
 * `Retry-After` is honoured); a refused key (UNAUTHENTICATED, PERMISSION_DENIED, 401, 403) keeps
 * the data as for the API; any other code or status is permanent, never split (an export is one
 * round of one host).
 *
 * @module
 */
import { findApiError } from "../mackerel/errors.ts";

/** How a failed write is handled. */
export type Failure =
  | {
    readonly kind: "transient";
    readonly retryAfterMs?: number;
    /** The API refused the key (401, 403): kept, and said in an ERROR. */
    readonly credentials?: true;
  }
  | { readonly kind: "permanent"; readonly splittable: boolean };

/** A `Retry-After` is honoured up to this many agent minutes. */
export const MAX_RETRY_AFTER_MINUTES = 10;

/** Statuses that refuse the payload rather than the request: splitting finds the bad items. */
const PAYLOAD_REFUSED = new Set([400, 413, 422]);
/** 4xx statuses that are worth a retry. */
const TRANSIENT_CLIENT = new Set([408, 429]);
/** 4xx statuses that refuse the credentials, not the data. */
const CREDENTIALS = new Set([401, 403]);

/** How an OTLP export failed, as the transports in src/otlp/ report it. */
export type ExportFailure =
  /** No answer: refused, reset, timed out, aborted. */
  | { readonly protocol: "none" }
  | { readonly protocol: "grpc"; readonly code: number; readonly retryAfterMs?: number }
  | { readonly protocol: "http"; readonly status: number; readonly retryAfterMs?: number };

/** The gRPC status codes the OTLP specification retries. */
export const GRPC_RETRYABLE: ReadonlySet<number> = new Set([
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  14, // UNAVAILABLE
]);
/** gRPC's PERMISSION_DENIED and UNAUTHENTICATED: the key is refused, as a 403 or a 401. */
const GRPC_CREDENTIALS: ReadonlySet<number> = new Set([7, 16]);
/** HTTP statuses the OTLP specification retries. */
const HTTP_RETRYABLE: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** The {@linkcode ExportFailure} an error (or one in its `cause` chain) carries, if any. */
export function findExportFailure(error: unknown): ExportFailure | undefined {
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = e.cause) {
    if ("exportFailure" in e) return (e as { exportFailure: ExportFailure }).exportFailure;
    seen.add(e);
  }
  return undefined;
}

/** Classifies the error of a failed write; `minuteMs` scales the `Retry-After` cap. */
export function classifyFailure(error: unknown, minuteMs: number): Failure {
  const exported = findExportFailure(error);
  if (exported) return classifyExport(exported, minuteMs);
  const api = findApiError(error);
  if (!api) return { kind: "permanent", splittable: false }; // a bug in building the request
  const retryAfterMs = api.retryAfterMs === undefined
    ? undefined
    : Math.min(api.retryAfterMs, MAX_RETRY_AFTER_MINUTES * minuteMs);
  const transient = { kind: "transient", ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  switch (api.kind) {
    case "network":
    case "server":
      return transient as Failure;
    case "client":
      if (CREDENTIALS.has(api.status)) return { ...transient, credentials: true } as Failure;
      return TRANSIENT_CLIENT.has(api.status)
        ? transient as Failure
        : { kind: "permanent", splittable: PAYLOAD_REFUSED.has(api.status) };
    case "other":
      // An answer we could not read: retried. A request we could not build (status 0): not.
      return api.status === 0 ? { kind: "permanent", splittable: false } : transient as Failure;
  }
}

function classifyExport(failure: ExportFailure, minuteMs: number): Failure {
  if (failure.protocol === "none") return { kind: "transient" };
  const grpc = failure.protocol === "grpc";
  // As for the API: a refused key is about the request, and the data waits until it works.
  if (grpc ? GRPC_CREDENTIALS.has(failure.code) : CREDENTIALS.has(failure.status)) {
    return { kind: "transient", credentials: true };
  }
  const retryable = grpc ? GRPC_RETRYABLE.has(failure.code) : HTTP_RETRYABLE.has(failure.status);
  if (!retryable) return { kind: "permanent", splittable: false };
  return failure.retryAfterMs === undefined ? { kind: "transient" } : {
    kind: "transient",
    retryAfterMs: Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MINUTES * minuteMs),
  };
}

/**
 * Whether a failure at start (registration) is one a restart cannot heal: the API refused the key
 * or the host (a 4xx other than 408 and 429). The daemon then exits with EX_CONFIG, which neither
 * systemd nor `supervise` restarts (src/exit_codes.ts).
 */
export function refusedForGood(error: unknown): boolean {
  const api = findApiError(error);
  return api?.kind === "client" && !TRANSIENT_CLIENT.has(api.status);
}
