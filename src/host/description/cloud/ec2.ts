/**
 * Amazon EC2: the UUID pre-check, the partition probe, IMDSv2 tokens and the instance metadata
 * (docs/upstream.md, "EC2").
 *
 * @module
 */
import type { CloudSpec } from "../../../mackerel/types.ts";
import { logger } from "../../../log.ts";
import type { Source } from "../../source.ts";
import { realClock } from "../../../async/clock.ts";
import { retry } from "../../../async/retry.ts";
import type { CloudProvider, ProviderOptions } from "./provider.ts";

/** The real base URL of the EC2 instance metadata service. */
export const EC2_BASE_URL = "http://169.254.169.254/latest";

/** Files under the sysfs root whose UUID tells an EC2 (Xen or Nitro) instance, in upstream's order. */
export const EC2_UUID_FILES: readonly string[] = [
  "hypervisor/uuid",
  "devices/virtual/dmi/id/product_uuid",
];

/** Keys read under `meta-data/` and stored under the same names. */
export const EC2_METADATA_KEYS: readonly string[] = [
  "instance-id",
  "instance-type",
  "placement/availability-zone",
  "security-groups",
  "ami-id",
  "hostname",
  "local-hostname",
  "public-hostname",
  "local-ipv4",
  "public-ipv4",
  "reservation-id",
];

const TOKEN_TTL_SECONDS = "21600";
// A token is good for 6 h; upstream renews it after 5 h 30 min, and retries IMDSv2 after 30 min.
const TOKEN_KEEP_MS = (5 * 60 + 30) * 60 * 1000;
const V1_KEEP_MS = 30 * 60 * 1000;

const log = logger("spec.cloud");

/**
 * Whether a system UUID looks like EC2's: it starts with `ec2`/`EC2`, or its first group, read as a
 * little-endian uint32 and printed in lowercase hex, does (Nitro firmware may swap the byte order).
 */
export function isEC2UUID(uuid: string): boolean {
  const ec2ish = (text: string) => text.startsWith("ec2") || text.startsWith("EC2");
  if (ec2ish(uuid)) return true;
  const timeLow = uuid.split("-")[0];
  // Go decodes the hex pairs and reads 4 bytes; fewer than 4 valid bytes gives 0, which is not ec2.
  if (!/^[0-9a-fA-F]{8}/.test(timeLow)) return false;
  const bytes = [0, 2, 4, 6].map((i) => parseInt(timeLow.slice(i, i + 2), 16));
  const value = (bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24) >>> 0;
  return ec2ish(value.toString(16));
}

/** Whether either UUID file under the sysfs root looks like EC2; unreadable files are skipped. */
export async function looksLikeEC2(source: Source): Promise<boolean> {
  for (const file of EC2_UUID_FILES) {
    let text: string;
    try {
      text = await source.readSys(file);
    } catch {
      continue;
    }
    if (isEC2UUID(text)) return true;
  }
  return false;
}

/** Options of {@linkcode createEC2Provider}. */
export interface EC2ProviderOptions extends ProviderOptions {
  /** Attempts of the partition probe: 3 on Linux and Windows, 2 on macOS and the BSDs. */
  readonly probeAttempts?: number;
  /** Clock for the token's lifetime. */
  readonly now?: () => number;
}

/** Creates the EC2 provider; it keeps its IMDSv2 token (or the IMDSv1 fallback) for its lifetime rules. */
export function createEC2Provider(options: EC2ProviderOptions): CloudProvider {
  const { baseUrl, http, retryDelayMs } = options;
  const now = options.now ?? Date.now;
  let token: { readonly value?: string; readonly until: number } | undefined;

  const tokenHeaders = async (signal?: AbortSignal): Promise<Record<string, string>> => {
    if (!token || now() >= token.until) {
      try {
        const response = await http.request(`${baseUrl}/api/token`, {
          method: "PUT",
          headers: { "X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS },
          signal,
        });
        token = response.status === 200
          ? { value: response.body, until: now() + TOKEN_KEEP_MS }
          : { until: now() + V1_KEEP_MS };
        if (!token.value) log.debug(`IMDSv2 token refused (${response.status}); using IMDSv1`);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        log.debug(`IMDSv2 token request failed; using IMDSv1: ${error}`);
        token = { until: now() + V1_KEEP_MS };
      }
    }
    return token.value ? { "X-aws-ec2-metadata-token": token.value } : {};
  };

  const get = async (key: string, signal?: AbortSignal) =>
    http.request(`${baseUrl}/meta-data/${key}`, { headers: await tokenHeaders(signal), signal });

  return {
    async probe(signal) {
      try {
        // A definitive answer (any status) ends the retries; only transport errors are retried.
        return await retry(async () => {
          const response = await get("services/partition", signal);
          return response.status === 200 && response.body.startsWith("aws");
        }, {
          attempts: options.probeAttempts ?? 3,
          delayMs: retryDelayMs,
          clock: realClock,
          signal,
        });
      } catch (error) {
        if (!signal?.aborted) log.debug(`EC2 probe failed: ${error}`);
        return false;
      }
    },

    async generate(signal) {
      const metadata: Record<string, string> = {};
      for (const key of EC2_METADATA_KEYS) {
        try {
          const response = await get(key, signal);
          metadata[key] = response.status === 200 ? response.body : "";
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          log.debug(`This host may not be running on EC2. Error while reading '${key}': ${error}`);
          return undefined;
        }
      }
      return { provider: "ec2", metadata } satisfies CloudSpec;
    },

    suggestCustomIdentifier(signal) {
      return retry(async () => {
        let response;
        try {
          response = await get("instance-id", signal);
        } catch (error) {
          throw new Error(`error while retrieving instance-id: ${(error as Error).message}`);
        }
        if (response.status !== 200) {
          throw new Error(`failed to request instance-id. response code: ${response.status}`);
        }
        if (response.body === "") throw new Error("invalid instance id");
        return `${response.body}.ec2.amazonaws.com`;
      }, { attempts: 3, delayMs: retryDelayMs, clock: realClock, signal });
    },
  };
}
