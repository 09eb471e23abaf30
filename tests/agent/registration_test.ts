import assert from "node:assert/strict";
import { join } from "node:path";
import type { Clock } from "../../src/async/clock.ts";
import {
  prepareHost,
  type PrepareOptions,
  type RegisteredHost,
  RegistrationError,
} from "../../src/agent/registration.ts";
import type { MackerelClient } from "../../src/mackerel/client.ts";
import type { HostPayload } from "../../src/mackerel/types.ts";
import { withApi as withFakeApi } from "../support/api_client.ts";
import type { FakeHost, FakeMackerel } from "../support/fake_mackerel.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";

const PAYLOAD: HostPayload = {
  name: "web01",
  meta: {
    "agent-revision": "abc1234",
    "agent-version": "0.1.0",
    "agent-name": "mackerel-agent/0.1.0 (Revision abc1234)",
  },
  interfaces: [{ name: "eth0", ipv4Addresses: ["10.0.0.5"], ipv6Addresses: [], macAddress: "" }],
  roleFullnames: ["service:role"],
  checks: [],
};

const CI_QUERY = "customIdentifier=i-0123abcd&status=working&status=standby&status=maintenance" +
  "&status=poweroff";

interface Harness {
  readonly fake: FakeMackerel;
  readonly client: MackerelClient;
  /** `<temp>/root`, not created: registration must create it. */
  readonly root: string;
  /** The waits retries asked for; the test clock returns at once. */
  readonly sleeps: number[];
  readonly logs: string[];
  prepare(options?: Partial<PrepareOptions>): ReturnType<typeof prepareHost>;
  /** `METHOD path` of every request the fake saw. */
  calls(): string[];
}

/** Runs `fn` against the real client and a fake API holding `hosts`, with a temp root. */
function withApi(
  hosts: readonly (Partial<FakeHost> & { readonly id: string })[],
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
  return withTempDir("registration_test_", (dir) => {
    const root = join(dir, "root");
    const run = (fake: FakeMackerel, client: MackerelClient) =>
      withLogs((logs) =>
        fn({
          fake,
          client,
          root,
          sleeps,
          logs,
          prepare: (options) =>
            prepareHost({ api: client, root, payload: PAYLOAD, onStart: "", clock, ...options }),
          calls: () => fake.requests.map((r) => `${r.method} ${r.path}`),
        })
      );
    return withFakeApi(run, { hosts });
  });
}

/** The fields registration reads, to compare with exact values. */
function essentials(host: RegisteredHost) {
  const { id, name, status, customIdentifier } = host;
  return { id, name, status, customIdentifier };
}

async function rootEntries(root: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(root))).map((e) => e.name).sort();
}

async function saveId(root: string, content: string): Promise<void> {
  await Deno.mkdir(root, { recursive: true });
  await Deno.writeTextFile(join(root, "id"), content);
}

Deno.test("registration: no id file → creates the host, finds it, saves its id", async () => {
  await withApi([], async (h) => {
    const host = await h.prepare();
    assert.deepEqual(essentials(host), {
      id: "fake0000001",
      name: "web01",
      status: "working",
      customIdentifier: "",
    });
    assert.deepEqual(h.calls(), ["POST /api/v0/hosts", "GET /api/v0/hosts/fake0000001"]);
    assert.deepEqual(h.fake.requests[0].body, {
      name: "web01",
      meta: PAYLOAD.meta,
      interfaces: PAYLOAD.interfaces,
      roleFullnames: ["service:role"],
      checks: [],
    });
    assert.equal(await Deno.readTextFile(join(h.root, "id")), "fake0000001");
    // Written through a temporary file and a rename: nothing else is left in the root.
    assert.deepEqual(await rootEntries(h.root), ["id"]);
    assert.deepEqual(h.sleeps, []);
  });
});

Deno.test("registration: a saved id → finds the host, creates nothing", async () => {
  await withApi([{ id: "2Xj9fQk7Hn3", name: "web01", status: "standby" }], async (h) => {
    await saveId(h.root, "2Xj9fQk7Hn3\n");
    const host = await h.prepare();
    assert.deepEqual(essentials(host), {
      id: "2Xj9fQk7Hn3",
      name: "web01",
      status: "standby",
      customIdentifier: "",
    });
    assert.deepEqual(h.calls(), ["GET /api/v0/hosts/2Xj9fQk7Hn3"]);
    // An unchanged id is not written again (upstream rewrites it): a read-only root starts too.
    assert.equal(await Deno.readTextFile(join(h.root, "id")), "2Xj9fQk7Hn3\n");
    assert.deepEqual(await rootEntries(h.root), ["id"]);
  });
});

Deno.test("registration: an empty id file counts as none → creates the host", async () => {
  await withApi([], async (h) => {
    await saveId(h.root, "\n");
    const host = await h.prepare();
    assert.equal(host.id, "fake0000001");
    assert.deepEqual(h.calls(), ["POST /api/v0/hosts", "GET /api/v0/hosts/fake0000001"]);
    assert.equal(await Deno.readTextFile(join(h.root, "id")), "fake0000001");
    assert.deepEqual(h.logs, ["WARNING <command> HostIDFile found, but the content is empty"]);
  });
});

Deno.test("registration: a saved id answered 404 fails at once, naming the id file", async () => {
  await withApi([], async (h) => {
    await saveId(h.root, "deletedHost1");
    await assert.rejects(h.prepare(), (error: unknown) => {
      assert.ok(error instanceof RegistrationError);
      assert.equal(
        error.message,
        `failed to prepare host: failed to find this host on mackerel (You may want to delete file "${
          join(h.root, "id")
        }" to register this host to an another organization): API request failed: Host Not Found. (GET /api/v0/hosts/deletedHost1)`,
      );
      return true;
    });
    assert.deepEqual(h.calls(), ["GET /api/v0/hosts/deletedHost1"]);
    assert.deepEqual(h.sleeps, []);
    // The file is left for the operator to delete.
    assert.equal(await Deno.readTextFile(join(h.root, "id")), "deletedHost1");
  });
});

Deno.test("registration: 403 on create fails at once (TestPrepareWithCreateWithFail)", async () => {
  await withApi([], async (h) => {
    h.fake.failNext(1, 403, "Authentication failed.");
    await assert.rejects(
      h.prepare(),
      new RegistrationError(
        "failed to register this host: API request failed: Authentication failed. " +
          "(POST /api/v0/hosts)",
      ),
    );
    assert.deepEqual(h.calls(), ["POST /api/v0/hosts"]);
    assert.deepEqual(h.sleeps, []);
    await assert.rejects(Deno.stat(join(h.root, "id")), Deno.errors.NotFound);
  });
});

Deno.test("registration: 500 twice, then the create succeeds after two waits", async () => {
  await withApi([], async (h) => {
    h.fake.failNext(2, 500);
    const host = await h.prepare({ retryDelayMs: 7 });
    assert.equal(host.id, "fake0000001");
    assert.deepEqual(h.calls(), [
      "POST /api/v0/hosts",
      "POST /api/v0/hosts",
      "POST /api/v0/hosts",
      "GET /api/v0/hosts/fake0000001",
    ]);
    assert.deepEqual(h.fake.requests.map((r) => r.status), [500, 500, 200, 200]);
    assert.deepEqual(h.sleeps, [7, 7]);
    const retrying =
      "WARNING <command> API request failed: fake failure 500 (POST /api/v0/hosts); retrying";
    assert.deepEqual(h.logs, [retrying, retrying]);
    assert.equal(await Deno.readTextFile(join(h.root, "id")), "fake0000001");
  });
});

Deno.test("registration: a create failing with 5xx gives up after 20 attempts 3 s apart", async () => {
  await withApi([], async (h) => {
    h.fake.failWhile(() => true, 503);
    await assert.rejects(
      h.prepare(),
      new RegistrationError(
        "failed to register this host: API request failed: fake failure 503 (POST /api/v0/hosts)",
      ),
    );
    assert.deepEqual(h.calls(), Array(20).fill("POST /api/v0/hosts"));
    assert.deepEqual(h.sleeps, Array(19).fill(3000));
  });
});

Deno.test("registration: a host found by its custom identifier is adopted, not created", async () => {
  const hosts = [
    { id: "otherHost", customIdentifier: "i-ffff" },
    { id: "cloudHost1", name: "ip-10-0-0-5", status: "standby", customIdentifier: "i-0123abcd" },
  ];
  await withApi(hosts, async (h) => {
    const host = await h.prepare({ payload: { ...PAYLOAD, customIdentifier: "i-0123abcd" } });
    assert.deepEqual(essentials(host), {
      id: "cloudHost1",
      name: "ip-10-0-0-5",
      status: "standby",
      customIdentifier: "i-0123abcd",
    });
    assert.deepEqual(h.calls(), ["GET /api/v0/hosts"]);
    assert.equal(h.fake.requests[0].query, CI_QUERY);
    assert.equal(await Deno.readTextFile(join(h.root, "id")), "cloudHost1");
  });
});

Deno.test("registration: an unknown custom identifier → the host is created with it", async () => {
  await withApi([], async (h) => {
    const host = await h.prepare({ payload: { ...PAYLOAD, customIdentifier: "i-0123abcd" } });
    assert.equal(host.id, "fake0000001");
    assert.equal(host.customIdentifier, "i-0123abcd");
    assert.deepEqual(h.calls(), [
      "GET /api/v0/hosts",
      "POST /api/v0/hosts",
      "GET /api/v0/hosts/fake0000001",
    ]);
    assert.equal((h.fake.requests[1].body as HostPayload).customIdentifier, "i-0123abcd");
  });
});

Deno.test("registration: a failing custom-identifier lookup is tried 3 × 2 s, then the host is created", async () => {
  await withApi([], async (h) => {
    h.fake.failNext(3, 500);
    const host = await h.prepare({ payload: { ...PAYLOAD, customIdentifier: "i-0123abcd" } });
    assert.equal(host.id, "fake0000001");
    assert.deepEqual(h.calls(), [
      "GET /api/v0/hosts",
      "GET /api/v0/hosts",
      "GET /api/v0/hosts",
      "POST /api/v0/hosts",
      "GET /api/v0/hosts/fake0000001",
    ]);
    assert.deepEqual(h.sleeps, [2000, 2000]);
  });
});

Deno.test("registration: a saved id whose host has another custom identifier is refused", async () => {
  await withApi([{ id: "copiedHost", customIdentifier: "i-ffff" }], async (h) => {
    await saveId(h.root, "copiedHost");
    const idFile = join(h.root, "id");
    await assert.rejects(
      h.prepare({ payload: { ...PAYLOAD, customIdentifier: "i-0123abcd" } }),
      new RegistrationError(
        `custom identifiers mismatch: this host = "i-0123abcd", the host whose id is "copiedHost" ` +
          `on mackerel.io = "i-ffff" (File "${idFile}" may be copied from another host. ` +
          "Try deleting it and restarting agent)",
      ),
    );
    // Also when this host has no custom identifier at all (cloud_platform = "none").
    await assert.rejects(
      h.prepare(),
      new RegistrationError(
        `custom identifiers mismatch: this host = "", the host whose id is "copiedHost" ` +
          `on mackerel.io = "i-ffff" (File "${idFile}" may be copied from another host. ` +
          "Try deleting it and restarting agent)",
      ),
    );
    assert.deepEqual(h.calls(), ["GET /api/v0/hosts/copiedHost", "GET /api/v0/hosts/copiedHost"]);
  });
});

Deno.test("registration: a saved id whose host has the same custom identifier is accepted", async () => {
  await withApi([{ id: "cloudHost1", customIdentifier: "i-0123abcd" }], async (h) => {
    await saveId(h.root, "cloudHost1");
    const host = await h.prepare({ payload: { ...PAYLOAD, customIdentifier: "i-0123abcd" } });
    assert.equal(host.id, "cloudHost1");
    assert.deepEqual(h.calls(), ["GET /api/v0/hosts/cloudHost1"]);
  });
});

Deno.test("registration: on_start differing from the host's status is posted", async () => {
  await withApi([{ id: "2Xj9fQk7Hn3", status: "standby" }], async (h) => {
    await saveId(h.root, "2Xj9fQk7Hn3");
    await h.prepare({ onStart: "working" });
    assert.deepEqual(h.calls(), [
      "GET /api/v0/hosts/2Xj9fQk7Hn3",
      "POST /api/v0/hosts/2Xj9fQk7Hn3/status",
    ]);
    assert.deepEqual(h.fake.requests[1].body, { status: "working" });
    assert.equal(h.fake.hosts.get("2Xj9fQk7Hn3")?.status, "working");
  });
});

Deno.test("registration: on_start equal to the host's status, or empty, posts nothing", async () => {
  await withApi([{ id: "2Xj9fQk7Hn3", status: "maintenance" }], async (h) => {
    await saveId(h.root, "2Xj9fQk7Hn3");
    await h.prepare({ onStart: "maintenance" });
    await h.prepare({ onStart: "" });
    assert.deepEqual(h.calls(), ["GET /api/v0/hosts/2Xj9fQk7Hn3", "GET /api/v0/hosts/2Xj9fQk7Hn3"]);
  });
});

Deno.test("registration: a failing on_start status update is fatal", async () => {
  await withApi([{ id: "2Xj9fQk7Hn3", status: "standby" }], async (h) => {
    await saveId(h.root, "2Xj9fQk7Hn3");
    h.fake.failWhile((r) => r.path.endsWith("/status"), 400);
    await assert.rejects(
      h.prepare({ onStart: "working" }),
      new RegistrationError(
        "failed to set default host status: working, API request failed: fake failure 400 " +
          "(POST /api/v0/hosts/2Xj9fQk7Hn3/status)",
      ),
    );
    assert.deepEqual(h.sleeps, []);
  });
});

Deno.test({
  name: "registration: an unreadable id file fails as a registration error ",
  fn: async () => {
    await withApi([], async (h) => {
      // The root is a regular file: reading <root>/id fails with ENOTDIR, not NotFound.
      await Deno.writeTextFile(h.root, "");
      await assert.rejects(h.prepare(), (error: unknown) => {
        assert.ok(error instanceof RegistrationError, String(error));
        assert.ok(error.message.includes(join(h.root, "id")), error.message);
        return true;
      });
      assert.deepEqual(h.calls(), []);
    });
  },
});
