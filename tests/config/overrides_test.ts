import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors.ts";
import { applyOverrides, proxyEnvironment, requireApikey } from "../../src/config/overrides.ts";
import { type Config, defaultConfig } from "../../src/config/schema.ts";
import { captureLogs } from "../support/logs.ts";

const fromFile: Config = {
  ...defaultConfig(),
  conffile: "/etc/mackerel-agent/mackerel-agent.conf",
  apikey: "DUMMYAPIKEY",
  root: "/hoge/fuga",
  roles: ["File:role"],
};

Deno.test("overrides: upstream's TestParseFlags — bad -role dropped with an ERROR, flags win", async () => {
  const { result: c, lines } = await captureLogs(() =>
    applyOverrides(fromFile, {
      conf: "/tmp/x.conf",
      roles: ["My-Service:default,INVALID#SERVICE"],
      verbose: true,
      diagnostic: true,
    })
  );
  assert.equal(c.root, "/hoge/fuga");
  assert.deepEqual(c.roles, ["My-Service:default"]);
  assert.equal(c.verbose, true);
  assert.equal(c.diagnostic, true);
  assert.equal(c.conffile, "/tmp/x.conf");
  assert.deepEqual(lines, [
    "ERROR <main> Bad format for role fullname (expecting <service>:<role>. Alphabet, numbers, " +
    "hyphens and underscores are acceptable, but the first character must not be a hyphen or an " +
    "underscore.): 'INVALID#SERVICE'",
  ]);
});

Deno.test("overrides: explicit flags replace file values, unset flags keep them", async () => {
  const file = { ...fromFile, verbose: true, diagnostic: true };
  const { result: c } = await captureLogs(() =>
    applyOverrides(file, {
      apibase: "https://mackerel.io",
      apikey: "hogege",
      pidfile: "hoge",
      root: "hoge",
      verbose: false,
    })
  );
  assert.deepEqual(
    [c.apibase, c.apikey, c.pidfile, c.root, c.verbose, c.diagnostic, c.roles],
    ["https://mackerel.io", "hogege", "hoge", "hoge", false, true, ["File:role"]],
  );
  assert.equal(c.conffile, fromFile.conffile);
  assert.deepEqual(applyOverrides(fromFile, {}), fromFile);
});

Deno.test("overrides: -child disables the pidfile even when -pidfile is given", async () => {
  const { result: c } = await captureLogs(() =>
    applyOverrides(fromFile, { pidfile: "/run/x.pid" }, { child: true })
  );
  assert.equal(c.pidfile, "");
});

Deno.test("overrides: roles are split on commas without trimming and validated", async () => {
  const roles = ["a:b, c:d", "svc: role", "-x:y", "x:_y", "s_1-2:r-3_"];
  const { result: c, lines } = await captureLogs(() => applyOverrides(fromFile, { roles }));
  assert.deepEqual(c.roles, ["a:b", "svc: role", "s_1-2:r-3_"]);
  assert.deepEqual(lines.map((l) => l.replace(/^.*\): /, "")), ["' c:d'", "'-x:y'", "'x:_y'"]);
  const fileRoles = { ...fromFile, roles: ["Good:one", "bad"] };
  assert.deepEqual((await captureLogs(() => applyOverrides(fileRoles, {}))).result.roles, [
    "Good:one",
  ]);
});

Deno.test("overrides: verbose with silent is a WARNING, verbose kept", async () => {
  const { result: c, lines } = await captureLogs(() =>
    applyOverrides({ ...fromFile, silent: true }, { verbose: true })
  );
  assert.equal(c.verbose, true);
  assert.deepEqual(lines, [
    "WARNING <main> both of `verbose` and `silent` option are specified. In this case, `verbose` " +
    "get preference over `silent`",
  ]);
});

Deno.test("overrides: requireApikey throws upstream's message", () => {
  assert.throws(() => requireApikey(defaultConfig()), (e) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(
      e.message,
      "apikey must be specified in the config file (or by the DEPRECATED command-line flag)",
    );
    return true;
  });
  requireApikey(fromFile);
});

Deno.test("overrides: proxyEnvironment follows upstream's TestConfigProxy table", () => {
  const table: [string, string, Record<string, string>][] = [
    ["", "", {}],
    ["direct", "", {}],
    ["http://h:8080", "", { HTTP_PROXY: "http://h:8080", HTTPS_PROXY: "http://h:8080" }],
    ["", "http://s:8443", { HTTPS_PROXY: "http://s:8443" }],
    ["http://h:8080", "direct", { HTTP_PROXY: "http://h:8080" }],
    ["http://h:8080", "http://s:8443", {
      HTTP_PROXY: "http://h:8080",
      HTTPS_PROXY: "http://s:8443",
    }],
    ["direct", "direct", {}],
  ];
  for (const [httpProxy, httpsProxy, expected] of table) {
    assert.deepEqual(
      proxyEnvironment({ ...defaultConfig(), httpProxy, httpsProxy }),
      expected,
      `${httpProxy} / ${httpsProxy}`,
    );
  }
});
