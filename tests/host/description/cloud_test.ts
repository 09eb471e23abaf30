import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createSource } from "../../../src/host/source.ts";
import {
  AZURE_BASE_URL,
  type CloudDetection,
  detectCloud,
  EC2_BASE_URL,
  GCE_BASE_URL,
} from "../../../src/host/description/cloud.ts";
import {
  type FakeMetadataOptions,
  startFakeMetadata,
  withFakeMetadata,
} from "../../support/fake_metadata.ts";
import { captureLogs } from "../../support/logs.ts";

const root = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/cloud/${name}`, import.meta.url));
const ec2Host = createSource({ sysfs: root("sys-ec2-xen") });
const otherHost = createSource({ sysfs: root("sys-other") });
const ALL_CLOUDS: FakeMetadataOptions = { ec2: { imds: "v2" }, gce: {}, azure: {} };

/** Paths (without query) the fake received, in order, from request number `from` on. */
const paths = (fake: { requests: readonly { path: string }[] }, from = 0) =>
  fake.requests.slice(from).map((r) => r.path.split("?")[0]);

Deno.test("cloud: upstream's real endpoints are the defaults", () => {
  assert.equal(EC2_BASE_URL, "http://169.254.169.254/latest");
  assert.equal(GCE_BASE_URL, "http://metadata.google.internal./computeMetadata/v1");
  assert.equal(AZURE_BASE_URL, "http://169.254.169.254/metadata/instance");
});

Deno.test("cloud: none asks nothing and gives nothing", async () => {
  await withFakeMetadata(ALL_CLOUDS, async (fake) => {
    const result = await detectCloud({
      platform: "none",
      source: ec2Host,
      endpoints: fake.endpoints,
    });
    assert.deepEqual(result, {});
    assert.deepEqual(fake.requests, []);
  });
});

Deno.test("cloud: auto picks the one platform that answers", async () => {
  const cases: ReadonlyArray<readonly [FakeMetadataOptions, string, string]> = [
    [{ ec2: { imds: "v2" } }, "ec2", "i-4f90d537.ec2.amazonaws.com"],
    [{ gce: {} }, "gce", "4567890123456789123.gce.cloud.google.com"],
    [
      { azure: {} },
      "AzureVM",
      "13f56399-bd52-4150-9748-7190aae1ff21.virtual_machine.azure.microsoft.com",
    ],
  ];
  for (const [options, provider, customIdentifier] of cases) {
    await withFakeMetadata(options, async (fake) => {
      const result = await detectCloud({
        platform: "auto",
        source: ec2Host,
        endpoints: fake.endpoints,
        retryDelayMs: 1,
      });
      assert.equal(result.cloud?.provider, provider);
      assert.equal(result.customIdentifier, customIdentifier);
    });
  }
});

Deno.test("cloud: auto with no platform answering gives nothing", async () => {
  await withFakeMetadata({}, async (fake) => {
    const result = await detectCloud({
      platform: "auto",
      source: ec2Host,
      endpoints: fake.endpoints,
      retryDelayMs: 1,
    });
    assert.deepEqual(result, {});
    // Each 404 is definitive: one request per platform, no retry.
    assert.deepEqual(paths(fake).sort(), [
      "/computeMetadata/v1",
      "/latest/api/token",
      "/latest/meta-data/services/partition",
      "/metadata/instance/compute/vmId",
    ]);
  });
});

Deno.test("cloud: the first positive probe wins and the slower ones are cancelled", async () => {
  // EC2 and GCE never answer; with a 60 s deadline, only cancelling them lets the race end.
  const fake = startFakeMetadata({
    ec2: { imds: "v2", hold: true },
    gce: { hold: true },
    azure: {},
  });
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await Promise.race([
      detectCloud({
        platform: "auto",
        source: ec2Host,
        endpoints: fake.endpoints,
        timeoutMs: 60_000,
      }),
      new Promise<CloudDetection>((_, reject) => {
        guard = setTimeout(() => reject(new Error("the losing probes were not cancelled")), 20_000);
      }),
    ]);
    assert.equal(result.cloud?.provider, "AzureVM");
    // The losers got no further than their held first request (which a loaded machine may not
    // even have sent before Azure won).
    const others = paths(fake).filter((p) => !p.startsWith("/metadata/"));
    for (const path of others) {
      assert.ok(["/computeMetadata/v1", "/latest/api/token"].includes(path), path);
    }
  } finally {
    clearTimeout(guard);
    await fake.close();
  }
});

Deno.test("cloud: an explicit platform is read without probing", async () => {
  await withFakeMetadata(ALL_CLOUDS, async (fake) => {
    // otherHost fails the EC2 pre-check: an explicit `ec2` must not care.
    const ec2 = await detectCloud({
      platform: "ec2",
      source: otherHost,
      endpoints: fake.endpoints,
    });
    assert.equal(ec2.cloud?.provider, "ec2");
    assert.equal(ec2.customIdentifier, "i-4f90d537.ec2.amazonaws.com");
    assert.ok(!paths(fake).includes("/latest/meta-data/services/partition"));
    assert.ok(paths(fake).every((p) => p.startsWith("/latest/")));

    let from = fake.requests.length;
    const gce = await detectCloud({
      platform: "gce",
      source: otherHost,
      endpoints: fake.endpoints,
    });
    assert.equal(gce.cloud?.provider, "gce");
    assert.deepEqual(paths(fake, from), ["/computeMetadata/v1"]);

    from = fake.requests.length;
    const azure = await detectCloud({
      platform: "azurevm",
      source: otherHost,
      endpoints: fake.endpoints,
    });
    assert.equal(azure.cloud?.provider, "AzureVM");
    // vmId twice: once as a metadata key, once for the identifier; a probe would make it three.
    assert.equal(paths(fake, from).filter((p) => p.endsWith("/compute/vmId")).length, 2);
    assert.ok(paths(fake, from).every((p) => p.startsWith("/metadata/")));
  });
});

Deno.test("cloud: an unreadable platform logs upstream's warnings and gives nothing", async () => {
  await withFakeMetadata({}, async (fake) => {
    const { result, lines } = await captureLogs(
      () =>
        detectCloud({
          platform: "gce",
          source: otherHost,
          endpoints: fake.endpoints,
          retryDelayMs: 1,
        }),
      { level: "info" },
    );
    assert.deepEqual(result, {});
    assert.deepEqual(lines, [
      "WARNING <spec> Failed to collect meta in cloud (skip this spec): " +
      "failed to request gce meta. response code: 404",
      "WARNING <spec.cloud> Error while suggesting custom identifier. err: " +
      "failed to request gce meta. response code: 404",
    ]);
  });
});

Deno.test("cloud: a failing EC2 instance-id keeps the meta and drops the identifier", async () => {
  // 4 failures: the metadata read takes one (instance-id → ""), the identifier's 3 attempts the rest.
  await withFakeMetadata({ ec2: { imds: "v1", instanceIdFailures: 4 } }, async (fake) => {
    const { result, lines } = await captureLogs(
      () =>
        detectCloud({
          platform: "ec2",
          source: otherHost,
          endpoints: fake.endpoints,
          retryDelayMs: 1,
        }),
      { level: "info" },
    );
    assert.equal(result?.cloud?.metadata["instance-id"], "");
    assert.equal(result?.cloud?.metadata["instance-type"], "t3.micro");
    assert.equal(result?.customIdentifier, undefined);
    assert.deepEqual(lines, [
      "WARNING <spec.cloud> Error while suggesting custom identifier. err: " +
      "failed to request instance-id. response code: 500",
    ]);
  });
});

Deno.test("cloud: an aborted detection rejects with the abort reason", async () => {
  await withFakeMetadata({ gce: { hold: true } }, async (fake) => {
    const controller = new AbortController();
    const detection = detectCloud({
      platform: "auto",
      source: otherHost,
      endpoints: fake.endpoints,
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    controller.abort(new Error("shutting down"));
    await assert.rejects(detection, { message: "shutting down" });
  });
});

Deno.test("cloud: metadata requests bypass HTTP_PROXY and friends", async () => {
  const fake = startFakeMetadata({ gce: {} });
  const proxied: string[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    proxied.push(request.url);
    return new Response("answered by the proxy", { status: 502 });
  });
  try {
    const proxyUrl = `http://127.0.0.1:${proxy.addr.port}`;
    const module = new URL("../../../src/host/description/cloud.ts", import.meta.url).href;
    const source = new URL("../../../src/host/source.ts", import.meta.url).href;
    const gceUrl = `${fake.endpoints.gce}?recursive=true`;
    // The control request shows the child really has a proxy configured for plain fetch.
    const code = `
      import { detectCloud } from ${JSON.stringify(module)};
      import { createSource } from ${JSON.stringify(source)};
      const control = await fetch(${
      JSON.stringify(gceUrl)
    }, { headers: { "Metadata-Flavor": "Google" } });
      await control.body?.cancel();
      const result = await detectCloud({
        platform: "gce",
        source: createSource({ sysfs: "/nonexistent" }),
        endpoints: { gce: ${JSON.stringify(fake.endpoints.gce)} },
      });
      console.log(JSON.stringify({ control: control.status, result }));
    `;
    const env: Record<string, string> = { NO_PROXY: "", no_proxy: "" };
    for (const name of ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"]) {
      env[name] = proxyUrl;
    }
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-lock", code],
      cwd: fileURLToPath(new URL("../../../", import.meta.url)),
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const report = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(report.control, 502);
    assert.deepEqual(proxied, [gceUrl]);
    assert.equal(report.result.cloud.provider, "gce");
    assert.equal(report.result.customIdentifier, "4567890123456789123.gce.cloud.google.com");
  } finally {
    await proxy.shutdown();
    await fake.close();
  }
});
