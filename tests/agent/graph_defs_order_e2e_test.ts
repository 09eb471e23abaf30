/**
 * End-to-end: graph definitions reach the API before the first metrics, in upstream's order
 * (docs/upstream.md, "Per-host post delay").
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { daemonArgs, spawnAgent, waitFor } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { withTempDir } from "../support/temp_dir.ts";

const PLUGINS = new URL("../fixtures/plugins/", import.meta.url).pathname;

Deno.test("graph defs: posted before the first metrics, as upstream", async () => {
  await withTempDir("graphdefs-order-", async (dir) => {
    const api = await startFakeMackerel();
    try {
      // A plugin whose meta run takes a while: the first round is queued long before its
      // graph definitions are known.
      await Deno.writeTextFile(
        join(dir, "agent.conf"),
        `cloud_platform = "none"\n[plugin.metrics.dice]\n` +
          `command = "sleep 0.5; exec ${PLUGINS}dice.sh"\n`,
      );
      const agent = spawnAgent([...daemonArgs(dir, api), "-interval=1"]);
      try {
        await waitFor(
          () => api.metrics().some((p) => p.name === "custom.dice.d6"),
          "the plugin's metrics",
        );
      } finally {
        agent.kill("SIGTERM");
      }
      assert.equal(await agent.exited, 0, agent.stderr());
      const calls = api.requests.map((r) =>
        `${r.method} ${r.path.replace(/\/[\w-]{11}$/, "/<id>")}`
      );
      const first = (call: string) => calls.indexOf(call);
      assert.ok(first("POST /api/v0/graph-defs/create") >= 0, calls.join("\n"));
      assert.ok(
        first("POST /api/v0/graph-defs/create") < first("POST /api/v0/tsdb"),
        calls.join("\n"),
      );
      assert.deepEqual(api.violations, []);
    } finally {
      await api.close();
    }
  });
});
