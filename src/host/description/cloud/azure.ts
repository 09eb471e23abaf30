/**
 * Azure virtual machines: the instance metadata service in text format (docs/upstream.md, "Azure").
 *
 * @module
 */
import type { CloudSpec } from "../../../mackerel/types.ts";
import { logger } from "../../../log.ts";
import type { MetadataResponse } from "./http.ts";
import { realClock } from "../../../async/clock.ts";
import { retry } from "../../../async/retry.ts";
import type { CloudProvider, ProviderOptions } from "./provider.ts";

/** The real base URL of the Azure instance metadata service. */
export const AZURE_BASE_URL = "http://169.254.169.254/metadata/instance";

/** Appended to every Azure path: the API version upstream pins, one plain value per answer. */
export const AZURE_QUERY = "?api-version=2017-04-02&format=text";

const HEADERS = { Metadata: "true" } as const;

/** `compute/<key>` -> name under `meta.cloud.metadata`. */
export const AZURE_COMPUTE_KEYS: Readonly<Record<string, string>> = {
  location: "location",
  offer: "imageReferenceOffer",
  osType: "osSystemType",
  publisher: "imageReferencePublisher",
  sku: "imageReferenceSku",
  vmId: "vmID",
  vmSize: "virtualMachineSizeType",
};

/** `network/interface/0/ipv4/ipAddress/0/<key>` -> name under `meta.cloud.metadata`. */
export const AZURE_NETWORK_KEYS: Readonly<Record<string, string>> = {
  privateIpAddress: "privateIpAddress",
  publicIpAddress: "publicIpAddress",
};

const log = logger("spec.cloud");

/** Creates the Azure VM provider. */
export function createAzureProvider(options: ProviderOptions): CloudProvider {
  const { baseUrl, http, retryDelayMs } = options;
  const get = (path: string, signal?: AbortSignal) =>
    http.request(`${baseUrl}/${path}${AZURE_QUERY}`, { headers: HEADERS, signal });

  return {
    async probe(signal) {
      try {
        return await retry(async () => {
          return (await get("compute/vmId", signal)).status === 200;
        }, { attempts: 2, delayMs: retryDelayMs, clock: realClock, signal });
      } catch (error) {
        if (!signal?.aborted) log.debug(`Azure probe failed: ${error}`);
        return false;
      }
    },

    async generate(signal) {
      const metadata: Record<string, string> = {};
      const groups = [
        ["compute/", AZURE_COMPUTE_KEYS],
        ["network/interface/0/ipv4/ipAddress/0/", AZURE_NETWORK_KEYS],
      ] as const;
      for (const [prefix, keys] of groups) {
        await readGroup({ get, prefix, keys, into: metadata, signal });
      }
      return { provider: "AzureVM", metadata } satisfies CloudSpec;
    },

    suggestCustomIdentifier(signal) {
      return retry(async () => {
        let response;
        try {
          response = await get("compute/vmId", signal);
        } catch (error) {
          throw new Error(`error while retrieving vmId: ${(error as Error).message}`);
        }
        if (response.status !== 200) {
          throw new Error(`failed to request vmId. response code: ${response.status}`);
        }
        if (response.body === "") throw new Error("invalid identifier");
        return `${response.body}.virtual_machine.azure.microsoft.com`;
      }, { attempts: 3, delayMs: retryDelayMs, clock: realClock, signal });
    },
  };
}

interface GroupRead {
  readonly get: (path: string, signal?: AbortSignal) => Promise<MetadataResponse>;
  readonly prefix: string;
  readonly keys: Readonly<Record<string, string>>;
  readonly into: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** Reads one group of keys; a non-200 key is left out, a transport error ends the group (as upstream). */
async function readGroup(read: GroupRead): Promise<void> {
  for (const [key, name] of Object.entries(read.keys)) {
    try {
      const response = await read.get(read.prefix + key, read.signal);
      if (response.status === 200) read.into[name] = response.body;
    } catch (error) {
      if (read.signal?.aborted) throw read.signal.reason;
      log.debug(`This host may not be running on Azure VM. Error while reading '${key}': ${error}`);
      return;
    }
  }
}
