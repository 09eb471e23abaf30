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

/** Classifies the error of a failed write; `minuteMs` scales the `Retry-After` cap. */
export function classifyFailure(error: unknown, minuteMs: number): Failure {
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

/**
 * Whether a failure at start (registration) is one a restart cannot heal: the API refused the key
 * or the host (a 4xx other than 408 and 429). The daemon then exits with EX_CONFIG, which neither
 * systemd nor `supervise` restarts (src/exit_codes.ts).
 */
export function refusedForGood(error: unknown): boolean {
  const api = findApiError(error);
  return api?.kind === "client" && !TRANSIENT_CLIENT.has(api.status);
}
