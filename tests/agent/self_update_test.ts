import assert from "node:assert/strict";
import { realClock } from "../../src/async/clock.ts";
import { watchExecutable } from "../../src/agent/self_update.ts";

async function watchUntil(path: string, change: () => Promise<void>): Promise<boolean> {
  const stop = new AbortController();
  let changed = false;
  const watching = watchExecutable({
    path,
    clock: realClock,
    periodMs: 20,
    onChange: () => changed = true,
    signal: stop.signal,
  });
  await new Promise((resolve) => setTimeout(resolve, 60));
  await change();
  const deadline = Date.now() + 2000;
  while (!changed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  stop.abort();
  await watching;
  return changed;
}

Deno.test("self_update: a replaced executable asks for a stop", async () => {
  const file = await Deno.makeTempFile();
  try {
    const later = new Date(Date.now() + 60_000);
    assert.equal(await watchUntil(file, () => Deno.utime(file, later, later)), true);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("self_update: a removed executable asks for a stop; an untouched one does not", async () => {
  const kept = await Deno.makeTempFile();
  const removed = await Deno.makeTempFile();
  try {
    assert.equal(await watchUntil(kept, () => Promise.resolve()), false);
    assert.equal(await watchUntil(removed, () => Deno.remove(removed)), true);
  } finally {
    await Deno.remove(kept);
  }
});
