/**
 * The real Mackerel API client pointed at the fake API of `fake_mackerel.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  createMackerelClient,
  type MackerelClient,
  type MackerelClientOptions,
} from "../../src/mackerel/client.ts";
import { type FakeMackerel, type FakeMackerelOptions, startFakeMackerel } from "./fake_mackerel.ts";

/**
 * A client of `fake` with its API key, speaking as agent 0.1.0 revision abc1234
 * (`mackerel-agent/0.1.0 (Revision abc1234)`); `options` override any of these.
 */
export function clientFor(
  fake: FakeMackerel,
  options: Partial<MackerelClientOptions> = {},
): MackerelClient {
  return createMackerelClient({
    apibase: fake.url,
    apikey: fake.apiKey,
    version: "0.1.0",
    revision: "abc1234",
    ...options,
  });
}

/**
 * Runs `fn` against a fresh fake API (started with `options`) and a client of it. When `fn`
 * resolves, asserts that the client broke none of the API's rules (`fake.violations` is empty) and
 * resolves to what `fn` resolved to; closes both whatever happens.
 */
export async function withApi<T>(
  fn: (fake: FakeMackerel, client: MackerelClient) => Promise<T>,
  options: FakeMackerelOptions = {},
): Promise<T> {
  const fake = await startFakeMackerel(options);
  const client = clientFor(fake);
  try {
    const result = await fn(fake, client);
    assert.deepEqual(fake.violations, []);
    return result;
  } finally {
    client.close();
    await fake.close();
  }
}
