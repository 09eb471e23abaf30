import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createSource } from "../../../src/host/source.ts";
import { detectCloud, parseGceMetadata } from "../../../src/host/description/cloud.ts";
import { withFakeMetadata } from "../../support/fake_metadata.ts";

const FIXTURE = new URL("../../fixtures/cloud/gce_metadata.json", import.meta.url);
const source = createSource({
  sysfs: fileURLToPath(new URL("../../fixtures/cloud/sys-other", import.meta.url)),
});

const EXPECTED = {
  "hostname": "web-1.c.sample-project-42.internal",
  "instance-id": "4567890123456789123",
  "instance-type": "g1-small",
  "zone": "asia-east1-a",
  "projectId": "sample-project-42",
};

Deno.test("cloud.gce: the document maps to hostname, id, type, zone and project", () => {
  const text = Deno.readTextFileSync(FIXTURE);
  assert.deepEqual(parseGceMetadata(text), EXPECTED);
  // The reason for reading the id as text: a double would have rounded it.
  assert.notEqual(String(JSON.parse(text).instance.id), EXPECTED["instance-id"]);
});

Deno.test("cloud.gce: uint64 ids are exact up to 2^64-1 and anything else is an error", () => {
  const doc = (id: string) => `{"instance": {"id": ${id}}}`;
  const meta = (id: string) => parseGceMetadata(doc(id))["instance-id"];
  assert.equal(meta("18446744073709551615"), "18446744073709551615");
  assert.equal(meta("9007199254740993"), "9007199254740993");
  assert.equal(meta("0"), "0");
  for (const bad of ["18446744073709551616", "-1", "1.5", "1e3", "true"]) {
    assert.throws(() => parseGceMetadata(doc(bad)), /instance\.id is not a uint64/, bad);
  }
  assert.throws(() => parseGceMetadata("{"), SyntaxError);
});

Deno.test("cloud.gce: missing parts are left out or zero, as Go's decoder leaves them", () => {
  assert.deepEqual(parseGceMetadata(`{"project": {"projectId": "p"}}`), { projectId: "p" });
  assert.deepEqual(parseGceMetadata(`{"instance": {}, "project": null}`), {
    "hostname": "",
    "instance-id": "0",
    "instance-type": "",
    "zone": "",
  });
  assert.deepEqual(parseGceMetadata(`{}`), {});
});

Deno.test("cloud.gce: auto-detection reads one document with Metadata-Flavor: Google", async () => {
  await withFakeMetadata({ gce: {} }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source,
      endpoints: fake.endpoints,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {
      cloud: { provider: "gce", metadata: EXPECTED },
      customIdentifier: "4567890123456789123.gce.cloud.google.com",
    });
    const gce = fake.requests.filter((r) => r.path.startsWith("/computeMetadata/"));
    // The probe's answer is the document: no second request for the metadata or the identifier.
    assert.deepEqual(gce.map((r) => `${r.method} ${r.path}`), [
      "GET /computeMetadata/v1?recursive=true",
    ]);
    assert.equal(gce[0].headers["metadata-flavor"], "Google");
  });
});
