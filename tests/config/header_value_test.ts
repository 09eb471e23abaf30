/**
 * An API key an HTTP header cannot carry is refused where it comes from (the file and key, the
 * environment variable, the flag), at load: `configtest` says so and the daemon exits 78 instead
 * of retrying `Invalid header value` forever. The key itself is never printed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyEnvironment } from "../../src/config/environment.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { headerValueProblem } from "../../src/config/header_value.ts";
import { initConfig } from "../../src/config/init.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { applyOverrides } from "../../src/config/overrides.ts";
import { defaultConfig } from "../../src/config/schema.ts";
import { runAgent } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { withLogs } from "../support/logs.ts";
import { withTempDir, writeFiles } from "../support/temp_dir.ts";

const SECRET = "s3cr3t-key";

/** Keys a header cannot carry, as TOML basic-string text, and what is said of them. */
const BAD: readonly [toml: string, said: string][] = [
  [`${SECRET}\\n`, "a newline (LF) at character 11 of 11"],
  [`${SECRET}\\r\\n`, "a carriage return (CR) at character 11 of 12"],
  [`s3\\u0000cr3t`, "a NUL character at character 3 of 7"],
  [`${SECRET}\\u001b`, "a control character (U+001B) at character 11 of 11"],
  [`${SECRET}\\u007f`, "a control character (U+007F) at character 11 of 11"],
  [`k\\u00e9y`, "a character outside ASCII at character 2 of 3"],
  [`k\\u3042y`, "a character outside ASCII at character 2 of 3"],
];

/** Matches a `ConfigError` with exactly this message. */
const configError = (message: string) => (error: unknown) => {
  assert.ok(error instanceof ConfigError, String(error));
  assert.equal(error.message, message);
  return true;
};

const unescape = (toml: string): string => JSON.parse(`"${toml}"`);

Deno.test("header value: refused exactly when fetch cannot send it as written", async () => {
  for (const [toml, said] of BAD) {
    assert.equal(headerValueProblem(unescape(toml)), `${said}, which an HTTP header cannot carry`);
  }
  assert.equal(headerValueProblem("abc DEF\t0123-_.~!"), undefined);
  // Every character up to U+017F in the middle of a key, through a real request: refused exactly
  // when fetch fails or the server receives something else than what was written.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => new Response(request.headers.get("x-api-key")),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/`;
    for (let code = 0; code <= 0x17f; code++) {
      const key = `ab${String.fromCodePoint(code)}cd`;
      let sent: boolean;
      try {
        const response = await fetch(url, { headers: { "X-Api-Key": key } });
        // The server reads the bytes as Latin-1: compare them with the key's UTF-8 bytes.
        const asWritten = String.fromCharCode(...new TextEncoder().encode(key));
        sent = (await response.text()) === asWritten;
      } catch {
        sent = false;
      }
      assert.equal(headerValueProblem(key) === undefined, sent, `U+${code.toString(16)}`);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("header value: a bad apikey in the file or an included one names the file, line and key", async () => {
  await withTempDir("apikey_", async (dir) => {
    for (const [toml, said] of BAD) {
      const path = join(dir, "agent.conf");
      await Deno.writeTextFile(path, `# key\napikey = "${toml}"\n`);
      const error = await loadConfigFile(path).then(() => undefined, (e) => e);
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(
        error.message,
        `${path}: toml: line 2 (last key "apikey"): the API key has ${said}, which an HTTP ` +
          "header cannot carry",
      );
      assert.equal(error.line, 2);
      assert.ok(!error.message.includes("s3cr3t") && !error.message.includes("cr3t"));
    }
    await writeFiles(dir, {
      "main.conf": `apikey = "good"\ninclude = "${dir}/conf.d/*.conf"\n`,
      "conf.d/key.conf": 'apikey = """\nk\n"""\n',
    });
    await assert.rejects(
      loadConfigFile(join(dir, "main.conf")),
      configError(
        `while loading included config file ${dir}/conf.d/key.conf: toml: line 1 (last key ` +
          '"apikey"): the API key has a newline (LF) at character 2 of 2, which an HTTP header ' +
          "cannot carry",
      ),
    );
  });
});

Deno.test("header value: a bad key from the environment or the flag names the variable or the flag", async () => {
  await withLogs(() => {
    const base = defaultConfig();
    assert.throws(
      () =>
        applyEnvironment(base, (name) => name === "MACKEREL_APIKEY" ? `${SECRET}\n` : undefined),
      configError(
        "the environment variable MACKEREL_APIKEY: the API key has a newline (LF) at character " +
          "11 of 11, which an HTTP header cannot carry",
      ),
    );
    assert.throws(
      () => applyOverrides(base, { apikey: `${SECRET}\r` }, { env: () => undefined }),
      configError(
        "the flag -apikey: the API key has a carriage return (CR) at character 11 of 11, which " +
          "an HTTP header cannot carry",
      ),
    );
    assert.equal(
      applyOverrides(base, { apikey: SECRET }, { env: () => undefined }).apikey,
      SECRET,
    );
    return Promise.resolve();
  });
});

Deno.test("header value: init refuses to write a key it could not send", async () => {
  await withTempDir("apikey_", async (dir) => {
    const path = join(dir, "agent.conf");
    await assert.rejects(
      initConfig({ path, apikey: `${SECRET}\n` }),
      configError(
        "the flag -apikey: the API key has a newline (LF) at character 11 of 11, which an HTTP " +
          "header cannot carry",
      ),
    );
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  });
});

Deno.test("header value: configtest fails and the daemon exits 78 without a request", async () => {
  const api = await startFakeMackerel();
  try {
    await withTempDir("apikey_", async (dir) => {
      const conf = join(dir, "agent.conf");
      await Deno.writeTextFile(conf, `cloud_platform = "none"\napikey = "${SECRET}\\n"\n`);
      const configtest = await runAgent(["configtest", `-conf=${conf}`]);
      assert.equal(configtest.code, 1);
      assert.equal(
        configtest.stderr,
        `[CRITICAL] failed to test config: failed to load the config file: ${conf}: toml: line 2 ` +
          '(last key "apikey"): the API key has a newline (LF) at character 11 of 11, which an ' +
          "HTTP header cannot carry\n",
      );

      await Deno.writeTextFile(conf, `cloud_platform = "none"\n`);
      const args = [`-conf=${conf}`, `-apibase=${api.url}`, `-root=${dir}/root`, "-pidfile="];
      const daemon = await runAgent(args, { env: { MACKEREL_APIKEY: `${SECRET}\n` } });
      assert.equal(daemon.code, 78, daemon.stderr);
      assert.equal(
        daemon.stderr,
        "failed to load config: the environment variable MACKEREL_APIKEY: the API key has a " +
          "newline (LF) at character 11 of 11, which an HTTP header cannot carry\n",
      );
      assert.ok(!daemon.stderr.includes(SECRET));
      assert.equal(api.requests.length, 0);
    });
  } finally {
    await api.close();
  }
});
