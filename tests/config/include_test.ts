import assert from "node:assert/strict";
import { loadConfigFile } from "../../src/config/load.ts";
import { inDir } from "../support/config_in_dir.ts";
import { withTempDir, writeFiles } from "../support/temp_dir.ts";

/** Runs `fn` in a fresh temp dir holding `files`; the path of the dir is passed. */
const withFiles = (files: Record<string, string>, fn: (dir: string) => Promise<void>) =>
  withTempDir("include-test-", async (dir) => {
    await writeFiles(dir, files);
    await fn(dir);
  });

Deno.test("include: adds plugins, replaces a same-name plugin and roles; other keys stay", async () => {
  await withFiles({ "conf.d/sub1.conf": SUB1 }, async (dir) => {
    await Deno.writeTextFile(`${dir}/main.conf`, MAIN(`${dir}/conf.d/*.conf`));
    const c = await loadConfigFile(`${dir}/main.conf`);
    assert.equal(c.apikey, "abcde");
    assert.equal(c.pidfile, "/path/to/pidfile");
    assert.equal(c.root, "/var/lib/mackerel-agent");
    assert.equal(c.verbose, false);
    assert.deepEqual(c.roles, ["Service:role"]);
    assert.deepEqual(c.metricPlugins.map((p) => [p.name, p.command]), [
      ["foo1", { kind: "shell", line: "foo1" }],
      ["bar", { kind: "shell", line: "bar" }],
      ["foo2", { kind: "shell", line: "foo2" }],
    ]);
  });
});

Deno.test("include: included apikey, pidfile, root and verbose override the main file", async () => {
  const sub =
    'apikey = "new-api-key"\npidfile = "/path/to/pidfile2"\nroot = "/tmp"\nverbose = true\n';
  await withFiles({ "conf.d/sub2.conf": sub }, async (dir) => {
    await Deno.writeTextFile(`${dir}/main.conf`, MAIN(`${dir}/conf.d/*.conf`));
    const c = await loadConfigFile(`${dir}/main.conf`);
    assert.deepEqual([c.apikey, c.pidfile, c.root, c.verbose], [
      "new-api-key",
      "/path/to/pidfile2",
      "/tmp",
      true,
    ]);
    assert.deepEqual(c.roles, ["roles", "to be overwritten"]);
  });
});

Deno.test("include: relative to the working directory, lexical order, tables merged per field, not recursive", async () => {
  await withFiles({
    "etc/main.conf":
      'apikey = "k"\ninclude = "inc/[ab]?.conf"\n[host_status]\non_start = "working"\n',
    "inc/b1.conf": 'display_name = "from b1"\nroles = []\ninclude = "inc/z.conf"\n',
    "inc/a1.conf":
      'display_name = "from a1"\nroles = ["S:r"]\n[host_status]\non_stop = "poweroff"\n',
    "inc/c1.conf": 'display_name = "not matched"\n',
    "inc/z.conf": 'apikey = "never read"\n',
  }, async (dir) => {
    const [{ value, error }] = await inDir(dir, ["load:etc/main.conf"]);
    assert.equal(error, undefined);
    const c = value as Record<string, unknown>;
    assert.equal(c.displayName, "from b1");
    assert.deepEqual(c.roles, []);
    assert.equal(c.apikey, "k");
    assert.deepEqual(c.hostStatus, { onStart: "working", onStop: "poweroff" });
  });
});

Deno.test("include: no match is fine; a bad pattern and a bad included file are errors", async () => {
  await withFiles({
    "none.conf": 'apikey = "k"\ninclude = "no/such/dir/*.conf"\n',
    "badglob.conf": 'apikey = "k"\ninclude = "conf.d/[a.conf"\n',
    "badinc.conf": 'apikey = "k"\ninclude = "conf.d/*.conf"\n',
    "conf.d/x.conf": '\n\nverbose = "yes"\n',
  }, async (dir) => {
    const [none, badglob, badinc] = await inDir(dir, [
      "load:none.conf",
      "load:badglob.conf",
      "load:badinc.conf",
    ]);
    assert.equal((none.value as Record<string, unknown>).apikey, "k");
    assert.equal(badglob.error?.name, "ConfigError");
    assert.equal(
      badglob.error?.message,
      'badglob.conf: include "conf.d/[a.conf": syntax error in pattern',
    );
    const e = badinc.error;
    assert.equal(e?.name, "ConfigError");
    assert.equal(
      e?.message,
      'while loading included config file conf.d/x.conf: toml: line 3 (last key "verbose"): ' +
        "incompatible types: TOML value has type string; destination has type boolean",
    );
    assert.deepEqual([e?.file, e?.line, e?.key], ["conf.d/x.conf", 3, "verbose"]);
  });
});

Deno.test("include: glob follows Go's filepath.Glob", async () => {
  await withFiles({
    "d1/a.conf": "",
    "d1/b.conf": "",
    "d1/.hidden.conf": "",
    "d1/c-1.txt": "",
    "d2/a.conf": "",
    "x*y": "",
  }, async (dir) => {
    const expected: [string, string[]][] = [
      ["d1/*.conf", ["d1/.hidden.conf", "d1/a.conf", "d1/b.conf"]],
      ["d?/a.conf", ["d1/a.conf", "d2/a.conf"]],
      ["d1/[^a.]*", ["d1/b.conf", "d1/c-1.txt"]],
      ["d1/c[+-.]1.txt", ["d1/c-1.txt"]],
      ["x\\*y", ["x*y"]],
      ["./d2/*", ["d2/a.conf"]],
      ["d1/a.conf", ["d1/a.conf"]],
      ["d1/zzz", []],
    ];
    const bad = ["[", "a[", "[]", "[^]", "[a-]", "[--z]", "\\", "[z-"];
    const outcomes = await inDir(
      dir,
      [...expected.map(([p]) => p), ...bad].map((p) => `glob:${p}`),
    );
    assert.deepEqual(
      outcomes,
      [
        ...expected.map(([, value]) => ({ value })),
        ...bad.map(() => ({ error: { name: "Error", message: "syntax error in pattern" } })),
      ],
    );
  });
});

const MAIN = (include: string) => `
apikey = "abcde"
pidfile = "/path/to/pidfile"
root = "/var/lib/mackerel-agent"
verbose = false

roles = [ "roles", "to be overwritten" ]

include = ${JSON.stringify(include)}

[plugin.metrics.foo1]
command = "foo1"

[plugin.metrics.bar]
command = "this will be overwritten"
`;

const SUB1 = `
roles = [ "Service:role" ]

[plugin.metrics.foo2]
command = "foo2"

[plugin.metrics.bar]
command = "bar"
`;
