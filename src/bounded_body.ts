/**
 * Reading an HTTP response body up to a cap: `fetch` reads a body without limit, and an API, a
 * proxy or a collector that answers with megabytes must not grow the agent.
 *
 * @module
 */

/** The body was larger than the cap; it was not read past it. */
export class BodyTooLarge extends Error {
  constructor(cap: number) {
    super(`response body larger than ${cap} bytes`);
    this.name = "BodyTooLarge";
  }
}

/**
 * The body of `response`, at most `cap` bytes.
 *
 * @throws {BodyTooLarge} when it declares or turns out to be larger.
 */
export async function readBoundedBody(response: Response, cap: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > cap) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLarge(cap);
  }
  if (!response.body) return new Uint8Array(0);
  // A declared length within the cap, of a body not compressed (fetch would inflate it past the
  // length), is read at once; any other body chunk by chunk, counting.
  const encoding = response.headers.get("content-encoding");
  if (declared >= 0 && (encoding === null || encoding === "identity")) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length <= cap) return bytes;
    throw new BodyTooLarge(cap);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > cap) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(cap);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
