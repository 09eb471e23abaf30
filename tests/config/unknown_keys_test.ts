import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../src/config/errors.ts";
import { findUnknownKeys, levenshtein, scanKeys } from "../../src/config/unknown_keys.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));

Deno.test("unknown_keys: upstream's TestValidateConfig examples, sorted, with suggestions", async () => {
  assert.deepEqual(await findUnknownKeys(fixture("unknown_keys.conf")), [
    "[WARNING] filesystems.use_mntpoint is unexpected key. Did you mean filesystems.use_mountpoint ?",
    "[WARNING] foobar is unexpected key.",
    "[WARNING] plugin.check.1 is unexpected key. Did you mean plugin.checks.1 ?",
    "[WARNING] plugin.check.2 is unexpected key. Did you mean plugin.checks.2 ?",
    "[WARNING] plugin.checks.1.action.en is unexpected key. Did you mean plugin.checks.1.action.env ?",
    "[WARNING] plugin.foo.bar is unexpected key. Did you mean plugin.metrics.bar ?",
    "[WARNING] plugin.metric.1 is unexpected key. Did you mean plugin.metrics.1 ?",
    "[WARNING] plugin.metrics.1.action.use is unexpected key. Did you mean plugin.metrics.1.action.user ?",
    "[WARNING] plugin.metrics.2.action.xxx is unexpected key.",
    "[WARNING] plugin.metrics.a.b is unexpected key.",
    "[WARNING] plugins is unexpected key. Did you mean plugin ?",
    "[WARNING] podfile is unexpected key. Did you mean pidfile ?",
  ]);
});

Deno.test("unknown_keys: a key in a table is offered only that table's keys", async () => {
  // Upstream 0.87.0 prints the same lines for this file, except that it offers
  // `plugin.checks.c.ignore` itself (its one flat list of candidates holds [filesystems]'s
  // `ignore`); with that list, [spool]'s `max_age` would be offered for `max_ag` too.
  assert.deepEqual(await findUnknownKeys(fixture("unknown_keys_tables.conf")), [
    "[WARNING] filesystems.ignor is unexpected key. Did you mean filesystems.ignore ?",
    "[WARNING] filesystems.tc is unexpected key.",
    "[WARNING] host_status.on_star is unexpected key. Did you mean host_status.on_start ?",
    "[WARNING] plugin.checks.c.action.tcp is unexpected key.",
    "[WARNING] plugin.checks.c.ignore is unexpected key.",
    "[WARNING] plugin.checks.c.memoo is unexpected key. Did you mean plugin.checks.c.memo ?",
    "[WARNING] plugin.metrics.linux.max_ag is unexpected key.",
    "[WARNING] plugin.metrics.linux.tiemout_seconds is unexpected key. Did you mean " +
    "plugin.metrics.linux.timeout_seconds ?",
    "[WARNING] plugin.metrics.linux.type is unexpected key.",
  ]);
});

Deno.test("unknown_keys: the full sample only has its other-kind plugin; case-insensitive keys are known", async () => {
  assert.deepEqual(await findUnknownKeys(fixture("full.conf")), [
    "[WARNING] plugin.unknown.ignored is unexpected key. Did you mean plugin.metrics.ignored ?",
  ]);
  assert.deepEqual(await findUnknownKeys(fixture("case_insensitive.conf")), []);
});

Deno.test("unknown_keys: unreadable or malformed files are ConfigErrors", async () => {
  await assert.rejects(findUnknownKeys(fixture("missing.conf")), ConfigError);
  await assert.rejects(findUnknownKeys(fixture("syntax_error.conf")), {
    name: "ConfigError",
    line: 3,
  });
});

Deno.test("unknown_keys: scanKeys lists explicit keys with their lines", () => {
  const text = 'a = 1\n[b . "c.d"]\nx.y = { z = [1, { q = 2 }] } # note\ns = """\n[fake]\n"""\n' +
    "[[arr]]\nk = 'v'\n";
  assert.deepEqual(scanKeys(text).map((k) => [k.path.join("/"), k.line]), [
    ["a", 1],
    ["b/c.d", 2],
    ["b/c.d/x/y/z/q", 3],
    ["b/c.d/x/y/z", 3],
    ["b/c.d/x/y", 3],
    ["b/c.d/s", 4],
    ["arr", 7],
    ["arr/k", 8],
  ]);
});

Deno.test("unknown_keys: Levenshtein distance", () => {
  assert.equal(levenshtein("podfile", "pidfile"), 1);
  assert.equal(levenshtein("use_mntpoint", "use_mountpoint"), 2);
  assert.equal(levenshtein("use", "env"), 3);
  assert.equal(levenshtein("", "abc"), 3);
  assert.equal(levenshtein("あいう", "あう"), 1);
});
