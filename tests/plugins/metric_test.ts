import assert from "node:assert/strict";
import {
  listCustomIdentifiers,
  resolveCustomIdentifiers,
} from "../../src/plugins/custom_identifiers.ts";
import { createMetricPlugins } from "../../src/plugins/metric.ts";
import { withApi } from "../support/api_client.ts";
import { withLogs } from "../support/logs.ts";
import { isRunning } from "../support/pids.ts";
import { metricPlugin, PLUGIN_FIXTURES } from "../support/plugin_fixtures.ts";
import { onLinux, onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands");

const linux = onLinux("util-linux setsid puts a plugin in a process group of its own");

unix.test("metric: a dice plugin's values come under custom.", async () => {
  const plugins = createMetricPlugins({ plugins: [metricPlugin("dice", "dice.sh")] });
  assert.deepEqual(await plugins.collect(), [{
    values: [{ name: "custom.dice.d6", value: 3 }, { name: "custom.dice.d20", value: 17 }],
  }]);
});

unix.test("metric: MACKEREL_AGENT_PLUGIN_META is set and empty during rounds", async () => {
  const plugins = createMetricPlugins({ plugins: [metricPlugin("env", "runtime/meta_env.sh")] });
  assert.deepEqual(await plugins.collect(), [{
    values: [{ name: "custom.meta.set", value: 1 }, { name: "custom.meta.length", value: 0 }],
  }]);
});

unix.test("metric: include_pattern and exclude_pattern filter the raw keys", async () => {
  const plugins = createMetricPlugins({
    plugins: [
      metricPlugin("include", "dice.sh", { includePattern: /^dice\.d6/ }),
      metricPlugin("exclude", "dice.sh", { excludePattern: /^dice\.d20/, customIdentifier: "ex" }),
      metricPlugin("both", "dice.sh", {
        includePattern: /^dice\.d20/,
        excludePattern: /^dice\.d20/,
        customIdentifier: "both",
      }),
    ],
  });
  assert.deepEqual(await plugins.collect(), [
    { values: [{ name: "custom.dice.d6", value: 3 }] },
    { customIdentifier: "ex", values: [{ name: "custom.dice.d6", value: 3 }] },
  ]);
});

unix.test("metric: plugins sharing a custom identifier are merged, in config order", async () => {
  const plugins = createMetricPlugins({
    plugins: [
      metricPlugin("a", "runtime/meta_none.sh", { customIdentifier: "db.example" }),
      metricPlugin("b", "dice.sh", { includePattern: /d6/ }),
      metricPlugin("c", "dice.sh", { includePattern: /d20/, customIdentifier: "db.example" }),
    ],
    maxConcurrent: 2,
  });
  assert.deepEqual(await plugins.collect(), [
    {
      customIdentifier: "db.example",
      values: [{ name: "custom.plain.value", value: 1 }, { name: "custom.dice.d20", value: 17 }],
    },
    { values: [{ name: "custom.dice.d6", value: 3 }] },
  ]);
});

unix.test("metric: invalid lines are skipped and logged once per plugin, stderr every round", async () => {
  await withLogs(async (lines) => {
    const plugins = createMetricPlugins({
      plugins: [metricPlugin("mixed", "runtime/metric_mixed.sh")],
    });
    const expected = [{
      values: [
        { name: "custom.mixed.tab", value: 1.5 },
        { name: "custom.mixed.spaces", value: 2 },
        { name: "custom.mixed.extra", value: 3 },
        { name: "custom.mixed.hex", value: 0.25 },
        { name: "custom.mixed.dup", value: 2 },
      ],
    }];
    // The exit code (1) is ignored: the values count.
    assert.deepEqual(await plugins.collect(), expected);
    assert.deepEqual(await plugins.collect(), expected);
    const cmd = PLUGIN_FIXTURES + "runtime/metric_mixed.sh";
    assert.deepEqual(lines.filter((l) => l.includes("<metrics.plugin>")), [
      `INFO <metrics.plugin> command ${cmd} outputted to STDERR: "a note on stderr\\n"`,
      "WARNING <metrics.plugin> Failed to parse values (key=#): " +
      'strconv.ParseFloat: parsing "a": invalid syntax',
      "WARNING <metrics.plugin> Failed to parse values (key=mixed.bad): " +
      'strconv.ParseFloat: parsing "abc": invalid syntax',
      "WARNING <metrics.plugin> Invalid value: name = custom.mixed.nan, value = NaN is not sent.",
      "WARNING <metrics.plugin> Invalid value: name = custom.mixed.inf, value = -Infinity is not sent.",
      `INFO <metrics.plugin> command ${cmd} outputted to STDERR: "a note on stderr\\n"`,
    ]);
  });
});

unix.test("metric: use_plugin_timestamp keeps times strictly within 15 minutes", async () => {
  await withLogs(async (lines) => {
    const plugins = createMetricPlugins({
      plugins: [metricPlugin("ts", "runtime/metric_timestamps.sh", { usePluginTimestamp: true })],
      nowSeconds: () => 1700000000,
    });
    assert.deepEqual(await plugins.collect(), [{
      values: [
        { name: "custom.ts.now", value: 1, time: 1700000000 },
        { name: "custom.ts.ahead_in", value: 2, time: 1700000899 },
        { name: "custom.ts.behind_in", value: 4, time: 1699999101 },
      ],
    }]);
    await plugins.collect();
    const warning =
      "WARNING <metrics.plugin> Rejected because it exceeds the acceptable time window.";
    assert.deepEqual(lines, [
      `${warning} (key=ts.ahead_out): metric_timestamp=1700000900 now=1700000000`,
      `${warning} (key=ts.behind_out): metric_timestamp=1699999100 now=1700000000`,
      "WARNING <metrics.plugin> Failed to parse time (key=ts.word): " +
      'strconv.ParseInt: parsing "soon": invalid syntax',
    ]);
  });
});

unix.test("metric: a plugin printing 10 MB does not break the round", async () => {
  await withLogs(async (lines) => {
    const plugins = createMetricPlugins({
      plugins: [metricPlugin("flood", "runtime/metric_flood.sh"), metricPlugin("dice", "dice.sh")],
    });
    assert.deepEqual(await plugins.collect(), [{
      values: [
        { name: "custom.flood.first", value: 42 },
        { name: "custom.dice.d6", value: 3 },
        { name: "custom.dice.d20", value: 17 },
      ],
    }]);
    assert.deepEqual(lines, [
      `WARNING <metrics.plugin> plugin.metrics.flood: command ${PLUGIN_FIXTURES}runtime/metric_flood.sh ` +
      "printed more than 1 MiB in one run; it was stopped and the complete lines before that are used",
    ]);
  });
});

unix.test("metric: an execution error gives no values and an ERROR", async () => {
  await withLogs(async (lines) => {
    const plugins = createMetricPlugins({
      plugins: [
        {
          name: "missing",
          command: { kind: "argv", argv: ["no-such-plugin-here"] },
          env: [],
          timeoutSeconds: 10,
          usePluginTimestamp: false,
        },
        metricPlugin("dice", "dice.sh", { includePattern: /d6/ }),
      ],
    });
    assert.deepEqual(await plugins.collect(), [{ values: [{ name: "custom.dice.d6", value: 3 }] }]);
    assert.deepEqual(lines.filter((l) => l.includes("<metrics.plugin>")), [
      "ERROR <metrics.plugin> Failed to execute command no-such-plugin-here (skip these metrics): " +
      'exit code: 127, exec: "no-such-plugin-here": executable file not found in $PATH',
    ]);
  });
});

unix.test("metric: a plugin past its timeout is killed and the round goes on", async () => {
  await withLogs(async (lines) => {
    const plugins = createMetricPlugins({
      plugins: [
        {
          name: "slow",
          command: { kind: "shell", line: "sleep 30" },
          env: [],
          timeoutSeconds: 1,
          usePluginTimestamp: false,
        },
        metricPlugin("dice", "dice.sh", { includePattern: /d20/ }),
      ],
    });
    assert.deepEqual(await plugins.collect(), [{
      values: [{ name: "custom.dice.d20", value: 17 }],
    }]);
    assert.deepEqual(lines.filter((l) => l.includes("<metrics.plugin>")), [
      "ERROR <metrics.plugin> Failed to execute command sleep 30 (skip these metrics): " +
      "command timed out",
    ]);
  });
});

Deno.test("metric: no plugins, no values", async () => {
  assert.deepEqual(await createMetricPlugins({ plugins: [] }).collect(), []);
});

Deno.test("metric: custom identifiers are listed once, in configuration order", () => {
  assert.deepEqual(
    listCustomIdentifiers(
      [{ customIdentifier: "b" }, {}, { customIdentifier: "a" }],
      [{ customIdentifier: "a" }, { customIdentifier: "c" }],
    ),
    ["b", "a", "c"],
  );
});

unix.test("metric: custom identifiers resolve once; unresolved ones drop their data", async () => {
  const seeded = [{ id: "h-db", customIdentifier: "db.example" }, {
    id: "h-web",
    customIdentifier: "web",
  }];
  await withApi(async (fake, client) => {
    await withLogs(async (lines) => {
      fake.failWhile((r) => r.query.includes("customIdentifier=web"), 503);
      const hosts = await resolveCustomIdentifiers({
        client,
        hostId: "self",
        identifiers: ["db.example", "ghost", "web", "db.example"],
      });
      assert.equal(fake.requests.length, 3);
      assert.equal(hosts.hostIdFor(undefined), "self");
      assert.equal(hosts.hostIdFor("db.example"), "h-db");
      assert.equal(hosts.hostIdFor("ghost"), undefined);
      assert.equal(hosts.hostIdOrDrop("db.example", 4, "metric values"), "h-db");
      assert.equal(hosts.hostIdOrDrop("web", 4, "metric values"), undefined);
      assert.deepEqual(lines, [
        "WARNING <command> Failed to retrieve the host of custom_identifier: ghost, " +
        "no host was found for the custom identifier: ghost",
        "WARNING <command> Failed to retrieve the host of custom_identifier: web, " +
        "API request failed: fake failure 503 (GET /api/v0/hosts)",
        "WARNING <command> Dropped 4 metric values for custom_identifier web: " +
        "its host was not found at startup",
      ]);
    });
  }, { hosts: seeded });
});

linux.test("metric: a plugin ignoring SIGTERM holds neither the round nor the next one", async () => {
  const pidFile = await Deno.makeTempFile({ prefix: "metric_pid" });
  const stubborn = PLUGIN_FIXTURES + "runtime/metric_ignore_term.sh";
  try {
    await withLogs(async (lines) => {
      const plugins = createMetricPlugins({
        plugins: [
          metricPlugin("stubborn", "runtime/metric_ignore_term.sh", {
            env: [`PID_FILE=${pidFile}`],
            timeoutSeconds: 1,
          }),
          metricPlugin("dice", "dice.sh", { includePattern: /d6/ }),
        ],
        // The round gives up 1 s after the timeout; the kill comes half a second later.
        killGraceMs: 1_500,
      });
      const dice = [{ values: [{ name: "custom.dice.d6", value: 3 }] }];
      assert.deepEqual(await plugins.collect(), dice);
      const pid = Number(Deno.readTextFileSync(pidFile));
      assert.ok(isRunning(pid), "the plugin still runs when the round ends");
      assert.deepEqual(await plugins.collect(), dice);
      await plugins.stop();
      assert.ok(!isRunning(pid), "stop waits for the kill");
      assert.deepEqual(lines.filter((l) => l.includes("<metrics.plugin>")), [
        `WARNING <metrics.plugin> command ${stubborn} is still running from an earlier round; ` +
        "skipped this round",
        `ERROR <metrics.plugin> Failed to execute command ${stubborn} (skip these metrics): ` +
        "command timed out",
      ]);
    });
  } finally {
    await Deno.remove(pidFile);
  }
});

unix.test("metric: a name Mackerel refuses is dropped with one WARNING naming the plugin", async () => {
  await withLogs(async (lines) => {
    const plugins = createMetricPlugins({
      plugins: [
        metricPlugin("names", "runtime/metric_bad_names.sh"),
        metricPlugin("dice", "dice.sh"),
      ],
    });
    const expected = [{
      values: [
        { name: "custom.names.good", value: 1 },
        { name: "custom.names.also-good_2", value: 6 },
        { name: "custom.dice.d6", value: 3 },
        { name: "custom.dice.d20", value: 17 },
      ],
    }];
    assert.deepEqual(await plugins.collect(), expected);
    assert.deepEqual(await plugins.collect(), expected);
    const refused = (name: string, problem: string) =>
      `WARNING <metrics.plugin> plugin.metrics.names: metric name ${name} ${problem}, ` +
      "which Mackerel refuses (allowed: [a-zA-Z0-9._-]); its values are not sent";
    assert.deepEqual(lines, [
      refused('"custom.uni.\u540d\u524d"', 'contains "\u540d" (U+540D)'),
      refused('"custom.slash/x"', 'contains "/" (U+002F)'),
      refused('"custom.colon:x"', 'contains ":" (U+003A)'),
      // The NUL is quoted by the message and would be escaped by the log line anyway.
      refused('"custom.nul\\x00x"', "contains U+0000"),
    ]);
  });
});

unix.test("metric: a hundred refused names cost a bounded number of lines per round", async () => {
  await withLogs(async (lines) => {
    const plugins = createMetricPlugins({
      plugins: [metricPlugin("many", "runtime/metric_many_bad_names.sh")],
    });
    const expected = [{ values: [{ name: "custom.many.good", value: 7 }] }];
    const cmd = PLUGIN_FIXTURES + "runtime/metric_many_bad_names.sh";
    for (let round = 0; round < 6; round++) {
      lines.length = 0;
      assert.deepEqual(await plugins.collect(), expected);
      // 20 new names a round: each of the 100 is logged once, over five rounds.
      const named = lines.filter((l) => l.includes("metric name"));
      assert.equal(named.length, round < 5 ? 20 : 0);
      assert.equal(new Set(named).size, named.length);
      const held = 100 - 20 * (round + 1);
      assert.deepEqual(
        lines.filter((l) => !l.includes("metric name")),
        held > 0
          ? [`WARNING <metrics.plugin> command ${cmd}: ${held} more warnings this round not shown`]
          : [],
      );
    }
  });
});
