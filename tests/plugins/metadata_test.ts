import { NEVER_ABORTS } from "../../src/async/abort.ts";
import assert from "node:assert/strict";
import type { MetadataPluginConfig } from "../../src/config/schema.ts";
import { createOutbox } from "../../src/delivery/outbox.ts";
import { openSpool } from "../../src/delivery/spool.ts";
import { clearMetadataCache, metadataCachePath, runMetadata } from "../../src/plugins/metadata.ts";
import { withApi } from "../support/api_client.ts";
import type { FakeMackerel } from "../support/fake_mackerel.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { createVirtualClock, type VirtualClock } from "../support/virtual_clock.ts";
import { waitFor } from "../support/wait.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands; Unix cache paths");

const RUNTIME = new URL("../fixtures/plugins/runtime/", import.meta.url).pathname;
const START = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;

function plugin(name: string, line: string, env: string[] = []): MetadataPluginConfig {
  return {
    name,
    command: { kind: "shell", line },
    env,
    timeoutSeconds: 10,
    executionIntervalMinutes: 10,
  };
}

interface Harness {
  readonly fake: FakeMackerel;
  readonly clock: VirtualClock;
  readonly dir: string;
  readonly lines: string[];
  /** Advances virtual time, then waits until every loop sleeps again (no plugin or PUT running). */
  step(ms: number): Promise<void>;
  /** The metadata PUT requests: [namespace, status, raw body]. */
  puts(): [string, number, string][];
}

/**
 * Runs the metadata loop and an outbox (over a memory spool) on a virtual clock against the fake
 * API, with the agent's MACKEREL_PLUGIN_WORKDIR in a temp dir; `plugins` receives that dir.
 * Resolves to the PUTs made by the end, after the stop.
 */
function withMetadata(
  plugins: (dir: string) => MetadataPluginConfig[],
  fn: (h: Harness) => Promise<void>,
): Promise<[string, number, string][]> {
  return withLogs((lines) =>
    withTempDir("metadata_test", (dir) =>
      withApi(async (fake, client) => {
        const clock = createVirtualClock(START);
        const controller = new AbortController();
        const configs = plugins(dir);
        const env = { MACKEREL_PLUGIN_WORKDIR: dir };
        const { spool } = await openSpool({ maxBytes: 1 << 30, maxAgeMs: 24 * 60 * MINUTE });
        const outbox = createOutbox({
          spool,
          client,
          postDelaySeconds: 0,
          minuteMs: MINUTE,
          clock,
          checkCount: 0,
          onMetadataRefused: (ns) => clearMetadataCache(configs, ns, env),
        });
        const producing = runMetadata({
          plugins: configs,
          sink: outbox,
          hostId: "host1",
          clock,
          minuteMs: MINUTE,
          signal: controller.signal,
          env,
        });
        // As the daemon's plugin loops do: no graph definitions, so the first post need not wait.
        await outbox.putGraphDefs([]);
        const producersDone = new AbortController();
        const done = Promise.all([
          producing.finally(() => producersDone.abort()),
          outbox.run(producersDone.signal, NEVER_ABORTS),
        ]);
        // Each plugin, the check sender and the state sender sleep on a timer of their own.
        const idle = () =>
          waitFor(() => clock.pending === configs.length + 2, "the loops to sleep");
        const puts = (): [string, number, string][] =>
          fake.requests.filter((r) => r.method === "PUT").map((r) => [
            r.path.replace("/api/v0/hosts/host1/metadata/", ""),
            r.status,
            r.rawBody,
          ]);
        try {
          await clock.advance(0); // the post loop's initial delay (0 s here) passes
          await idle();
          await fn({
            fake,
            clock,
            dir,
            lines,
            async step(ms) {
              await clock.advance(ms);
              await idle();
            },
            puts,
          });
          controller.abort();
          await done;
          return puts();
        } finally {
          controller.abort();
          await done.catch(() => {});
        }
      }, { hosts: [{ id: "host1" }] }))
  );
}

/** A sequence.sh plugin playing `outputs` (JSON lines, exit 0), one per run. */
function sequencePlugin(dir: string, name: string, outputs: string[], env: string[] = []) {
  const file = `${dir}/${name}.seq`;
  Deno.writeTextFileSync(file, outputs.map((o) => `0 ${o}\n`).join(""));
  return plugin(name, RUNTIME + "sequence.sh", [`SEQ_FILE=${file}`, ...env]);
}

const readOrNull = (path: string) => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
};

unix.test("metadata: first run after 10 s, PUT at the minute, only when changed", async () => {
  await withMetadata(
    (dir) => [sequencePlugin(dir, "inventory", [
      '{"b": [1, 2], "a": "x<y"}',
      '{ "a" : "x<y",   "b" : [1,2] }',
      '{"a": 2}',
    ])],
    async (h) => {
      const cache = `${h.dir}/mackerel-metadata/inventory`;
      await h.step(10_000 - 1);
      assert.equal(readOrNull(cache), null);
      await h.step(1);
      assert.equal(readOrNull(cache), '{"a":"x\\u003cy","b":[1,2]}');
      assert.deepEqual(h.puts(), []);
      await h.step(50_000);
      assert.deepEqual(h.puts(), [["inventory", 200, '{"a":"x\\u003cy","b":[1,2]}\n']]);
      assert.deepEqual(h.fake.metadata.get("host1/inventory"), { a: "x<y", b: [1, 2] });

      // 10 minutes after the start: the same value, formatted differently.
      await h.step(9 * MINUTE);
      assert.ok(
        h.lines.includes('DEBUG <metadata> metadata plugin "inventory": metadata does not change'),
      );
      await h.step(MINUTE);
      assert.equal(h.puts().length, 1);

      // 20 minutes: a new value.
      await h.step(9 * MINUTE);
      assert.equal(readOrNull(cache), '{"a":2}');
      await h.step(MINUTE);
      assert.deepEqual(h.puts().slice(1), [["inventory", 200, '{"a":2}\n']]);
      assert.equal(Deno.readTextFileSync(`${h.dir}/inventory.seq.count`), "3\n");
    },
  );
});

unix.test("metadata: a 5xx PUT is retried next minute, a 4xx drops the value and its cache", async () => {
  await withMetadata(
    (dir) => [sequencePlugin(dir, "ns", ['{"v": 1}', '{"v": 2}', '{"v": 2}'])],
    async (h) => {
      const cache = `${h.dir}/mackerel-metadata/ns`;
      h.fake.failNext(1, 503);
      await h.step(10_000);
      await h.step(50_000);
      await h.step(MINUTE);
      assert.deepEqual(h.puts(), [["ns", 503, '{"v":1}\n'], ["ns", 200, '{"v":1}\n']]);

      await h.step(8 * MINUTE); // the run at 10 minutes
      h.fake.failNext(1, 400);
      await h.step(MINUTE);
      assert.deepEqual(h.puts().slice(2), [["ns", 400, '{"v":2}\n']]);
      assert.equal(readOrNull(cache), null);

      // Unchanged output, but the failed value was forgotten: sent again.
      await h.step(9 * MINUTE);
      await h.step(MINUTE);
      assert.deepEqual(h.puts().slice(3), [["ns", 200, '{"v":2}\n']]);
      assert.equal(readOrNull(cache), '{"v":2}');
      assert.deepEqual(h.lines.filter((l) => l.startsWith("ERROR <command>")), [
        'ERROR <command> put metadata "ns" failed (will retry next minute): ' +
        "API request failed: fake failure 503 (PUT /api/v0/hosts/host1/metadata/ns)",
        'ERROR <command> put metadata "ns" was refused, dropped: ' +
        "API request failed: fake failure 400 (PUT /api/v0/hosts/host1/metadata/ns)",
      ]);
    },
  );
});

unix.test("metadata: the cache of an earlier run prevents re-sending an unchanged value", async () => {
  await withMetadata(
    (dir) => {
      const own = `${dir}/own`;
      Deno.mkdirSync(own);
      Deno.writeTextFileSync(`${own}/mackerel-plugin-metadata-same`, '{"a":1}');
      Deno.mkdirSync(`${dir}/mackerel-metadata`);
      Deno.writeTextFileSync(`${dir}/mackerel-metadata/broken`, "{not json");
      return [
        sequencePlugin(dir, "same", ['{ "a": 1 }'], [`MACKEREL_PLUGIN_WORKDIR=${own}`]),
        sequencePlugin(dir, "broken", ['{"a": 1}']),
      ];
    },
    async (h) => {
      await h.step(10_000);
      await h.step(50_000);
      assert.deepEqual(h.puts(), [["broken", 200, '{"a":1}\n']]);
      assert.equal(readOrNull(`${h.dir}/mackerel-metadata/broken`), '{"a":1}');
      assert.deepEqual(h.lines.filter((l) => l.includes("<metadata>")).sort(), [
        'DEBUG <metadata> metadata plugin "same": metadata does not change',
        'WARNING <metadata> metadata plugin "broken" detected a invalid json in the cache file: ' +
        "{not json",
      ]);
    },
  );
});

unix.test("metadata: too large, invalid or failing output is not sent", async () => {
  await withMetadata(
    () => [
      plugin("big", RUNTIME + "metadata_big.sh"),
      plugin("text", "echo not json"),
      plugin("empty", "true"),
      plugin("fails", 'echo "{}"; echo bad >&2; exit 3'),
    ],
    async (h) => {
      await h.step(10_000);
      await h.step(50_000);
      assert.deepEqual(h.puts(), []);
      assert.equal(readOrNull(`${h.dir}/mackerel-metadata/big`), null);
      assert.deepEqual(h.lines.filter((l) => l.includes("<metadata>")).sort(), [
        'WARNING <metadata> metadata plugin "big": the metadata is 110010 bytes, ' +
        "more than the 102400 bytes Mackerel accepts; not sent",
        'WARNING <metadata> metadata plugin "empty": outputs invalid JSON: ',
        'WARNING <metadata> metadata plugin "fails" outputs stderr: bad\\n',
        'WARNING <metadata> metadata plugin "fails": exits with: 3',
        'WARNING <metadata> metadata plugin "text": outputs invalid JSON: not json\\n',
      ]);
    },
  );
});

unix.test("metadata: stop puts what is queued once more", async () => {
  const afterStop = await withMetadata(
    (dir) => [sequencePlugin(dir, "last", ['"final"'])],
    async (h) => {
      await h.step(10_000);
      assert.deepEqual(h.puts(), []);
    },
  );
  assert.deepEqual(afterStop, [["last", 200, '"final"\n']]);
});

unix.test("metadata: cache paths follow MACKEREL_PLUGIN_WORKDIR, then TMPDIR, then /tmp", () => {
  assert.equal(
    metadataCachePath("ns", ["A=1", "MACKEREL_PLUGIN_WORKDIR=/var/tmp/own"], {
      MACKEREL_PLUGIN_WORKDIR: "/var/tmp/agent",
    }),
    "/var/tmp/own/mackerel-plugin-metadata-ns",
  );
  assert.equal(
    metadataCachePath("ns", [], { MACKEREL_PLUGIN_WORKDIR: "/var/tmp/agent", TMPDIR: "/t" }),
    "/var/tmp/agent/mackerel-metadata/ns",
  );
  assert.equal(metadataCachePath("ns", [], { TMPDIR: "/t" }), "/t/mackerel-metadata/ns");
  assert.equal(
    metadataCachePath("ns", ["MACKEREL_PLUGIN_WORKDIR="], {}),
    "/tmp/mackerel-metadata/ns",
  );
});
