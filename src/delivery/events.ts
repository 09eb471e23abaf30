/**
 * What the outbox's senders tell an observer (the status file) about each write to the API.
 *
 * @module
 */
import type { RecordKind } from "./record.ts";

/** Outcomes of writes to the API, by kind of data; every method is optional to call. */
export interface DeliveryEvents {
  /** The API took `count` points, reports or values. */
  delivered(kind: RecordKind, count: number): void;
  /** A write failed and its data is kept for a retry. */
  failed(kind: RecordKind, error: unknown): void;
  /** The API refused `count` items for good; they are dropped. */
  refused(kind: RecordKind, count: number, error: unknown): void;
}

/** Events nobody listens to. */
export const NO_EVENTS: DeliveryEvents = Object.freeze({
  delivered: () => {},
  failed: () => {},
  refused: () => {},
});
