import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../src/config/errors.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { captureLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));

/** Runs `fn` with the path of a temp `mackerel-agent.conf` holding `text`. */
const withTempConfig = <T>(text: string, fn: (path: string) => Promise<T>): Promise<T> =>
  withTempDir("config-test-", async (dir) => {
    const path = `${dir}/mackerel-agent.conf`;
    await Deno.writeTextFile(path, text);
    return await fn(path);
  });

async function loadError(path: string): Promise<ConfigError> {
  const error = await loadConfigFile(path).then(() => undefined, (e) => e);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  return error;
}

Deno.test("config: top-level keys and tables of the full sample", async () => {
  const c = await loadConfigFile(fixture("full.conf"));
  assert.equal(c.conffile, fixture("full.conf"));
  assert.equal(c.apikey, "abcde");
  assert.equal(c.apibase, "https://api.example.com");
  assert.equal(c.root, "/tmp/mackerel-root");
  assert.equal(c.pidfile, "/tmp/mackerel.pid");
  assert.deepEqual(c.roles, ["My-Service:app", "Other:db"]);
  assert.equal(c.displayName, "fghij");
  assert.deepEqual([c.verbose, c.silent, c.diagnostic, c.disableHttpKeepAlive], [
    true,
    false,
    true,
    true,
  ]);
  assert.equal(c.httpProxy, "http://proxy.example.com:8080");
  assert.equal(c.httpsProxy, "direct");
  assert.equal(c.cloudPlatform, "ec2");
  assert.deepEqual(c.hostStatus, { onStart: "working", onStop: "poweroff" });
  assert.equal(c.filesystems.useMountpoint, true);
  assert.equal(c.filesystems.ignore?.test("/dev/ram0"), true);
  assert.equal(c.filesystems.ignore?.test("/dev/sda1"), false);
  assert.equal(c.disks.ignore?.source, "^loop");
  assert.equal(c.interfaces.ignore?.test("docker0"), true);
  assert.equal(c.interfaces.useAdapter, true);
});

Deno.test("config: metric plugins keep command form, user, env, timeout and patterns", async () => {
  const c = await loadConfigFile(fixture("full.conf"));
  assert.deepEqual(c.metricPlugins.map((p) => p.name), ["mysql", "mysql2", "mysql3"]);
  const [mysql, mysql2, mysql3] = c.metricPlugins;
  assert.deepEqual(mysql, {
    name: "mysql",
    command: { kind: "shell", line: "ruby /path/to/your/plugin/mysql.rb" },
    user: "mysql",
    env: [],
    timeoutSeconds: 60,
    customIdentifier: "app1.example.com",
    usePluginTimestamp: false,
  });
  assert.deepEqual(mysql2.command, {
    kind: "argv",
    argv: ["mackerel-plugin-mysql", "-host", "127.0.0.1"],
  });
  assert.equal(mysql2.timeoutSeconds, 30);
  assert.equal(mysql2.user, undefined);
  assert.equal(mysql2.customIdentifier, undefined);
  assert.equal(mysql2.includePattern?.source, "^mysql\\.innodb\\..+");
  assert.equal(mysql2.excludePattern?.source, "^mysql\\.innodb\\.ignore");
  assert.equal(mysql2.usePluginTimestamp, true);
  // Keys are trimmed of spaces, values are not; an empty key is dropped.
  assert.deepEqual(mysql3.env, ["MYSQL_USERNAME=USERNAME", "MYSQL_PASSWORD=  PASSWORD  "]);
  assert.equal(mysql3.includePattern, undefined);
});

Deno.test("config: check plugins read intervals, attempts, memo and action", async () => {
  const c = await loadConfigFile(fixture("full.conf"));
  assert.deepEqual(c.checkPlugins.map((p) => p.name), ["heartbeat", "heartbeat2", "heartbeat3"]);
  const [hb, hb2, hb3] = c.checkPlugins;
  assert.deepEqual(hb, {
    name: "heartbeat",
    command: { kind: "shell", line: "heartbeat.sh" },
    user: "xyz",
    env: [],
    timeoutSeconds: 60,
    customIdentifier: "app2.example.com",
    checkIntervalMinutes: 30,
    notificationIntervalMinutes: 90,
    maxCheckAttempts: 3,
    preventAlertAutoClose: false,
    memo: "heartbeat of the web tier",
    action: {
      command: { kind: "shell", line: "cardiac_massage" },
      user: "doctor",
      env: ["NAME_1=VALUE_1", "NAME_2=VALUE_2"],
      timeoutSeconds: 5,
    },
  });
  assert.equal(hb2.checkIntervalMinutes, 60);
  assert.deepEqual(hb2.env, ["ES_HOSTS=10.45.3.2:9220,10.45.3.1:9230"]);
  assert.equal(hb2.notificationIntervalMinutes, undefined);
  assert.equal(hb2.maxCheckAttempts, undefined);
  assert.equal(hb2.action, undefined);
  // "5h" is clamped to the 60-minute maximum; an action without command is no action.
  assert.equal(hb3.checkIntervalMinutes, 60);
  assert.equal(hb3.action, undefined);
});

Deno.test("config: metadata plugins; other plugin kinds are ignored", async () => {
  const c = await loadConfigFile(fixture("full.conf"));
  assert.deepEqual(c.metadataPlugins, [
    {
      name: "hostinfo",
      command: { kind: "shell", line: "hostinfo.sh" },
      user: "zzz",
      env: [],
      timeoutSeconds: 60,
      executionIntervalMinutes: 60,
    },
    {
      name: "hostinfo2",
      command: { kind: "shell", line: "hostinfo.sh" },
      env: ["NAME_1=VALUE_1"],
      timeoutSeconds: 30,
      executionIntervalMinutes: 10,
    },
  ]);
  const names = [...c.metricPlugins, ...c.checkPlugins].map((p) => p.name);
  assert.ok(!names.includes("ignored"));
});

Deno.test("config: defaults for a minimal file; empty apibase/root/pidfile get defaults", async () => {
  await withTempConfig('apikey = "abcde"\napibase = ""\npidfile = ""\n', async (path) => {
    const c = await loadConfigFile(path);
    assert.equal(c.apibase, "https://api.mackerelio.com");
    assert.equal(c.root, "/var/lib/mackerel-agent");
    assert.equal(c.pidfile, "/var/run/mackerel-agent.pid");
    assert.deepEqual(c.roles, []);
    assert.equal(c.filesystems.useMountpoint, false);
    assert.equal(c.filesystems.ignore, undefined);
    assert.equal(c.disableHttpKeepAlive, false);
    assert.equal(c.cloudPlatform, "auto");
    assert.deepEqual(c.hostStatus, { onStart: "", onStop: "" });
  });
});

Deno.test("config: silent and a check interval of 0 (clamped to 1)", async () => {
  const text =
    'apikey = "k"\nsilent = true\n[plugin.checks.c]\ncommand = "c"\ncheck_interval = 0\n';
  await withTempConfig(text, async (path) => {
    const c = await loadConfigFile(path);
    assert.equal(c.silent, true);
    assert.equal(c.checkPlugins[0].checkIntervalMinutes, 1);
  });
});

Deno.test("config: cloud_platform values map; an unknown one fails naming the key", async () => {
  const table: [string, string][] = [
    ["", "auto"],
    ["auto", "auto"],
    ["none", "none"],
    ["ec2", "ec2"],
    ["gce", "gce"],
    ["azurevm", "azurevm"],
  ];
  for (const [value, expected] of table) {
    await withTempConfig(`apikey = "k"\ncloud_platform = "${value}"\n`, async (path) => {
      assert.equal((await loadConfigFile(path)).cloudPlatform, expected);
    });
  }
  await withTempConfig('apikey = "k"\ncloud_platform = "unknown"\n', async (path) => {
    const e = await loadError(path);
    assert.equal(e.message, `${path}: toml: line 2 (last key "cloud_platform"): failed to parse`);
    assert.equal(e.key, "cloud_platform");
  });
});

Deno.test("config: a TOML syntax error names the file and the line", async () => {
  const path = fixture("syntax_error.conf");
  const e = await loadError(path);
  assert.equal(e.file, path);
  assert.equal(e.line, 3);
  assert.equal(e.message, `${path}: toml: line 3: illegal character in key`);
});

Deno.test("config: a scalar of the wrong type names the key and its line", async () => {
  const path = fixture("type_error.conf");
  const e = await loadError(path);
  assert.equal(e.key, "verbose");
  assert.equal(e.line, 2);
  assert.equal(
    e.message,
    `${path}: toml: line 2 (last key "verbose"): incompatible types: TOML value has type ` +
      "string; destination has type boolean",
  );
});

Deno.test("config: an invalid ignore regexp fails naming the key", async () => {
  const e = await loadError(fixture("invalid_ignore.conf"));
  assert.equal(e.key, "filesystems.ignore");
  assert.equal(e.line, 5);
  assert.match(
    e.message,
    /: toml: line 5 \(last key "filesystems\.ignore"\): error parsing regexp: /,
  );
});

Deno.test("config: bad plugin commands fail with upstream's wording and the plugin key", async () => {
  const cases: [string, string, string][] = [
    ["invalid_metrics_command.conf", "plugin.metrics.mysql", "int64"],
    ["invalid_check_command.conf", "plugin.checks.dice", "<nil>"],
    ["invalid_metadata_command.conf", "plugin.metadata.sample", "[]interface {}"],
  ];
  for (const [file, prefix, type] of cases) {
    const e = await loadError(fixture(file));
    assert.equal(
      e.message,
      `${fixture(file)}: ${prefix}: failed to parse plugin command. A configuration value of ` +
        `\`command\` should be string or string slice, but ${type}`,
    );
    assert.equal(e.key, `${prefix}.command`);
  }
});

Deno.test("config: other command shapes and plugin value errors", async () => {
  const cases: [string, string, string][] = [
    ['command = ["a", 1]', "plugin.metrics.p.command", "but []interface {}"],
    ["command = []", "plugin.metrics.p.command", "but []interface {}"],
    ["command = 1.5", "plugin.metrics.p.command", "but float64"],
    ["command = true", "plugin.metrics.p.command", "but bool"],
    ["command = { a = 1 }", "plugin.metrics.p.command", "but map[string]interface {}"],
    [
      'command = "x"\nenv = { "A=B" = "c" }',
      "plugin.metrics.p.env",
      'A key of env should not contain "=", but "A=B"',
    ],
    [
      'command = "x"\ninclude_pattern = "("',
      "plugin.metrics.p.include_pattern",
      "error parsing regexp",
    ],
    ['command = "x"\ntimeout_seconds = "5"', "plugin.metrics.p.timeout_seconds", "type integer"],
    [
      'command = "x"\nmax_check_attempts = 3000000000',
      "plugin.metrics.p.max_check_attempts",
      "3000000000 is out of range for int32",
    ],
  ];
  for (const [body, key, fragment] of cases) {
    await withTempConfig(`apikey = "k"\n[plugin.metrics.p]\n${body}\n`, async (path) => {
      const e = await loadError(path);
      assert.equal(e.key, key, body);
      assert.ok(e.message.includes(fragment), `${body}: ${e.message}`);
      assert.ok(e.message.startsWith(`${path}: `), e.message);
    });
  }
});

Deno.test("config: patterns use Go syntax: leading (?i) flags, (?P<name>) and \\pL", async () => {
  const text = 'apikey = "k"\n[plugin.metrics.p]\ncommand = "x"\n' +
    "include_pattern = '(?i)^dice\\.(?P<die>d6)'\nexclude_pattern = '^\\pL+\\-x$'\n";
  await withTempConfig(text, async (path) => {
    const [p] = (await loadConfigFile(path)).metricPlugins;
    assert.equal(p.includePattern?.exec("DICE.d6")?.groups?.die, "d6");
    assert.equal(p.includePattern?.test("custom.dice.d6"), false);
    assert.equal(p.excludePattern?.test("ab-x"), true);
  });
});

Deno.test("config: a bad action command fails naming the action key", async () => {
  const text = 'apikey = "k"\n[plugin.checks.c]\ncommand = "c"\naction = { command = 5 }\n';
  await withTempConfig(text, async (path) => {
    const e = await loadError(path);
    assert.equal(e.key, "plugin.checks.c.action.command");
    assert.match(e.message, /: plugin\.checks\.c: failed to parse plugin command\. .* but int64$/);
  });
});

Deno.test("config: a bad duration names the key with upstream's reason", async () => {
  const text = 'apikey = "k"\n[plugin.checks.c]\ncommand = "c"\ncheck_interval = "1.1m"\n';
  await withTempConfig(text, async (path) => {
    const e = await loadError(path);
    assert.equal(
      e.message,
      `${path}: toml: line 4 (last key "plugin.checks.c.check_interval"): ` +
        "duration not multiple of 1m: 1m6s",
    );
  });
});

Deno.test("config: a memo over 250 code points is cut, with a WARNING", async () => {
  const { result: c, lines } = await captureLogs(() => loadConfigFile(fixture("memo.conf")), {
    timestamps: true,
  });
  assert.deepEqual(c.checkPlugins.map((p) => p.memo), [
    "あいうえお",
    "0123456789".repeat(25),
    "0123456789".repeat(24) + "012345678あ",
  ]);
  const warnings = lines.filter((l) => l.includes(" WARNING <config> "));
  assert.deepEqual(warnings.map((l) => l.replace(/^.* WARNING <config> /, "")), [
    "'plugin.checks.toolargememo.memo' size exceeds 250 characters",
    "'plugin.checks.toolargememo2.memo' size exceeds 250 characters",
  ]);
});

Deno.test("config: max_check_attempts is forced to 1 with prevent_alert_auto_close", async () => {
  const text = 'apikey = "k"\n[plugin.checks.c]\ncommand = "c"\nmax_check_attempts = 5\n' +
    'prevent_alert_auto_close = true\n[plugin.checks.d]\ncommand = "d"\nmax_check_attempts = 5\n';
  await withTempConfig(text, async (path) => {
    const { result: c, lines } = await captureLogs(() => loadConfigFile(path), {
      timestamps: true,
    });
    assert.deepEqual(
      c.checkPlugins.map((p) => [p.maxCheckAttempts, p.preventAlertAutoClose]),
      [[1, true], [5, false]],
    );
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      / WARNING <config> 'plugin\.checks\.c\.max_check_attempts' is set to 1 \(Unavailable with 'prevent_alert_auto_close'\)$/,
    );
  });
});

Deno.test("config: keys match case-insensitively when no exact match exists", async () => {
  const c = await loadConfigFile(fixture("case_insensitive.conf"));
  assert.equal(c.apikey, "upper");
  assert.equal(c.displayName, "mixed");
  assert.equal(c.verbose, true);
  assert.equal(c.hostStatus.onStart, "working");
  assert.deepEqual(c.metricPlugins.map((p) => [p.name, p.command, p.timeoutSeconds]), [
    ["x", { kind: "shell", line: "x.sh" }, 7],
  ]);
});

Deno.test("config: a missing file is a ConfigError naming the file", async () => {
  const path = fixture("does-not-exist.conf");
  const e = await loadError(path);
  assert.equal(e.message, `open ${path}: no such file or directory`);
  assert.equal(e.file, path);
});

Deno.test("config: autoshutdown = true is read, as upstream's untagged field", async () => {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(file, 'apikey = "k"\nautoshutdown = true\n');
    assert.equal((await loadConfigFile(file)).autoshutdown, true);
    await Deno.writeTextFile(file, 'apikey = "k"\n');
    assert.equal((await loadConfigFile(file)).autoshutdown, false);
  } finally {
    await Deno.remove(file);
  }
});
