/**
 * The shape every cloud provider module (EC2, GCE, Azure) implements, as upstream's `CloudMetaGenerator`.
 *
 * @module
 */
import type { CloudSpec } from "../../../mackerel/types.ts";
import type { MetadataHttp } from "./http.ts";

/** One cloud platform's metadata reader, bound to one detection run. */
export interface CloudProvider {
  /** Whether this host answers as this platform (no pre-check; the caller does that). */
  probe(signal?: AbortSignal): Promise<boolean>;
  /** The `meta.cloud` part, or `undefined` when the platform turned out unreachable. */
  generate(signal?: AbortSignal): Promise<CloudSpec | undefined>;
  /** The host's `customIdentifier`; rejects with the reason when there is none. */
  suggestCustomIdentifier(signal?: AbortSignal): Promise<string>;
}

/** What a provider factory needs. */
export interface ProviderOptions {
  /** Base URL of the metadata service, without a trailing slash. */
  readonly baseUrl: string;
  /** Proxy-free HTTP with the per-request deadline. */
  readonly http: MetadataHttp;
  /** Pause between retries; upstream waits 2 s. */
  readonly retryDelayMs: number;
}
