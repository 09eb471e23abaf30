import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createSource } from "../../../src/host/source.ts";
import { detectCloud } from "../../../src/host/description/cloud.ts";
import { withFakeMetadata } from "../../support/fake_metadata.ts";

const source = createSource({
  sysfs: fileURLToPath(new URL("../../fixtures/cloud/sys-other", import.meta.url)),
});

Deno.test("cloud.azure: compute and network keys map to upstream's names", async () => {
  await withFakeMetadata({ azure: {} }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source,
      endpoints: fake.endpoints,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {
      cloud: {
        provider: "AzureVM",
        metadata: {
          location: "japaneast",
          imageReferenceOffer: "UbuntuServer",
          osSystemType: "Linux",
          imageReferencePublisher: "Canonical",
          imageReferenceSku: "18.04-LTS",
          vmID: "13f56399-bd52-4150-9748-7190aae1ff21",
          virtualMachineSizeType: "Standard_B1s",
          // publicIpAddress answered 404: left out, not "".
          privateIpAddress: "10.0.0.4",
        },
      },
      customIdentifier: "13f56399-bd52-4150-9748-7190aae1ff21.virtual_machine.azure.microsoft.com",
    });
    const azure = fake.requests.filter((r) => r.path.startsWith("/metadata/"));
    assert.equal(azure.length, 1 + 7 + 2 + 1);
    for (const request of azure) {
      assert.equal(request.headers["metadata"], "true", request.path);
      assert.ok(request.path.endsWith("?api-version=2017-04-02&format=text"), request.path);
    }
  });
});

Deno.test("cloud.azure: a transport error skips the rest of its group only", async () => {
  await withFakeMetadata({ azure: { hang: ["compute/osType"] } }, async (fake) => {
    const result = await detectCloud({
      platform: "azurevm",
      source,
      endpoints: fake.endpoints,
      timeoutMs: 150,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {
      cloud: {
        provider: "AzureVM",
        metadata: {
          location: "japaneast",
          imageReferenceOffer: "UbuntuServer",
          privateIpAddress: "10.0.0.4",
        },
      },
      customIdentifier: "13f56399-bd52-4150-9748-7190aae1ff21.virtual_machine.azure.microsoft.com",
    });
  });
});
