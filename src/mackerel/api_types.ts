/**
 * Shapes the API client reads or builds beyond the host payload (docs/upstream.md, "Endpoints",
 * "Graph definitions", "Check plugins").
 *
 * @module
 */

/** A host status the API accepts (`on_start`, `on_stop`, `POST /api/v0/hosts/<id>/status`). */
export type HostStatus = "working" | "standby" | "maintenance" | "poweroff";

/** The fields of a host the agent reads from `GET /api/v0/hosts/<id>` and the host list. */
export interface HostResponse {
  readonly id: string;
  readonly name: string;
  /** As the server says; `""` when absent. */
  readonly status: string;
  /** `""` when the host has none. */
  readonly customIdentifier: string;
  readonly displayName?: string;
  readonly memo?: string;
  readonly roles?: Readonly<Record<string, readonly string[]>>;
}

/** One metric of a graph definition, in serialized order. */
export interface GraphDefMetric {
  /** `custom.<graph>.<metric>`; `*` and `#` wildcards pass through. */
  readonly name: string;
  /** Omitted from the body when undefined. */
  readonly displayName?: string;
  readonly isStacked: boolean;
}

/** One graph definition of `POST /api/v0/graph-defs/create`, in serialized order. */
export interface GraphDef {
  /** `custom.<graph>`. */
  readonly name: string;
  /** Omitted from the body when undefined. */
  readonly displayName?: string;
  /** `float` when the plugin gave none (docs/upstream.md, "Graph definitions"). */
  readonly unit: string;
  readonly metrics: readonly GraphDefMetric[];
}

/** The status of a check monitor. */
export type CheckStatus = "OK" | "WARNING" | "CRITICAL" | "UNKNOWN";

/**
 * One check result as the checker produced it, before the API's compatibility rules
 * (docs/upstream.md, "Check plugins").
 */
export interface CheckReport {
  /** The host the report is about (the agent's own, or a custom identifier's). */
  readonly hostId: string;
  readonly name: string;
  readonly status: CheckStatus;
  /** Entire stdout; the client cuts it to 1024 code points. */
  readonly message: string;
  /** Unix seconds. */
  readonly occurredAt: number;
  /** Minutes as configured; undefined -> omitted, below 10 -> 10. */
  readonly notificationInterval?: number;
  /** As configured; undefined or <= 0 -> omitted. */
  readonly maxCheckAttempts?: number;
}

/** One element of `reports` in `POST /api/v0/monitoring/checks/report`, in serialized order. */
export interface CheckReportPayload {
  readonly source: { readonly type: "host"; readonly hostId: string };
  readonly name: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly occurredAt: number;
  readonly notificationInterval?: number;
  readonly maxCheckAttempts?: number;
}
