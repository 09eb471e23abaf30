import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createSource } from "../../../src/host/source.ts";
import { readHostname } from "../../../src/host/spec/hostname.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/spec/${name}`, import.meta.url));

Deno.test("hostname: the kernel node name from procfs, trimmed", async () => {
  assert.equal(await readHostname(createSource({ procfs: fixture("x86/proc") })), "web-01");
});

Deno.test("hostname: falls back to Deno.hostname() when procfs has no hostname", async () => {
  const source = createSource({ procfs: fixture("arm64/proc") });
  assert.equal(await readHostname(source), Deno.hostname());
});

Deno.test("hostname: the live machine's name is Deno.hostname()", async () => {
  assert.equal(await readHostname(createSource()), Deno.hostname());
});
