/**
 * Plain HTTP for cloud metadata services: never through a proxy, with a deadline.
 *
 * Deno's `fetch`, and every `Deno.createHttpClient` without a `proxy`, follow `HTTP(S)_PROXY` and
 * `ALL_PROXY` from the environment, even for 127.0.0.1 and 169.254.169.254. A metadata service only
 * answers on the instance itself, so a proxy would at best fail and at worst answer for another host.
 * The only way to opt out per request is a `tcp` transport pinned to the URL's own host and port:
 * it connects there directly and speaks plain HTTP, whatever the environment says.
 *
 * @module
 */
import { errorMessage } from "../../../log.ts";
import { deadline } from "../../../async/abort.ts";

/** Status and body of one metadata answer. */
export interface MetadataResponse {
  readonly status: number;
  readonly body: string;
}

/** What a metadata request may carry. */
export interface MetadataRequestInit {
  readonly method?: "GET" | "PUT";
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Issues metadata requests that bypass any proxy; {@linkcode MetadataHttp.close} frees the connections. */
export interface MetadataHttp {
  /** Sends one request and reads the whole body; throws on a transport error or the deadline. */
  request(url: string, init?: MetadataRequestInit): Promise<MetadataResponse>;
  /** Closes every connection pool this instance opened. */
  close(): void;
}

/** Creates a {@linkcode MetadataHttp} whose requests each end after `timeoutMs` (body included). */
export function createMetadataHttp(options: { readonly timeoutMs: number }): MetadataHttp {
  const clients = new Map<string, Deno.HttpClient>();
  const clientFor = (url: URL): Deno.HttpClient => {
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    // URL keeps IPv6 literals bracketed; the transport wants the bare address.
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const key = `${hostname}:${port}`;
    let client = clients.get(key);
    if (!client) {
      client = Deno.createHttpClient({ proxy: { transport: "tcp", hostname, port } });
      clients.set(key, client);
    }
    return client;
  };
  return {
    async request(url, init = {}) {
      const method = init.method ?? "GET";
      const limit = deadline(options.timeoutMs, init.signal);
      const signal = limit.signal;
      try {
        const response = await fetch(url, {
          method,
          headers: init.headers,
          signal,
          client: clientFor(new URL(url)),
        });
        return { status: response.status, body: await response.text() };
      } catch (error) {
        // The caller's own cancellation is not a transport error: pass it on untouched.
        if (init.signal?.aborted) throw init.signal.reason;
        const reason = signal.aborted ? signal.reason : error;
        throw new Error(`${method} ${url}: ${describe(reason)}`, { cause: reason });
      } finally {
        limit.dispose();
      }
    },
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}

/** The innermost message of an error: fetch says only "fetch failed" and hides the reason in `cause`. */
export function describe(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return errorMessage(inner);
}
