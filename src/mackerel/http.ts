/**
 * The HTTP transport of the API client: Go's proxy rules on top of `Deno.createHttpClient`.
 *
 * Go picks a proxy per request from `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` (upper case first) and
 * never proxies loopback (docs/upstream.md, "Proxies"). Deno's clients apply their own reading of
 * the same variables (loopback included, `ALL_PROXY` honoured), so this module decides itself and
 * pins the decision into each client: an explicit `proxy` when Go would proxy, and a client built
 * while `NO_PROXY` names the target host when Go would not.
 *
 * @module
 */
import { inPrefix, isLoopbackIp, parseIp, sameIp } from "../ip.ts";

/** Where the proxy settings come from; each falls back to the environment variable of its name. */
export interface ProxyOptions {
  /** As `HTTP_PROXY`: the proxy for `http:` URLs. */
  readonly httpProxy?: string;
  /** As `HTTPS_PROXY`: the proxy for `https:` URLs. */
  readonly httpsProxy?: string;
  /** As `NO_PROXY`. */
  readonly noProxy?: string;
  /** Reads an environment variable; `Deno.env.get` (undefined without permission) by default. */
  readonly env?: (name: string) => string | undefined;
}

/** Options of {@linkcode createHttpTransport}. */
export interface TransportOptions extends ProxyOptions {
  /** Never reuse a connection (`disable_http_keep_alive`). */
  readonly disableKeepAlive?: boolean;
}

/** Sends requests through Deno HTTP clients chosen per target; `close()` releases them. */
export interface HttpTransport {
  /** `fetch` through the client for the URL's proxy decision. */
  fetch(url: URL, init: RequestInit): Promise<Response>;
  /** Closes every client created so far. */
  close(): void;
}

/** Reads an environment variable, treating a missing permission as unset. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The proxy URL Go's `http.ProxyFromEnvironment` would use for a request URL, or undefined. */
export function proxyForUrl(url: URL, options: ProxyOptions = {}): URL | undefined {
  const env = options.env ?? readEnv;
  const pick = (explicit: string | undefined, name: string) =>
    explicit || env(name.toUpperCase()) || env(name) || "";
  // Go ignores HTTP_PROXY under CGI, where it can be set by a client's `Proxy:` header.
  const httpProxy = env("REQUEST_METHOD") && !options.httpProxy
    ? ""
    : pick(options.httpProxy, "http_proxy");
  const raw = url.protocol === "https:"
    ? pick(options.httpsProxy, "https_proxy")
    : url.protocol === "http:"
    ? httpProxy
    : "";
  if (!raw) return undefined;
  const host = hostOf(url);
  if (host === "localhost" || isLoopback(host)) return undefined;
  if (bypassed(host, portOf(url), pick(options.noProxy, "no_proxy"))) return undefined;
  return parseProxy(raw);
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

function portOf(url: URL): string {
  return url.port || (url.protocol === "https:" ? "443" : "80");
}

function isLoopback(host: string): boolean {
  const ip = parseIp(host);
  return ip !== undefined && isLoopbackIp(ip);
}

function parseProxy(raw: string): URL | undefined {
  for (const candidate of [raw, `http://${raw}`]) {
    try {
      const url = new URL(candidate);
      if (["http:", "https:", "socks5:", "socks5h:"].includes(url.protocol) && url.hostname) {
        return url;
      }
    } catch {
      // Go retries a scheme-less value as http://..., as the second candidate does.
    }
  }
  return undefined;
}

/** Go's `NO_PROXY` matching: `*`, IPs, CIDRs, and domains (`a.com` and `.a.com`), each with an optional port. */
function bypassed(host: string, port: string, noProxy: string): boolean {
  for (let entry of noProxy.split(",").map((e) => e.trim().toLowerCase())) {
    if (!entry) continue;
    if (entry === "*") return true;
    const cidr = entry.match(/^(.+)\/(\d+)$/);
    if (cidr) {
      const network = parseIp(cidr[1]);
      const ip = parseIp(host);
      if (network && ip && inPrefix(ip, network, Number(cidr[2]))) return true;
      continue;
    }
    let entryPort = "";
    const withPort = entry.match(/^\[(.+)\]:(\d+)$/) ?? entry.match(/^([^:]+):(\d+)$/);
    if (withPort) [, entry, entryPort] = withPort;
    entry = entry.replace(/^\[(.*)\]$/, "$1");
    if (entryPort && entryPort !== port) continue;
    const entryIp = parseIp(entry);
    const hostIp = parseIp(host);
    if (entryIp) {
      if (hostIp && sameIp(entryIp, hostIp)) return true;
      continue;
    }
    if (hostIp) continue;
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (
      entry.startsWith(".") ? host.endsWith(entry) : host === entry || host.endsWith(`.${entry}`)
    ) {
      return true;
    }
  }
  return false;
}

const PROXY_VARIABLES = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/** Creates the transport; HTTP/2 is off as upstream, and `disableKeepAlive` keeps no idle connection. */
export function createHttpTransport(options: TransportOptions = {}): HttpTransport {
  const clients = new Map<string, Deno.HttpClient>();
  /** The client of each origin: Go decides a proxy from the environment once per process. */
  const byOrigin = new Map<string, Deno.HttpClient>();
  const base: Deno.CreateHttpClientOptions = {
    http2: false,
    ...(options.disableKeepAlive ? { poolMaxIdlePerHost: 0 } : {}),
  };

  function clientFor(url: URL): Deno.HttpClient {
    const known = byOrigin.get(url.origin);
    if (known) return known;
    const proxy = proxyForUrl(url, options);
    const key = proxy ? `proxy ${proxy.href}` : `direct ${hostOf(url)}`;
    let client = clients.get(key);
    if (!client) {
      client = proxy ? createProxied(base, proxy) : createDirect(base, hostOf(url));
      clients.set(key, client);
    }
    byOrigin.set(url.origin, client);
    return client;
  }

  return {
    fetch: (url, init) => fetch(url, { ...init, client: clientFor(url) }),
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
      byOrigin.clear();
    },
  };
}

function createProxied(base: Deno.CreateHttpClientOptions, proxy: URL): Deno.HttpClient {
  const basicAuth = proxy.username
    ? {
      username: decodeURIComponent(proxy.username),
      password: decodeURIComponent(proxy.password),
    }
    : undefined;
  const url = `${proxy.protocol}//${proxy.host}`;
  return Deno.createHttpClient({ ...base, proxy: basicAuth ? { url, basicAuth } : { url } });
}

/**
 * A client that connects straight to `host` whatever the proxy variables say.
 *
 * Deno reads the proxy variables when the client is created, and honours an exact host in
 * `NO_PROXY` (not `*`); the variables are restored before any other code can run.
 */
function createDirect(base: Deno.CreateHttpClientOptions, host: string): Deno.HttpClient {
  if (!PROXY_VARIABLES.some((name) => readEnv(name))) return Deno.createHttpClient(base);
  const saved = ["NO_PROXY", "no_proxy"].map((name) => [name, readEnv(name)] as const);
  try {
    for (const [name] of saved) Deno.env.set(name, host);
  } catch {
    return Deno.createHttpClient(base); // no --allow-env: Deno's own rules apply
  }
  try {
    return Deno.createHttpClient(base);
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}
