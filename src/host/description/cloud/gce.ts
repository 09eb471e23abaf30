/**
 * Google Compute Engine: one recursive metadata document, read with the 64-bit instance id intact
 * (docs/upstream.md, "GCE").
 *
 * @module
 */
import type { CloudSpec } from "../../../mackerel/types.ts";
import { logger } from "../../../log.ts";
import type { MetadataResponse } from "./http.ts";
import { realClock } from "../../../async/clock.ts";
import { retry } from "../../../async/retry.ts";
import type { CloudProvider, ProviderOptions } from "./provider.ts";

/** The real base URL of the GCE metadata server (the trailing dot skips DNS search domains). */
export const GCE_BASE_URL = "http://metadata.google.internal./computeMetadata/v1";

const HEADERS = { "Metadata-Flavor": "Google" } as const;
const UINT64_MAX = (1n << 64n) - 1n;

const log = logger("spec.cloud");

/** The reviver's third argument (TC39 "JSON.parse source text access"), not yet in every lib. */
interface ReviverContext {
  readonly source?: string;
}

type Json = string | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/**
 * Parses the recursive GCE metadata document into `meta.cloud.metadata`: `hostname`, `instance-id`,
 * `instance-type` and `zone` (last `/` segment) when `instance` is present, `projectId` when `project`
 * is. Throws on invalid JSON or an id that is not a uint64, as Go's decoder does.
 */
export function parseGceMetadata(text: string): Record<string, string> {
  // Every number is kept as its source text: `instance.id` is a uint64 that a double would round.
  const doc: Json = JSON.parse(
    text,
    function (_key: string, value: unknown, context?: ReviverContext) {
      return typeof value === "number" ? context?.source ?? String(value) : value;
    } as (key: string, value: unknown) => unknown,
  );
  const meta: Record<string, string> = {};
  const instance = field(doc, "instance");
  if (isObject(instance)) {
    meta["hostname"] = str(field(instance, "hostname"));
    meta["instance-id"] = uint64(field(instance, "id"));
    meta["instance-type"] = lastSegment(str(field(instance, "machineType")));
    meta["zone"] = lastSegment(str(field(instance, "zone")));
  }
  const project = field(doc, "project");
  if (isObject(project)) meta["projectId"] = str(field(project, "projectId"));
  return meta;
}

function isObject(value: Json | undefined): value is { readonly [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function field(value: Json | undefined, key: string): Json | undefined {
  // Go matches JSON keys to struct fields case-insensitively; the document uses camelCase.
  if (!isObject(value)) return undefined;
  if (key in value) return value[key];
  const found = Object.keys(value).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : value[found];
}

function str(value: Json | undefined): string {
  return typeof value === "string" ? value : "";
}

function uint64(value: Json | undefined): string {
  if (value === undefined || value === null) return "0";
  if (typeof value === "string" && /^(0|[1-9][0-9]*)$/.test(value) && BigInt(value) <= UINT64_MAX) {
    return BigInt(value).toString();
  }
  throw new Error(`instance.id is not a uint64: ${JSON.stringify(value)}`);
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Creates the GCE provider; the document is fetched at most once per successful probe or read. */
export function createGceProvider(options: ProviderOptions): CloudProvider {
  const { baseUrl, http, retryDelayMs } = options;
  const url = `${baseUrl}?recursive=true`;
  let document: string | undefined;

  const fetchDocument = async (signal?: AbortSignal): Promise<MetadataResponse> => {
    const response = await http.request(url, { headers: HEADERS, signal });
    if (response.status === 200) document = response.body;
    return response;
  };

  const readMetadata = async (signal?: AbortSignal): Promise<Record<string, string>> => {
    if (document === undefined) {
      const response = await fetchDocument(signal);
      if (response.status !== 200) {
        throw new Error(`failed to request gce meta. response code: ${response.status}`);
      }
    }
    return parseGceMetadata(document as string);
  };

  return {
    async probe(signal) {
      try {
        return await retry(async () => {
          return (await fetchDocument(signal)).status === 200;
        }, { attempts: 2, delayMs: retryDelayMs, clock: realClock, signal });
      } catch (error) {
        if (!signal?.aborted) log.debug(`GCE probe failed: ${error}`);
        return false;
      }
    },

    async generate(signal) {
      return { provider: "gce", metadata: await readMetadata(signal) } satisfies CloudSpec;
    },

    async suggestCustomIdentifier(signal) {
      const id = (await readMetadata(signal))["instance-id"];
      if (id === undefined) throw new Error("no instance in the gce metadata");
      return `${id}.gce.cloud.google.com`;
    },
  };
}
