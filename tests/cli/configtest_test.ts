/**
 * `configtest` as a real process: upstream's output, and this agent's `-lenient`, range checks,
 * byte-order mark and environment.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent } from "../support/agent_process.ts";
import { withTempDir } from "../support/temp_dir.ts";

/** Runs `configtest` on a temp config holding `content` with extra `args` and `env`. */
function configtest(
  content: string | Uint8Array,
  args: string[] = [],
  env: Record<string, string> = {},
) {
  return withTempDir("configtest-test-", async (dir) => {
    const path = join(dir, "agent.conf");
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
    return { path, ...(await runAgent(["configtest", `-conf=${path}`, ...args], { env })) };
  });
}

const WITH_UNKNOWN = 'apikey = "k"\npodfile = "/x"\n\n[plugin.metricz.x]\ncommand = "x"\n';

Deno.test("configtest: warnings end with an empty line; an ignored plugin kind names the file and line", async () => {
  const { code, stdout, stderr, path } = await configtest(WITH_UNKNOWN);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    "[WARNING] plugin.metricz.x is unexpected key. Did you mean plugin.metrics.x ? " +
      `(${path}:4)\n` +
      "[WARNING] podfile is unexpected key. Did you mean pidfile ?\n\n",
  );
});

Deno.test("configtest: an unknown table names the file and the line it starts on", async () => {
  const { code, stderr, path } = await configtest('apikey = "k"\n\n[foobar]\nx = 1\n');
  assert.equal(code, 1);
  assert.equal(stderr, `[WARNING] foobar is unexpected key. (${path}:3)\n\n`);
});

Deno.test("configtest -lenient: unknown keys are printed but exit 0; real errors still exit 1", async () => {
  const lenient = await configtest(WITH_UNKNOWN, ["-lenient"]);
  assert.equal(lenient.code, 0);
  assert.match(lenient.stderr, /^\[WARNING\] plugin\.metricz\.x is unexpected key\./);
  assert.ok(
    lenient.stderr.endsWith(
      `Did you mean pidfile ?\n\nSUCCESS (${lenient.path})\n`,
    ),
    lenient.stderr,
  );

  const broken = await configtest('apikey = "k"\n[filesystems]\nignore = "(unclosed"\n', [
    "-lenient",
  ]);
  assert.equal(broken.code, 1);
  assert.equal(
    broken.stderr,
    `[CRITICAL] failed to test config: failed to load the config file: ${broken.path}: toml: ` +
      'line 3 (last key "filesystems.ignore"): error parsing regexp: missing closing ): ' +
      "`(unclosed`\n",
  );

  const clean = await configtest('apikey = "k"\n', ["-lenient"]);
  assert.deepEqual([clean.code, clean.stderr], [0, `SUCCESS (${clean.path})\n`]);
});

Deno.test("configtest: a timeout past a day passes as upstream's does, with a WARNING that it is capped", async () => {
  const { code, stderr, path } = await configtest(
    'apikey = "k"\n[plugin.checks.slow]\ncommand = "x"\ntimeout_seconds = 2200000\n' +
      'action = { command = "y", timeout_seconds = 100000 }\n' +
      '[plugin.metadata.m]\ncommand = "x"\nexecution_interval = "720h"\n',
  );
  assert.equal(code, 0, stderr);
  const lines = stderr.split("\n").map((l) => l.replace(/^\S+ \S+ /, ""));
  assert.deepEqual(lines, [
    "WARNING <config> 'plugin.checks.slow.timeout_seconds' = 2200000 is more than 86400 seconds " +
    "(a day); using 86400",
    "WARNING <config> 'plugin.checks.slow.action.timeout_seconds' = 100000 is more than 86400 " +
    "seconds (a day); using 86400",
    "WARNING <config> 'plugin.metadata.m.execution_interval' = 43200 is more than 10080 minutes " +
    "(a week); using 10080",
    `SUCCESS (${path})`,
    "",
  ]);
});

Deno.test("configtest: a file starting with a UTF-8 byte-order mark passes", async () => {
  const text = new TextEncoder().encode(
    '\ufeffapikey = "k"\n[filesystems]\nignore = "^/dev/ram"\n',
  );
  assert.deepEqual(text.subarray(0, 3), new Uint8Array([0xef, 0xbb, 0xbf]));
  const { code, stderr, path } = await configtest(text);
  assert.deepEqual([code, stderr], [0, `SUCCESS (${path})\n`]);
});

Deno.test("configtest: MACKEREL_APIKEY stands in for a missing apikey and is never printed", async () => {
  const secret = "configtest-secret-7c1e";
  const missing = await configtest('roles = ["a:b"]\n');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /apikey must be specified/);
  const fromEnv = await configtest('roles = ["a:b"]\npodfile = "x"\n', ["-verbose"], {
    MACKEREL_APIKEY: secret,
  });
  assert.equal(fromEnv.code, 1, "the unknown key still fails without -lenient");
  assert.match(fromEnv.stderr, /podfile is unexpected key/);
  assert.ok(fromEnv.stderr.includes("from the environment: MACKEREL_APIKEY"), fromEnv.stderr);
  assert.ok(!fromEnv.stderr.includes(secret) && !fromEnv.stdout.includes(secret));
  const ok = await configtest('roles = ["a:b"]\n', [], { MACKEREL_APIKEY: secret });
  assert.deepEqual([ok.code, ok.stderr], [0, `SUCCESS (${ok.path})\n`]);
});

Deno.test("configtest -h shows -lenient among its flags", async () => {
  const { code, stderr } = await runAgent(["configtest", "-h"]);
  assert.equal(code, 0);
  assert.match(stderr, /^Usage: mackerel-agent configtest/);
  assert.match(stderr, /\n {2}-lenient\n {4}\texit 0 when unknown keys are the only findings/);
});
