import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors.ts";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load.ts";
import { type Config, defaultConfig } from "../../src/config/schema.ts";
import { findUnknownKeys, SUGGESTION_CANDIDATES } from "../../src/config/unknown_keys.ts";
import { COLLECTOR_KEYS } from "../../src/metrics/registry.ts";
import { captureLogs } from "../support/logs.ts";
import { inDir } from "../support/config_in_dir.ts";
import { withTempDir, writeFiles } from "../support/temp_dir.ts";

/**
 * Loads `text` as `<dir>/main.conf`, with `files` beside it, by its absolute path: a test never
 * changes its process's working directory, which the test files running beside it share.
 */
function load(text: string | ((dir: string) => string), files: Record<string, string> = {}) {
  return withTempDir("sections-test-", async (dir) => {
    await writeFiles(dir, { "main.conf": typeof text === "string" ? text : text(dir), ...files });
    return await loadConfigFile(join(dir, "main.conf"));
  });
}

/** The ConfigError of loading `text`, its message naming the file relative to the temp dir. */
async function loadError(text: string): Promise<Pick<ConfigError, "key" | "line" | "message">> {
  let dir = "";
  const error = await load((d) => (dir = d, text)).then(() => undefined, (e) => e);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  // The file is named by its path: `<dir>/main.conf`, or `<dir>\\main.conf` on Windows.
  const message = error.message.replaceAll(`${dir}/`, "").replaceAll(`${dir}\\`, "");
  return { key: error.key, line: error.line, message };
}

/** docs/upstream.md, "Unknown keys (configtest)": upstream's `makeCandidates(...)` in order. */
const UPSTREAM_CANDIDATES = (
  "apibase apikey root pidfile conffile roles verbose silent diagnostic disable_http_keep_alive " +
  "display_name host_status on_start on_stop disks ignore filesystems ignore use_mountpoint " +
  "interfaces ignore use_adapter http_proxy https_proxy cloud_platform plugin commandConfig " +
  "command user env timeout_seconds notification_interval check_interval execution_interval " +
  "max_check_attempts custom_identifier prevent_alert_auto_close include_pattern exclude_pattern " +
  "action command user env timeout_seconds memo use_plugin_timestamp include"
).split(" ");

Deno.test("sections: the candidates derived from the tables are upstream's list, then this agent's tables", () => {
  assert.deepEqual(
    SUGGESTION_CANDIDATES.slice(0, UPSTREAM_CANDIDATES.length),
    UPSTREAM_CANDIDATES,
  );
  // The keys inside [collectors] are the registry's, suggested only within that table.
  assert.deepEqual(SUGGESTION_CANDIDATES.slice(UPSTREAM_CANDIDATES.length), [
    "collectors",
    "otlp",
    "enabled",
    "endpoint",
    "protocol",
    "headers",
    "timeout",
    "compression",
    "spool",
    "max_size_mb",
    "max_age",
  ]);
});

Deno.test("sections: defaultConfig comes from the tables' defaults", () => {
  const c = defaultConfig();
  assert.deepEqual(c, {
    apikey: "",
    apibase: "https://api.mackerelio.com",
    root: "/var/lib/mackerel-agent",
    pidfile: "/var/run/mackerel-agent.pid",
    roles: [],
    displayName: "",
    verbose: false,
    silent: false,
    diagnostic: false,
    disableHttpKeepAlive: false,
    httpProxy: "",
    httpsProxy: "",
    cloudPlatform: "auto",
    autoshutdown: false,
    hostStatus: { onStart: "", onStop: "" },
    filesystems: { useMountpoint: false },
    disks: {},
    interfaces: { useAdapter: false },
    metricPlugins: [],
    checkPlugins: [],
    metadataPlugins: [],
    collectors: {},
    otlp: {
      enabled: false,
      endpoint: "",
      protocol: "grpc",
      headers: [],
      timeoutMs: 10_000,
      compression: "gzip",
    },
    spool: { maxBytes: 64 * 1024 * 1024, maxAgeMinutes: 360 },
  });
  // Each call is a fresh value: one caller's change cannot leak into another's defaults.
  assert.notEqual(defaultConfig().roles, c.roles);
  assert.notEqual(defaultConfig().collectors, c.collectors);
});

Deno.test("sections: [collectors] and [spool] decode; keys match case-insensitively", async () => {
  const c = await load(
    'apikey = "k"\n[collectors]\npressure = true\nInterface_Errors = true\nprocesses = false\n' +
      '[spool]\nmax_size_mb = 10\nmax_age = "1h30m"\n',
  );
  // As written, in lower case: which keys exist is the registry's to say.
  assert.deepEqual(c.collectors, { pressure: true, interface_errors: true, processes: false });
  assert.deepEqual(c.spool, { maxBytes: 10 * 1024 * 1024, maxAgeMinutes: 90 });
  assert.equal((await load('apikey = "k"\n[spool]\nmax_age = 15\n')).spool.maxAgeMinutes, 15);
});

Deno.test("sections: an included file merges [collectors] and [spool] per field", async () => {
  await withTempDir("sections-test-", async (dir) => {
    await writeFiles(dir, {
      "main.conf":
        'apikey = "k"\ninclude = "conf.d/*.conf"\n[collectors]\ntcp = true\n[spool]\nmax_size_mb = 5\n',
      "conf.d/a.conf": '[collectors]\nfiles = true\n[spool]\nmax_age = "2h"\n',
    });
    // The include pattern is relative to the working directory: loaded in a child started there.
    const [{ value, error }] = await inDir(dir, ["load:main.conf"]);
    assert.equal(error, undefined);
    const c = value as Pick<Config, "collectors" | "spool">;
    assert.deepEqual(c.collectors, { tcp: true, files: true });
    assert.deepEqual(c.spool, { maxBytes: 5 * 1024 * 1024, maxAgeMinutes: 120 });
  });
});

Deno.test("sections: [otlp] is off when absent and on when present, even empty", async () => {
  assert.equal((await load('apikey = "k"\n')).otlp.enabled, false);
  const bare = await load('apikey = "k"\n[otlp]\n');
  assert.deepEqual(bare.otlp, {
    enabled: true,
    endpoint: "",
    protocol: "grpc",
    headers: [],
    timeoutMs: 10_000,
    compression: "gzip",
  });
  const full = await load(
    'apikey = "k"\n[otlp]\nendpoint = "http://127.0.0.1:4318"\nprotocol = "http/protobuf"\n' +
      'timeout = "2s"\ncompression = "none"\n[otlp.headers]\nx-tenant = "a"\n',
  );
  assert.deepEqual(full.otlp, {
    enabled: true,
    endpoint: "http://127.0.0.1:4318",
    protocol: "http/protobuf",
    headers: [["x-tenant", "a"]],
    timeoutMs: 2000,
    compression: "none",
  });
  assert.equal((await load('apikey = "k"\n[otlp]\nenabled = false\n')).otlp.enabled, false);
});

Deno.test("sections: [otlp] values that are not understood name the key and line", async () => {
  const cases: [string, string][] = [
    ['protocol = "http/json"', 'protocol must be "grpc" or "http/protobuf", got "http/json"'],
    ['compression = "zstd"', 'compression must be "gzip" or "none", got "zstd"'],
    ['timeout = "500ms"', "timeout 500ms is out of range: 1s to 10m"],
    ['timeout = "1h"', "timeout 1h is out of range: 1s to 10m"],
    ["timeout = 10", 'time: missing unit in duration "10"'],
  ];
  for (const [line, reason] of cases) {
    const e = await loadError(`apikey = "k"\n[otlp]\n${line}\n`);
    assert.equal(e.line, 3, line);
    assert.ok(e.message.includes(reason), `${line}: ${e.message}`);
  }
});

Deno.test("sections: [spool] values out of range or of the wrong type name the key and line", async () => {
  const cases: [string, string][] = [
    ["max_size_mb = 0", "0 is out of range for max_size_mb: 1 to 65536 MiB (1 MiB to 64 GiB)"],
    ["max_size_mb = 65537", "65537 is out of range for max_size_mb: 1 to 65536 MiB"],
    ["max_size_mb = 1.5", "incompatible types: TOML value has type float64; destination has type"],
    ["max_age = 0", "0 is out of range for max_age: 1 to 10080 minutes (up to a week)"],
    ['max_age = "169h"', "10140 is out of range for max_age: 1 to 10080 minutes"],
    ['max_age = "30s"', "duration not multiple of 1m: 30s"],
    ["max_age = -1", "duration out of range: -1"],
  ];
  for (const [line, reason] of cases) {
    const e = await loadError(`apikey = "k"\n[spool]\n${line}\n`);
    const key = `spool.${line.split(" ")[0]}`;
    assert.equal(e.key, key, line);
    assert.equal(e.line, 3, line);
    assert.ok(
      e.message.startsWith(`main.conf: toml: line 3 (last key "${key}"): ${reason}`),
      e.message,
    );
  }
  const e = await loadError('apikey = "k"\n[collectors]\ntcp = "yes"\n');
  assert.equal(
    e.message,
    'main.conf: toml: line 3 (last key "collectors.tcp"): incompatible types: TOML value has ' +
      "type string; destination has type boolean",
  );
  // Any key of [collectors] is a switch, known or not.
  const unknown = await loadError('apikey = "k"\n[collectors]\nfoo = 1\n');
  assert.equal(unknown.key, "collectors.foo");
  assert.match(unknown.message, /line 3 .*type int64; destination has type boolean$/);
  const table = await loadError('apikey = "k"\ncollectors = 5\n');
  assert.equal(
    table.message,
    'main.conf: toml: line 2 (last key "collectors"): type mismatch for collectors: expected ' +
      "table but found int64",
  );
});

Deno.test("sections: timeout_seconds past a day is capped to a day with a WARNING naming the key", async () => {
  const { result: c, lines } = await captureLogs(() =>
    load(
      'apikey = "k"\n[plugin.metrics.slow]\ncommand = "x"\ntimeout_seconds = 2200000\n' +
        '[plugin.checks.c]\ncommand = "x"\ntimeout_seconds = 9999999999\n' +
        'action = { command = "y", timeout_seconds = 86401 }\n' +
        '[plugin.metadata.m]\ncommand = "x"\ntimeout_seconds = 86401\n',
    )
  );
  assert.deepEqual(c.metricPlugins.map((p) => p.timeoutSeconds), [86400]);
  assert.deepEqual(c.checkPlugins.map((p) => [p.timeoutSeconds, p.action?.timeoutSeconds]), [
    [86400, 86400],
  ]);
  assert.deepEqual(c.metadataPlugins.map((p) => p.timeoutSeconds), [86400]);
  assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), [
    "WARNING <config> 'plugin.metrics.slow.timeout_seconds' = 2200000 is more than 86400 seconds " +
    "(a day); using 86400",
    "WARNING <config> 'plugin.checks.c.timeout_seconds' = 9999999999 is more than 86400 seconds " +
    "(a day); using 86400",
    "WARNING <config> 'plugin.checks.c.action.timeout_seconds' = 86401 is more than 86400 seconds " +
    "(a day); using 86400",
    "WARNING <config> 'plugin.metadata.m.timeout_seconds' = 86401 is more than 86400 seconds " +
    "(a day); using 86400",
  ]);
});

Deno.test("sections: a day, zero and negative timeouts load as upstream reads them", async () => {
  const { result: c, lines } = await captureLogs(() =>
    load(
      'apikey = "k"\n[plugin.metrics.a]\ncommand = "x"\ntimeout_seconds = 86400\n' +
        '[plugin.metrics.b]\ncommand = "x"\ntimeout_seconds = 0\n' +
        '[plugin.metrics.c]\ncommand = "x"\ntimeout_seconds = -5\n',
    )
  );
  assert.deepEqual(c.metricPlugins.map((p) => p.timeoutSeconds), [86400, 30, -5]);
  assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), []);
});

Deno.test("sections: execution_interval past a week is capped with a WARNING; below 10 minutes it is 10", async () => {
  const { result: c, lines } = await captureLogs(() =>
    load(
      'apikey = "k"\n[plugin.metadata.a]\ncommand = "x"\nexecution_interval = "168h"\n' +
        '[plugin.metadata.b]\ncommand = "x"\nexecution_interval = 1\n' +
        '[plugin.metadata.c]\ncommand = "x"\nexecution_interval = "720h"\n',
    )
  );
  assert.deepEqual(c.metadataPlugins.map((p) => p.executionIntervalMinutes), [10080, 10, 10080]);
  assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), [
    "WARNING <config> 'plugin.metadata.c.execution_interval' = 43200 is more than 10080 minutes " +
    "(a week); using 10080",
  ]);
});

Deno.test("sections: configtest knows [collectors] and [spool]; a typo inside them gets a suggestion", async () => {
  await withTempDir("sections-test-", async (dir) => {
    const path = `${dir}/a.conf`;
    await Deno.writeTextFile(
      path,
      'apikey = "k"\n[collectors]\npressure = true\ninodes = true\ninterface_error = true\n' +
        'tcp = true\nfiles = true\nprocesses = true\n[spool]\nmax_size_mb = 64\nmax_age = "6h"\n' +
        'maxage = 5\n[plugin.metrics.linux]\ncommand = "x"\ntype = "metric"\n',
    );
    assert.deepEqual(await findUnknownKeys(path, { tableKeys: { collectors: COLLECTOR_KEYS } }), [
      "[WARNING] collectors.interface_error is unexpected key. Did you mean collectors.interface_errors ?",
      // No plugin key is suggested one of [collectors]' keys (`type` is two edits from `tcp`).
      "[WARNING] plugin.metrics.linux.type is unexpected key.",
      "[WARNING] spool.maxage is unexpected key. Did you mean spool.max_age ?",
    ]);
  });
});
