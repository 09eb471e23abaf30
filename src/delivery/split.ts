/**
 * Finding the items an API refuses: a payload answered with 400 (or 413, 422) is split - first
 * into its records, then in halves - and each part sent on its own, until every item is delivered
 * or refused alone. One bad point then costs a few requests instead of the whole batch, and every
 * batch after it. What the refused items mean is ./refusal.ts's to say.
 *
 * @module
 */
import type { Failure } from "./policy.ts";

/** Options of {@linkcode deliverSplitting}. */
export interface SplitOptions<T> {
  /** Sends one part; rejects with the API's error. */
  readonly send: (part: readonly T[]) => Promise<void>;
  readonly classify: (error: unknown) => Failure;
  /** Requests allowed; parts not tried within it stay pending for a later attempt. */
  readonly budget: number;
  /**
   * Halve a refused part only once the API has taken some part of this payload: while a refusal of
   * everything is suspected, a split costs one request per record, not two per item.
   */
  readonly halveAfterDelivery?: boolean;
  /** Aborting leaves the parts not yet tried pending. */
  readonly signal?: AbortSignal;
}

/** What became of the items. */
export interface SplitResult<T> {
  readonly delivered: readonly T[];
  /** Items the API refused on their own (or with a status that refuses the whole request). */
  readonly refused: readonly T[];
  /** The first error of a refusal, for the log line. */
  readonly refusal?: unknown;
  /**
   * Items still to deliver: a transient failure stopped the search, the budget ran out, or they
   * were refused as a part not halved (`halveAfterDelivery` with nothing delivered).
   */
  readonly pending: readonly T[];
  /** The transient failure that stopped the search, if any. */
  readonly transient?: { readonly error: unknown; readonly failure: Failure };
  readonly requests: number;
}

/** Halves of a part (the first one larger when odd). */
export function halves<T>(items: readonly T[]): [readonly T[], readonly T[]] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}

/** Sends `parts` in order, splitting every part the API refuses as a payload. */
export async function deliverSplitting<T>(
  parts: readonly (readonly T[])[],
  options: SplitOptions<T>,
): Promise<SplitResult<T>> {
  if (!(options.budget >= 1)) {
    throw new RangeError(`budget must be at least 1, got ${options.budget}`);
  }
  const queue: (readonly T[])[] = parts.filter((p) => p.length > 0);
  const delivered: T[] = [];
  const refused: T[] = [];
  const pending: T[] = [];
  /** Refused parts waiting for proof that the API takes anything before they are halved. */
  let deferred: (readonly T[])[] = [];
  let requests = 0;
  let refusal: unknown;
  let transient: SplitResult<T>["transient"];
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (transient || requests >= options.budget || options.signal?.aborted) {
      pending.push(...part);
      continue;
    }
    requests++;
    try {
      await options.send(part);
      delivered.push(...part);
      queue.unshift(...deferred);
      deferred = [];
    } catch (error) {
      const failure = options.classify(error);
      if (failure.kind === "transient") {
        transient = { error, failure };
        pending.push(...part);
      } else if (failure.splittable && part.length > 1) {
        if (options.halveAfterDelivery && delivered.length === 0) deferred.push(part);
        else queue.unshift(...halves(part));
        refusal ??= error;
      } else {
        refusal ??= error;
        refused.push(...part);
      }
    }
  }
  for (const part of deferred) pending.push(...part);
  return {
    delivered,
    refused,
    ...(refusal === undefined ? {} : { refusal }),
    pending,
    ...(transient ? { transient } : {}),
    requests,
  };
}
