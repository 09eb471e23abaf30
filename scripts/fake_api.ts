/**
 * The tests' fake Mackerel API as a process of its own, for benchmarks that must not count its
 * CPU: prints its URL on the first line of stdout and runs until its stdin closes.
 *
 * @module
 */
import { startFakeMackerel } from "../tests/support/fake_mackerel.ts";

const api = await startFakeMackerel({ apiKey: "bench" });
console.log(api.url);
// Reads stdin to its end: the parent closing it (or dying) stops the server.
for await (const _ of Deno.stdin.readable) { /* nothing to read */ }
await api.close();
