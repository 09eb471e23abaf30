/**
 * The error of a failed OTLP export: a one-line message for the log and the
 * {@linkcode ExportFailure} the delivery policy classifies (src/delivery/policy.ts).
 *
 * @module
 */
import type { ExportFailure } from "../delivery/policy.ts";

/** The names of gRPC's status codes, by number, for messages. */
export const GRPC_CODE_NAMES: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** A failed export: `OTLP export failed: <reason> (<endpoint>)`. */
export class ExportError extends Error {
  readonly exportFailure: ExportFailure;

  constructor(endpoint: string, reason: string, failure: ExportFailure, cause?: unknown) {
    super(`OTLP export failed: ${reason} (${endpoint})`, { cause });
    this.name = "ExportError";
    this.exportFailure = failure;
  }
}

/** `UNAVAILABLE (14)` for a gRPC status code. */
export function grpcCodeName(code: number): string {
  return `${GRPC_CODE_NAMES[code] ?? "code"} (${code})`;
}
