/**
 * One gRPC unary call over `node:http2`: gRPC's wire protocol over HTTP/2, of which this is
 * all an OTLP export needs - one length-prefixed message each way, the status in the trailers.
 *
 * TLS for `https:` origins (ALPN h2, the system's roots), cleartext HTTP/2 (h2c) for `http:`.
 * A connection serves the calls that follow each other closely (a backlog, a one-second minute)
 * and is closed politely (GOAWAY) once idle for a while: at the real pace, one export a minute,
 * each export has a fresh connection and none is kept open for a load balancer to drop. A call
 * ends at its deadline (also sent as `grpc-timeout`) or when the caller's signal aborts; a failed
 * call drops its connection; a response larger than the bound is refused.
 *
 * @module
 */
import { errorMessage } from "../log.ts";
import http2 from "node:http2";
import { gunzipSync } from "node:zlib";

/** One call of {@linkcode GrpcChannel.call}. */
export interface UnaryCall {
  /** `/<package>.<Service>/<Method>`. */
  readonly path: string;
  /** The request message, gzip-compressed when `compressed`. */
  readonly message: Uint8Array;
  readonly compressed: boolean;
  /** Custom metadata (lower-case names). */
  readonly metadata: readonly (readonly [string, string])[];
  readonly userAgent: string;
  readonly timeoutMs: number;
  /** Bytes of the response read at most. */
  readonly maxResponseBytes: number;
  readonly signal: AbortSignal;
}

/** The status a server ended the call with, and its response message when it sent one. */
export interface UnaryResult {
  /** The gRPC status code; 0 is OK. */
  readonly code: number;
  /** `grpc-message`, decoded. */
  readonly message: string;
  /** `grpc-status-details-bin`: an encoded `google.rpc.Status`. */
  readonly details?: Uint8Array;
  readonly response?: Uint8Array;
}

/** The call got no gRPC answer: connection refused or reset, TLS failure, deadline, abort. */
export class TransportError extends Error {}

/** The gRPC status code gRPC's own clients give an HTTP status that is not 200. */
export function codeOfHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** Calls to one origin over a connection kept while calls follow each other. */
export interface GrpcChannel {
  /** Makes a call; resolves to the server's status, rejects with a {@linkcode TransportError}. */
  call(call: UnaryCall): Promise<UnaryResult>;
  /** Closes the connection, if one is open. */
  close(): void;
}

/** How long an idle connection is kept for the next call; 10 s. */
export const DEFAULT_IDLE_MS = 10_000;

/** Creates the channel of `origin` (`https://host:port` or `http://host:port`). */
export function createGrpcChannel(origin: URL, idleMs = DEFAULT_IDLE_MS): GrpcChannel {
  let open: http2.ClientHttp2Session | undefined;

  const acquire = (): http2.ClientHttp2Session => {
    if (open && !open.closed && !open.destroyed) return open;
    const session = http2.connect(origin.origin);
    const forget = () => {
      if (open === session) open = undefined;
    };
    // An idle connection's end is no one's failure: a call in flight hears of it itself.
    session.on("error", forget);
    session.on("goaway", forget);
    session.on("close", forget);
    // Idle (no frame either way) that long: closed with a GOAWAY, as a polite client does.
    session.setTimeout(idleMs, () => {
      forget();
      session.close();
    });
    // An open connection never keeps the agent from exiting.
    session.unref();
    open = session;
    return session;
  };

  const release = (session: http2.ClientHttp2Session, healthy: boolean) => {
    if (healthy) return;
    if (open === session) open = undefined;
    session.destroy();
  };

  return {
    call: (call) => callUnary(call, acquire, release),
    close() {
      open?.close();
      open = undefined;
    },
  };
}

function callUnary(
  call: UnaryCall,
  acquire: () => http2.ClientHttp2Session,
  release: (session: http2.ClientHttp2Session, healthy: boolean) => void,
): Promise<UnaryResult> {
  const deadline = AbortSignal.timeout(call.timeoutMs);
  const signal = AbortSignal.any([call.signal, deadline]);
  return new Promise<UnaryResult>((resolve, reject) => {
    let settled = false;
    let session: http2.ClientHttp2Session | undefined;
    const onSessionError = (error: unknown) => fail(errorMessage(error), error);
    const finish = (healthy: boolean, outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (session) {
        session.off("error", onSessionError);
        release(session, healthy);
      }
      outcome();
    };
    const fail = (reason: string, cause?: unknown) =>
      finish(false, () => reject(new TransportError(reason, { cause })));
    const onAbort = () =>
      fail(deadline.aborted ? `no answer within ${call.timeoutMs} ms` : "the call was aborted");
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      session = acquire();
    } catch (error) {
      return fail(errorMessage(error), error);
    }
    session.on("error", onSessionError);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({
        ":method": "POST",
        ":path": call.path,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": `${call.timeoutMs}m`,
        "grpc-accept-encoding": "identity,gzip",
        "user-agent": call.userAgent,
        ...(call.compressed ? { "grpc-encoding": "gzip" } : {}),
        ...Object.fromEntries(call.metadata),
      });
    } catch (error) {
      return fail(errorMessage(error), error);
    }
    let headers: http2.IncomingHttpHeaders | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Uint8Array[] = [];
    let size = 0;
    stream.on("error", (error) => fail(errorMessage(error), error));
    stream.on("response", (h) => headers = h);
    stream.on("trailers", (t) => trailers = t);
    stream.on("data", (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > call.maxResponseBytes) {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        fail(`response larger than ${call.maxResponseBytes} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    stream.on("close", () => {
      if (settled) return;
      if (headers === undefined) return fail("the stream closed without an answer");
      try {
        const result = readResult(headers, trailers, concat(chunks));
        finish(true, () => resolve(result));
      } catch (error) {
        fail(errorMessage(error), error);
      }
    });
    stream.end(frame(call.message, call.compressed));
  });
}

/** The length-prefixed message: compressed flag (1 byte), length (4 bytes, big-endian), bytes. */
function frame(message: Uint8Array, compressed: boolean): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

function readResult(
  headers: http2.IncomingHttpHeaders,
  trailers: http2.IncomingHttpHeaders | undefined,
  body: Uint8Array,
): UnaryResult {
  const httpStatus = Number(headers[":status"]);
  if (httpStatus !== 200) {
    return { code: codeOfHttpStatus(httpStatus), message: `HTTP status ${httpStatus}` };
  }
  // A trailers-only answer carries the status in its headers.
  const source = trailers?.["grpc-status"] !== undefined ? trailers : headers;
  const rawCode = header(source, "grpc-status");
  const code = rawCode !== undefined && /^\d+$/.test(rawCode) ? Number(rawCode) : 2;
  const message = rawCode === undefined
    ? "the answer has no grpc-status"
    : percentDecode(header(source, "grpc-message") ?? "");
  const detailsText = header(source, "grpc-status-details-bin");
  const details = detailsText === undefined ? undefined : decodeBase64(detailsText);
  const response = code === 0 ? unframe(body, header(headers, "grpc-encoding")) : undefined;
  return {
    code,
    message,
    ...(details === undefined ? {} : { details }),
    ...(response === undefined ? {} : { response }),
  };
}

/** The message of a length-prefixed body; an empty body is an empty message. */
function unframe(body: Uint8Array, encoding: string | undefined): Uint8Array {
  if (body.length === 0) return body;
  if (body.length < 5) throw new Error("a response message shorter than its prefix");
  const length = new DataView(body.buffer, body.byteOffset).getUint32(1);
  if (body.length < 5 + length) throw new Error("a response message cut short");
  const message = body.subarray(5, 5 + length);
  if (body[0] === 0) return message;
  if (encoding !== "gzip") throw new Error(`a response compressed with ${encoding ?? "nothing"}`);
  return new Uint8Array(gunzipSync(message));
}

function header(headers: http2.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function decodeBase64(text: string): Uint8Array | undefined {
  try {
    const padded = text + "=".repeat((4 - text.length % 4) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
