/**
 * A fake cloud metadata service on 127.0.0.1: one `Deno.serve` that can play EC2 (IMDSv1 or v2),
 * GCE and Azure under their real paths, records every request and can be scripted to fail or hang.
 *
 * A provider left out of the options answers 404 everywhere, a definitive "not this cloud".
 *
 * @module
 */

const FIXTURES = new URL("../fixtures/cloud/", import.meta.url);

/** The token the fake IMDSv2 hands out. */
export const FAKE_EC2_TOKEN = "AQAEAFakeToken==";

/** How the fake plays EC2. */
export interface FakeEc2Options {
  /** `v2` requires the token on every GET; `v1` refuses the token PUT (403) and needs none. */
  readonly imds: "v1" | "v2";
  /** Answers under `meta-data/`; `tests/fixtures/cloud/ec2_metadata.json` by default. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Status of `meta-data/services/partition` (200 by default). */
  readonly partitionStatus?: number;
  /** The first N partition requests never get an answer (the client's deadline ends them). */
  readonly partitionHangs?: number;
  /** The first N `meta-data/instance-id` requests answer 500. */
  readonly instanceIdFailures?: number;
  /** Every EC2 request hangs until the server closes (a slow loser of the race). */
  readonly hold?: boolean;
}

/** How the fake plays GCE. */
export interface FakeGceOptions {
  /** The recursive document; `tests/fixtures/cloud/gce_metadata.json` by default. */
  readonly document?: string;
  /** Every GCE request hangs until the server closes. */
  readonly hold?: boolean;
}

/** How the fake plays Azure. */
export interface FakeAzureOptions {
  /** Answers by path under `metadata/instance/`; `tests/fixtures/cloud/azure_metadata.json` by default. */
  readonly values?: Readonly<Record<string, string>>;
  /** Every Azure request hangs until the server closes. */
  readonly hold?: boolean;
  /** Paths under `metadata/instance/` that hang until the server closes (transport errors). */
  readonly hang?: readonly string[];
}

/** Which clouds the fake plays. */
export interface FakeMetadataOptions {
  readonly ec2?: FakeEc2Options;
  readonly gce?: FakeGceOptions;
  readonly azure?: FakeAzureOptions;
}

/** One request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/latest/meta-data/instance-id`. */
  readonly path: string;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A running fake; {@linkcode FakeMetadata.close} releases held requests and stops it. */
export interface FakeMetadata {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Base URLs to pass as `detectCloud`'s `endpoints`. */
  readonly endpoints: { readonly ec2: string; readonly gce: string; readonly azure: string };
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/** Reads a JSON fixture of `tests/fixtures/cloud/` as a string map. */
export function readFixture(name: string): Record<string, string> {
  return JSON.parse(Deno.readTextFileSync(new URL(name, FIXTURES)));
}

/** Starts the fake on an ephemeral port of 127.0.0.1. */
export function startFakeMetadata(options: FakeMetadataOptions = {}): FakeMetadata {
  const requests: RecordedRequest[] = [];
  const released = Promise.withResolvers<void>();
  const hang = async () => {
    await released.promise;
    return new Response("too late", { status: 504 });
  };
  const ec2 = options.ec2 && ec2Handler(options.ec2, hang);
  const gce = options.gce && gceHandler(options.gce, hang);
  const azure = options.azure && azureHandler(options.azure, hang);

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    requests.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
    });
    if (url.pathname.startsWith("/latest/") && ec2) return ec2(request, url);
    if (url.pathname.startsWith("/computeMetadata/v1") && gce) return gce(request, url);
    if (url.pathname.startsWith("/metadata/instance/") && azure) return azure(request, url);
    return new Response("not found", { status: 404 });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    endpoints: {
      ec2: `${origin}/latest`,
      gce: `${origin}/computeMetadata/v1`,
      azure: `${origin}/metadata/instance`,
    },
    requests,
    async close() {
      released.resolve();
      await server.shutdown();
    },
  };
}

/** Runs `fn` against a fake started with `options`, and closes the fake whatever `fn` does. */
export async function withFakeMetadata<T>(
  options: FakeMetadataOptions,
  fn: (fake: FakeMetadata) => Promise<T>,
): Promise<T> {
  const fake = startFakeMetadata(options);
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

type Handler = (request: Request, url: URL) => Response | Promise<Response>;

function ec2Handler(options: FakeEc2Options, hang: () => Promise<Response>): Handler {
  const metadata = options.metadata ?? readFixture("ec2_metadata.json");
  let partitionHangs = options.partitionHangs ?? 0;
  let instanceIdFailures = options.instanceIdFailures ?? 0;
  return (request, url) => {
    if (options.hold) return hang();
    if (url.pathname === "/latest/api/token") {
      if (request.method !== "PUT") return new Response("method not allowed", { status: 405 });
      if (options.imds === "v1") return new Response("forbidden", { status: 403 });
      const ttl = request.headers.get("x-aws-ec2-metadata-token-ttl-seconds");
      if (!ttl) return new Response("missing ttl", { status: 400 });
      return new Response(FAKE_EC2_TOKEN);
    }
    if (
      options.imds === "v2" && request.headers.get("x-aws-ec2-metadata-token") !== FAKE_EC2_TOKEN
    ) {
      return new Response("unauthorized", { status: 401 });
    }
    const key = url.pathname.replace(/^\/latest\/meta-data\//, "");
    if (key === "services/partition") {
      if (partitionHangs > 0) {
        partitionHangs--;
        return hang();
      }
      if (options.partitionStatus && options.partitionStatus !== 200) {
        return new Response("error", { status: options.partitionStatus });
      }
    }
    if (key === "instance-id" && instanceIdFailures > 0) {
      instanceIdFailures--;
      return new Response("internal error", { status: 500 });
    }
    const value = metadata[key];
    return value === undefined ? new Response("not found", { status: 404 }) : new Response(value);
  };
}

function gceHandler(options: FakeGceOptions, hang: () => Promise<Response>): Handler {
  const document = options.document ??
    Deno.readTextFileSync(new URL("gce_metadata.json", FIXTURES));
  return (request, url) => {
    if (options.hold) return hang();
    if (request.headers.get("metadata-flavor") !== "Google") {
      return new Response("missing Metadata-Flavor", { status: 403 });
    }
    if (url.pathname !== "/computeMetadata/v1" || url.searchParams.get("recursive") !== "true") {
      return new Response("not found", { status: 404 });
    }
    return new Response(document, { headers: { "content-type": "application/json" } });
  };
}

function azureHandler(options: FakeAzureOptions, hang: () => Promise<Response>): Handler {
  const values = options.values ?? readFixture("azure_metadata.json");
  return (request, url) => {
    if (options.hold) return hang();
    if (request.headers.get("metadata") !== "true") {
      return new Response("missing Metadata header", { status: 400 });
    }
    const params = url.searchParams;
    if (params.get("api-version") !== "2017-04-02" || params.get("format") !== "text") {
      return new Response("bad query", { status: 400 });
    }
    const path = url.pathname.replace(/^\/metadata\/instance\//, "");
    if (options.hang?.includes(path)) return hang();
    const value = values[path];
    return value === undefined ? new Response("not found", { status: 404 }) : new Response(value);
  };
}
