/**
 * Which cloud this host runs on, its `meta.cloud` part and its `customIdentifier`
 * (docs/upstream.md, "Cloud detection").
 *
 * @module
 */
import type { CloudPlatform } from "../../../config/schema.ts";
import type { CloudSpec } from "../../../mackerel/types.ts";
import { errorMessage, logger } from "../../../log.ts";
import type { Source } from "../../source.ts";
import { AZURE_BASE_URL, createAzureProvider } from "./azure.ts";
import { createEC2Provider, EC2_BASE_URL, looksLikeEC2 } from "./ec2.ts";
import { createGceProvider, GCE_BASE_URL } from "./gce.ts";
import { createMetadataHttp, type MetadataHttp } from "./http.ts";
import type { CloudProvider } from "./provider.ts";

/** Base URLs of the metadata services; only tests point them elsewhere. */
export interface CloudEndpoints {
  readonly ec2?: string;
  readonly gce?: string;
  readonly azure?: string;
}

/** Options of {@linkcode detectCloud}. */
export interface DetectCloudOptions {
  /** `cloud_platform`: `auto` probes, `none` skips, a provider name is trusted without probing. */
  readonly platform: CloudPlatform;
  /** Where the EC2 pre-check reads `/sys/hypervisor/uuid` and the DMI product UUID. */
  readonly source: Source;
  /** Test hook: base URLs replacing the real ones. */
  readonly endpoints?: CloudEndpoints;
  /** Deadline of each HTTP request, body included; 3 s as upstream. */
  readonly timeoutMs?: number;
  /** Pause between retries; 2 s as upstream. */
  readonly retryDelayMs?: number;
  /** Aborts everything; `detectCloud` then rejects with the abort reason. */
  readonly signal?: AbortSignal;
}

/** What the host payload takes from the cloud: `meta.cloud` and `customIdentifier`, each if known. */
export interface CloudDetection {
  readonly cloud?: CloudSpec;
  readonly customIdentifier?: string;
}

const cloudLog = logger("spec.cloud");
const specLog = logger("spec");

// Upstream retries the EC2 probe only twice where there is no UUID pre-check to filter hosts first.
const NO_PRECHECK_OS: ReadonlySet<string> = new Set(["darwin", "freebsd", "netbsd", "openbsd"]);

/**
 * Detects the cloud platform (or takes the configured one) and reads its metadata.
 *
 * Never rejects for a cloud that cannot be read: a failed metadata read drops `cloud` with upstream's
 * WARNING, a failed identifier drops `customIdentifier` with `Error while suggesting custom identifier.`
 */
export async function detectCloud(options: DetectCloudOptions): Promise<CloudDetection> {
  if (options.platform === "none") return {};
  const http = createMetadataHttp({ timeoutMs: options.timeoutMs ?? 3000 });
  try {
    const factories = providerFactories(options, http);
    const provider = options.platform === "auto"
      ? await suggestProvider(options, factories)
      : factories[options.platform]();
    return provider ? await readProvider(provider, options.signal) : {};
  } finally {
    http.close();
  }
}

type Factories = Readonly<Record<"ec2" | "gce" | "azurevm", () => CloudProvider>>;

function providerFactories(options: DetectCloudOptions, http: MetadataHttp): Factories {
  const retryDelayMs = options.retryDelayMs ?? 2000;
  const endpoints = options.endpoints ?? {};
  return {
    ec2: () =>
      createEC2Provider({
        baseUrl: endpoints.ec2 ?? EC2_BASE_URL,
        http,
        retryDelayMs,
        probeAttempts: NO_PRECHECK_OS.has(Deno.build.os) ? 2 : 3,
      }),
    gce: () => createGceProvider({ baseUrl: endpoints.gce ?? GCE_BASE_URL, http, retryDelayMs }),
    azurevm: () =>
      createAzureProvider({ baseUrl: endpoints.azure ?? AZURE_BASE_URL, http, retryDelayMs }),
  };
}

/** Probes the three platforms at once; the first positive wins and the others are aborted. */
async function suggestProvider(
  options: DetectCloudOptions,
  factories: Factories,
): Promise<CloudProvider | undefined> {
  const race = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, race.signal]) : race.signal;
  const ec2 = factories.ec2();
  const gce = factories.gce();
  const azure = factories.azurevm();
  const candidates: ReadonlyArray<readonly [CloudProvider, () => Promise<boolean>]> = [
    // Linux hosts that do not look like EC2 never send an EC2 request (169.254.169.254 may be Azure's).
    [ec2, async () =>
      (Deno.build.os !== "linux" || await looksLikeEC2(options.source)) &&
      await ec2.probe(signal)],
    [gce, () => gce.probe(signal)],
    [azure, () => azure.probe(signal)],
  ];
  const probes: Promise<unknown>[] = [];
  const winner = await new Promise<CloudProvider | undefined>((resolve) => {
    let pending = candidates.length;
    for (const [provider, probe] of candidates) {
      probes.push(
        probe()
          .then((positive) => positive && resolve(provider), () => {})
          .finally(() => --pending === 0 && resolve(undefined)),
      );
    }
  });
  race.abort(new Error("another cloud platform answered first"));
  // The losers unwind quickly once aborted; wait so none of their requests outlives the HTTP clients.
  await Promise.allSettled(probes);
  if (options.signal?.aborted) throw options.signal.reason;
  return winner;
}

/** Reads `meta.cloud` then the custom identifier, logging (not throwing) upstream's warnings. */
async function readProvider(
  provider: CloudProvider,
  signal?: AbortSignal,
): Promise<CloudDetection> {
  let cloud: CloudSpec | undefined;
  try {
    cloud = await provider.generate(signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    specLog.warn(`Failed to collect meta in cloud (skip this spec): ${errorMessage(error)}`);
  }
  let customIdentifier: string | undefined;
  try {
    customIdentifier = await provider.suggestCustomIdentifier(signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    cloudLog.warn(`Error while suggesting custom identifier. err: ${errorMessage(error)}`);
  }
  return {
    ...(cloud ? { cloud } : {}),
    ...(customIdentifier ? { customIdentifier } : {}),
  };
}
