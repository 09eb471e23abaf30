import assert from "node:assert/strict";
import {
  changedKeys,
  reloadDeclarationProblems,
  reloadRules,
} from "../../src/config/reload_effects.ts";
import type { CheckPluginConfig, Config, MetricPluginConfig } from "../../src/config/schema.ts";
import { CONFIG_FIELDS, defaultConfig, type Field } from "../../src/config/sections.ts";

const base = defaultConfig();
const metric = (name: string, more: Partial<MetricPluginConfig> = {}): MetricPluginConfig => ({
  name,
  command: { kind: "shell", line: `echo ${name}` },
  env: [],
  timeoutSeconds: 30,
  usePluginTimestamp: false,
  ...more,
});
const check = (name: string, more: Partial<CheckPluginConfig> = {}): CheckPluginConfig => ({
  name,
  command: { kind: "shell", line: `check ${name}` },
  env: [],
  timeoutSeconds: 30,
  checkIntervalMinutes: 1,
  preventAlertAutoClose: false,
  ...more,
});

/** The effects that would act on going from `before` to `after`, with the keys behind each. */
function effects(before: Config, after: Config): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const effect of new Set(reloadRules().map((r) => r.effect))) {
    const keys = changedKeys(effect, before, after);
    if (keys.length > 0) out[effect] = keys;
  }
  return out;
}

Deno.test("reload_effects: every key of the config tables says what a reload does with it", () => {
  assert.deepEqual(reloadDeclarationProblems(), []);
});

Deno.test("reload_effects: a key without a declaration, or with nothing to compare, is a problem", () => {
  const bool: Field["kind"] = { k: "bool" };
  const fields: Field[] = [
    ...CONFIG_FIELDS,
    { toml: "new_key", kind: bool, prop: "newKey" },
    {
      toml: "new_table",
      kind: {
        k: "struct",
        go: "x",
        fields: [{ toml: "a", kind: bool, prop: "a", reload: [{ effect: "next start" }] }, {
          toml: "b",
          kind: bool,
          prop: "b",
        }],
      },
      prop: "newTable",
    },
    { toml: "loaded", kind: bool, reload: [{ effect: "collectors" }] },
  ];
  assert.deepEqual(reloadDeclarationProblems(fields), [
    "new_key: no reload declaration",
    "new_table.b: no reload declaration",
    'loaded: "collectors" compares nothing (the key fills no property)',
  ]);
});

Deno.test("reload_effects: the keys read only at start are the ones a reload names for the next start", () => {
  const startOnly = reloadRules().filter((r) => r.effect === "next start").map((r) => r.key);
  assert.deepEqual(startOnly, [
    "apibase",
    "apikey",
    "root",
    "pidfile",
    "disable_http_keep_alive",
    "host_status.on_start",
    "http_proxy",
    "https_proxy",
    "autoshutdown",
    "otlp",
    "spool",
  ]);
  const next: Config = {
    ...base,
    apikey: "other",
    spool: { ...base.spool, maxAgeMinutes: 60 },
    hostStatus: { onStart: "working", onStop: "poweroff" },
    verbose: true,
  };
  assert.deepEqual(effects(base, next), {
    "next start": ["apikey", "host_status.on_start", "spool"],
    "when used": ["host_status.on_stop"],
    "log level": ["verbose"],
  });
  assert.deepEqual(effects(base, { ...base }), {});
});

Deno.test("reload_effects: collector keys and settings, each with its own effect", () => {
  // Writing `tcp = false` switches nothing on: the same set of collectors.
  assert.deepEqual(effects(base, { ...base, collectors: { tcp: false } }), {});
  assert.deepEqual(effects(base, { ...base, collectors: { Tcp: true } }), {
    collectors: ["collectors"],
  });
  assert.deepEqual(effects(base, { ...base, diagnostic: true }), {
    collectors: ["diagnostic"],
    "plugin loops": ["diagnostic"],
  });
  // A regexp compares by its source: a new one is a change, the same one is not.
  const ignore = (source: string): Config => ({ ...base, disks: { ignore: new RegExp(source) } });
  assert.deepEqual(effects(ignore("sda"), ignore("sdb")), { "collector settings": ["disks"] });
  assert.deepEqual(effects(ignore("sda"), ignore("sda")), {});
});

Deno.test("reload_effects: plugins: each kind changes only what it feeds", () => {
  const withMetric: Config = { ...base, metricPlugins: [metric("a")] };
  assert.deepEqual(effects(base, withMetric), {
    "metric plugins": ["plugin"],
    "plugin loops": ["plugin"],
  });
  const withCheck: Config = { ...base, checkPlugins: [check("ssh")] };
  assert.deepEqual(effects(base, withCheck), {
    "plugin loops": ["plugin"],
    "host spec": ["plugin"],
  });
  // A check moved to another host: its identifier is looked up.
  const elsewhere: Config = { ...base, checkPlugins: [check("ssh", { customIdentifier: "db" })] };
  assert.deepEqual(effects(withCheck, elsewhere), {
    "plugin loops": ["plugin"],
    "custom identifiers": ["plugin"],
    "host spec": ["plugin"],
  });
  // The same identifier from a metric plugin as well: the set of hosts is the same.
  const both: Config = { ...elsewhere, metricPlugins: [metric("a", { customIdentifier: "db" })] };
  assert.equal(effects(elsewhere, both)["custom identifiers"], undefined);
});
