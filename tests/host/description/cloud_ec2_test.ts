import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createSource } from "../../../src/host/source.ts";
import { detectCloud } from "../../../src/host/description/cloud.ts";
import {
  createEC2Provider,
  EC2_METADATA_KEYS,
  isEC2UUID,
  looksLikeEC2,
} from "../../../src/host/description/cloud/ec2.ts";
import { createMetadataHttp } from "../../../src/host/description/cloud/http.ts";
import {
  FAKE_EC2_TOKEN,
  type FakeEc2Options,
  type FakeMetadata,
  withFakeMetadata,
} from "../../support/fake_metadata.ts";
import { onLinux } from "../../support/platform.ts";

const linux = onLinux("the EC2 pre-check (sysfs UUID) is Linux's");

const fixture = (name: string) =>
  createSource({ sysfs: fileURLToPath(new URL(`../../fixtures/cloud/${name}`, import.meta.url)) });

const EXPECTED_METADATA = {
  "instance-id": "i-4f90d537",
  "instance-type": "t3.micro",
  "placement/availability-zone": "ap-northeast-1a",
  "security-groups": "default\nweb",
  "ami-id": "ami-0abcdef1234567890",
  "hostname": "ip-172-31-5-9.ap-northeast-1.compute.internal",
  "local-hostname": "ip-172-31-5-9.ap-northeast-1.compute.internal",
  "public-hostname": "",
  "local-ipv4": "172.31.5.9",
  "public-ipv4": "",
  "reservation-id": "r-0123456789abcdef0",
};

/** Runs `body` against a fake metadata service that answers as EC2 only. */
const withFake = (ec2: FakeEc2Options, body: (fake: FakeMetadata) => Promise<void>) =>
  withFakeMetadata({ ec2 }, body);

Deno.test("cloud.ec2: isEC2UUID follows upstream's table, little-endian form included", () => {
  const table: ReadonlyArray<readonly [string, boolean]> = [
    ["ec2e1916-9099-7caf-fd21-01234abcdef", true],
    ["EC2E1916-9099-7CAF-FD21-01234ABCDEF", true],
    ["45e12aec-dcd1-b213-94ed-01234abcdef", true],
    ["45E12AEC-DCD1-B213-94ED-01234ABCDEF", true],
    ["abcd1916-9099-7caf-fd21-01234abcdef", false],
    ["ABCD1916-9099-7CAF-FD21-01234ABCDEF", false],
    ["", false],
    // Go prints %x without padding: 0x0ec2ffff reads "ec2ffff".
    ["ffffc20e-0000-0000-0000-000000000000", true],
    // Fewer than 4 decodable bytes leave the value 0.
    ["45e12a-dcd1-b213-94ed-01234abcdef", false],
    ["Ec2e1916-9099-7caf-fd21-01234abcdef", false],
  ];
  for (const [uuid, expected] of table) assert.equal(isEC2UUID(uuid), expected, uuid);
});

Deno.test("cloud.ec2: the pre-check accepts either UUID file and rejects others", async () => {
  assert.equal(await looksLikeEC2(fixture("sys-ec2-xen")), true);
  assert.equal(await looksLikeEC2(fixture("sys-ec2-nitro")), true);
  assert.equal(await looksLikeEC2(fixture("sys-other")), false);
  assert.equal(await looksLikeEC2(fixture("no-such-root")), false);
});

Deno.test("cloud.ec2: IMDSv2 sends the token PUT with its TTL and the token on every GET", async () => {
  await withFake({ imds: "v2" }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source: fixture("sys-ec2-xen"),
      endpoints: fake.endpoints,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {
      cloud: { provider: "ec2", metadata: EXPECTED_METADATA },
      customIdentifier: "i-4f90d537.ec2.amazonaws.com",
    });
    const ec2 = fake.requests.filter((r) => r.path.startsWith("/latest/"));
    assert.deepEqual(ec2.map((r) => `${r.method} ${r.path}`), [
      "PUT /latest/api/token",
      "GET /latest/meta-data/services/partition",
      ...EC2_METADATA_KEYS.map((key) => `GET /latest/meta-data/${key}`),
      "GET /latest/meta-data/instance-id",
    ]);
    assert.equal(ec2[0].headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
    for (const request of ec2.slice(1)) {
      assert.equal(request.headers["x-aws-ec2-metadata-token"], FAKE_EC2_TOKEN, request.path);
    }
  });
});

Deno.test("cloud.ec2: a refused token falls back to IMDSv1 without a token header", async () => {
  await withFake({ imds: "v1" }, async (fake) => {
    const result = await detectCloud({
      platform: "ec2",
      source: fixture("sys-other"),
      endpoints: fake.endpoints,
    });
    assert.deepEqual(result, {
      cloud: { provider: "ec2", metadata: EXPECTED_METADATA },
      customIdentifier: "i-4f90d537.ec2.amazonaws.com",
    });
    // One token attempt, then plain GETs: the fallback is remembered, not retried per key.
    assert.equal(fake.requests.filter((r) => r.method === "PUT").length, 1);
    const gets = fake.requests.filter((r) => r.method === "GET");
    assert.equal(gets.length, EC2_METADATA_KEYS.length + 1);
    for (const request of gets) {
      assert.equal(request.headers["x-aws-ec2-metadata-token"], undefined, request.path);
    }
  });
});

Deno.test("cloud.ec2: the custom identifier is retried 3 times on any failure", async () => {
  for (const [failures, expected] of [[0, true], [1, true], [2, true], [3, false]] as const) {
    await withFake({ imds: "v1", instanceIdFailures: failures }, async (fake) => {
      const http = createMetadataHttp({ timeoutMs: 3000 });
      try {
        const provider = createEC2Provider({ baseUrl: fake.endpoints.ec2, http, retryDelayMs: 1 });
        const suggestion = provider.suggestCustomIdentifier();
        if (expected) {
          assert.equal(await suggestion, "i-4f90d537.ec2.amazonaws.com");
        } else {
          await assert.rejects(suggestion, {
            message: "failed to request instance-id. response code: 500",
          });
        }
        const attempts = fake.requests.filter((r) => r.path === "/latest/meta-data/instance-id");
        assert.equal(attempts.length, Math.min(failures + 1, 3), `failures=${failures}`);
      } finally {
        http.close();
      }
    });
  }
});

Deno.test("cloud.ec2: the probe retries transport errors and then succeeds", async () => {
  await withFake({ imds: "v1", partitionHangs: 2 }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source: fixture("sys-ec2-nitro"),
      endpoints: fake.endpoints,
      timeoutMs: 150,
      retryDelayMs: 1,
    });
    assert.equal(result.cloud?.provider, "ec2");
    const probes = fake.requests.filter((r) => r.path === "/latest/meta-data/services/partition");
    assert.equal(probes.length, 3);
  });
});

Deno.test("cloud.ec2: three transport errors on the probe mean no cloud", async () => {
  await withFake({ imds: "v1", partitionHangs: 3 }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source: fixture("sys-ec2-nitro"),
      endpoints: fake.endpoints,
      timeoutMs: 150,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {});
    const probes = fake.requests.filter((r) => r.path === "/latest/meta-data/services/partition");
    assert.equal(probes.length, 3);
  });
});

Deno.test("cloud.ec2: a non-200 partition is a definitive no, not retried", async () => {
  await withFake({ imds: "v1", partitionStatus: 404 }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source: fixture("sys-ec2-xen"),
      endpoints: fake.endpoints,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {});
    const probes = fake.requests.filter((r) => r.path === "/latest/meta-data/services/partition");
    assert.equal(probes.length, 1);
  });
});

Deno.test("cloud.ec2: a partition that does not start with aws is not EC2", async () => {
  const metadata = { "services/partition": "openstack", "instance-id": "i-1" };
  await withFake({ imds: "v1", metadata }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source: fixture("sys-ec2-xen"),
      endpoints: fake.endpoints,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {});
  });
  const china = { "services/partition": "aws-cn", "instance-id": "i-2" };
  await withFake({ imds: "v2", metadata: china }, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source: fixture("sys-ec2-xen"),
      endpoints: fake.endpoints,
      retryDelayMs: 1,
    });
    assert.equal(result.customIdentifier, "i-2.ec2.amazonaws.com");
  });
});

linux.test("cloud.ec2: a pre-check that fails sends no EC2 request at all", async () => {
  for (const root of ["sys-other", "no-such-root"]) {
    await withFake({ imds: "v1" }, async (fake) => {
      const result = await detectCloud({
        platform: "auto",
        source: fixture(root),
        endpoints: fake.endpoints,
        retryDelayMs: 1,
      });
      assert.deepEqual(result, {});
      // GCE and Azure were asked (and said 404); EC2, which would have answered, was not.
      assert.deepEqual(fake.requests.map((r) => r.path.split("?")[0]).sort(), [
        "/computeMetadata/v1",
        "/metadata/instance/compute/vmId",
      ]);
    });
  }
});
