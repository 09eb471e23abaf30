import assert from "node:assert/strict";
import { collectGraphDefs } from "../../src/plugins/graph_defs.ts";
import { withLogs } from "../support/logs.ts";
import { metricPlugin } from "../support/plugin_fixtures.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands");

const DICE_DEF = {
  name: "custom.dice",
  displayName: "My Dice",
  unit: "integer",
  metrics: [
    { name: "custom.dice.d6", displayName: "Die (d6)", isStacked: false },
    { name: "custom.dice.d20", displayName: "Die (d20)", isStacked: false },
  ],
};

unix.test("graph_defs: meta output of every plugin becomes graph definitions", async () => {
  await withLogs(async (lines) => {
    const defs = await collectGraphDefs([
      metricPlugin("dice", "dice.sh"),
      metricPlugin("none", "runtime/meta_none.sh"),
      metricPlugin("bad", "runtime/meta_bad_json.sh"),
      metricPlugin("v2", "runtime/meta_version.sh"),
      metricPlugin("stacked", "runtime/meta_stacked.sh"),
    ], { maxConcurrent: 2 });
    assert.deepEqual(defs, [
      DICE_DEF,
      {
        name: "custom.traffic",
        displayName: "Traffic",
        unit: "bytes/sec",
        metrics: [
          { name: "custom.traffic.in", displayName: "In", isStacked: true },
          { name: "custom.traffic.out", displayName: "Out", isStacked: true },
        ],
      },
      {
        name: "custom.misc",
        unit: "float",
        metrics: [{ name: "custom.misc.*", isStacked: false }],
      },
    ]);
    assert.deepEqual(lines.filter((l) => l.includes("<metrics.plugin>")).sort(), [
      "DEBUG <metrics.plugin> plugin none has no graph definitions: " +
      'bad format of first line: "plain.value\\t1\\t0\\n"',
      "DEBUG <metrics.plugin> plugin v2 has no graph definitions: " +
      'unsupported plugin meta version: "2"',
      "ERROR <metrics.plugin> Failed to fetch meta information from plugin bad; " +
      "seems that the plugin has a bug: while reading plugin configuration: unexpected EOF",
    ]);
  });
});

unix.test("graph_defs: a plugin that fails to run is logged with its exit and stderr", async () => {
  await withLogs(async (lines) => {
    const defs = await collectGraphDefs([{
      name: "slow",
      command: { kind: "shell", line: "echo partial >&2; sleep 30" },
      env: [],
      timeoutSeconds: 1,
      usePluginTimestamp: false,
    }]);
    assert.deepEqual(defs, []);
    assert.deepEqual(lines.filter((l) => l.includes("<metrics.plugin>")), [
      "ERROR <metrics.plugin> Failed to fetch meta information from plugin slow; " +
      "seems that the plugin has a bug: running echo partial >&2; sleep 30 failed: " +
      'command timed out, exit=143 stderr="partial\\n"',
    ]);
  });
});
