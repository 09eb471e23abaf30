import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors.ts";
import { initConfig } from "../../src/config/init.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onUnix } from "../support/platform.ts";
import { currentUmask } from "../support/umask.ts";

const unix = onUnix("Unix file modes");

Deno.test("init: -apikey is required", async () => {
  await assert.rejects(initConfig({ path: "/nonexistent/x.conf", apikey: "" }), {
    name: "ConfigError",
    message: "-apikey option is required",
  });
});

unix.test("init: creates the directory and a file holding just the key; a second run skips", async () => {
  await withTempDir("init-test-", async (dir) => {
    const path = `${dir}/etc/mackerel-agent/mackerel-agent.conf`;
    assert.equal(await initConfig({ path, apikey: "hoge" }), "written");
    assert.equal(await Deno.readTextFile(path), 'apikey = "hoge"\n');
    const umask = await currentUmask();
    assert.equal((await Deno.stat(`${dir}/etc/mackerel-agent`)).mode! & 0o777, 0o755 & ~umask);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644 & ~umask);

    assert.equal(await initConfig({ path, apikey: "other" }), "already-set");
    assert.equal(await Deno.readTextFile(path), 'apikey = "hoge"\n');
  });
});

unix.test("init: an empty or key-less file gets the key (and apibase) in front", async () => {
  await withTempDir("init-test-", async (dir) => {
    const empty = `${dir}/empty.conf`;
    await Deno.writeTextFile(empty, "");
    assert.equal(await initConfig({ path: empty, apikey: "hoge" }), "written");
    assert.equal(await Deno.readTextFile(empty), 'apikey = "hoge"\n');

    const keyless = `${dir}/keyless.conf`;
    const old = '# comment\nroles = ["S:r"]\n\n[plugin.metrics.x]\ncommand = "x"\n';
    await Deno.writeTextFile(keyless, old);
    await Deno.chmod(keyless, 0o600);
    const apibase = "https://api.example.com";
    assert.equal(await initConfig({ path: keyless, apikey: "hoge", apibase }), "written");
    assert.equal(
      await Deno.readTextFile(keyless),
      `apikey = "hoge"\napibase = "https://api.example.com"\n${old}`,
    );
    assert.equal((await Deno.stat(keyless)).mode! & 0o777, 0o600);
    const c = await loadConfigFile(keyless);
    assert.deepEqual([c.apikey, c.apibase, c.roles], ["hoge", apibase, ["S:r"]]);
  });
});

Deno.test("init: the key is quoted so that any text a header can carry survives", async () => {
  await withTempDir("init-test-", async (dir) => {
    const path = `${dir}/q.conf`;
    // Control characters and non-ASCII are refused (tests/config/header_value_test.ts).
    const apikey = 'a"b\\c\td ~';
    await initConfig({ path, apikey });
    assert.equal(await Deno.readTextFile(path), 'apikey = "a\\"b\\\\c\\td ~"\n');
    assert.equal((await loadConfigFile(path)).apikey, apikey);
  });
});

Deno.test("init: a file that does not load is an error and is left untouched", async () => {
  await withTempDir("init-test-", async (dir) => {
    const path = `${dir}/bad.conf`;
    await Deno.writeTextFile(path, "[plugin.metrics.x\n");
    const e = await initConfig({ path, apikey: "hoge" }).catch((e) => e);
    assert.ok(e instanceof ConfigError);
    assert.ok(e.message.startsWith(`failed to load the config file: ${path}: toml: line 1: `));
    assert.equal(await Deno.readTextFile(path), "[plugin.metrics.x\n");
  });
});
