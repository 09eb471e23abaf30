import assert from "node:assert/strict";
import { EXIT_CONFIG } from "../../src/exit_codes.ts";
import { runAgent } from "../support/agent_process.ts";

const FIXTURES = new URL("../fixtures/config/", import.meta.url).pathname;

Deno.test("cli: version prints upstream's line with Deno in place of Go", async () => {
  const { code, stdout } = await runAgent(["version"]);
  assert.equal(code, 0);
  assert.match(
    stdout,
    /^mackerel-agent version \d+\.\d+\.\d+ \(rev ([0-9a-f]{7}|unknown)\) \[linux (amd64|arm64) deno\d+\.\d+\.\d+\] \n$/,
  );
});

Deno.test("cli: an unknown subcommand prints one error and one usage line, exit 2", async () => {
  const { code, stdout, stderr } = await runAgent(["nope"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  assert.equal(lines[0], 'mackerel-agent: unknown command "nope"');
  assert.match(lines[1], /^Usage: mackerel-agent <command> \[<args>\]/);
});

Deno.test("cli: an unknown flag prints one error and one usage line, exit 2", async () => {
  const { code, stderr } = await runAgent(["once", "-nope"]);
  assert.equal(code, 2);
  const lines = stderr.trimEnd().split("\n");
  assert.deepEqual(lines.length, 2);
  assert.equal(lines[0], "mackerel-agent once: flag provided but not defined: -nope");
});

Deno.test("cli: help lists the commands and flags, exit 0", async () => {
  const { code, stdout } = await runAgent(["help"]);
  assert.equal(code, 0);
  for (const word of ["version", "once", "configtest", "-conf", "-procfs", "-interval"]) {
    assert.ok(stdout.includes(word), word);
  }
});

Deno.test("cli: configtest on a TOML syntax error names the file and the line, exit 1", async () => {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(file, 'apikey = "k"\nroles = ["a:b"]\n[filesystems\nignore = "x"\n');
    const { code, stderr } = await runAgent(["configtest", "-conf", file]);
    assert.equal(code, 1);
    assert.match(stderr, /^\[CRITICAL\] failed to test config: /);
    assert.ok(stderr.includes(file), stderr);
    assert.match(stderr, /line 3/);
    assert.ok(!stderr.includes("    at "), "no stack trace");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("cli: configtest reports unknown keys with suggestions, exit 1", async () => {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(file, 'apikey = "k"\npodfile = "/x"\n');
    const { code, stderr } = await runAgent(["configtest", `-conf=${file}`]);
    assert.equal(code, 1);
    // Upstream prints the block with Println: it ends with an empty line.
    assert.equal(stderr, "[WARNING] podfile is unexpected key. Did you mean pidfile ?\n\n");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("cli: configtest without an API key fails as upstream does", async () => {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(file, 'roles = ["a:b"]\n');
    const { code, stderr } = await runAgent(["configtest", "-conf", file]);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      "[CRITICAL] failed to test config: apikey must be specified in the config file (or by the DEPRECATED command-line flag)\n",
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("cli: configtest on a good file prints SUCCESS on stderr, exit 0", async () => {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(file, 'apikey = "k"\n[filesystems]\nignore = "/dev/ram.*"\n');
    const { code, stdout, stderr } = await runAgent(["configtest", "--conf", file]);
    assert.equal(code, 0);
    assert.equal(stdout, "");
    assert.equal(stderr, `SUCCESS (${file})\n`);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("cli: configtest on a missing file names it, exit 1", async () => {
  const { code, stderr } = await runAgent([
    "configtest",
    "-conf",
    `${FIXTURES}does-not-exist.conf`,
  ]);
  assert.equal(code, 1);
  assert.ok(stderr.includes("does-not-exist.conf"), stderr);
  assert.ok(!stderr.includes("    at "), "no stack trace");
});

Deno.test(`cli: the daemon refuses a -conf that does not exist, exit ${EXIT_CONFIG}`, async () => {
  const { code, stdout, stderr } = await runAgent(["-conf=/nonexistent/agent.conf", "-pidfile="]);
  assert.equal(code, EXIT_CONFIG);
  assert.equal(stdout, "");
  assert.match(stderr, /^failed to load config: .*\/nonexistent\/agent\.conf/);
});

Deno.test("cli: a bad apibase is one line naming the key, exit 1", async () => {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(file, 'apikey = "k"\napibase = "api.example"\n');
    const { code, stderr } = await runAgent(["configtest", `-conf=${file}`]);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `[CRITICAL] failed to test config: apibase: not an http(s) URL: "api.example"\n`,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("cli: init into a place it cannot write is one line, no stack, exit 1", async () => {
  const { code, stderr } = await runAgent(["init", "-apikey=k", "-conf=/proc/nope/agent.conf"]);
  assert.equal(code, 1);
  assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
  assert.match(stderr, /^mackerel-agent init: /);
});

Deno.test("cli: a config error carries upstream's 'failed to load the config file' prefix", async () => {
  const file = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(file, 'apikey = "k"\n[plugin.metrics.mysql]\ncommand = 100\n');
    const { code, stderr } = await runAgent([`-conf=${file}`, "-pidfile="]);
    assert.equal(code, EXIT_CONFIG);
    assert.equal(
      stderr,
      `failed to load config: failed to load the config file: ${file}: plugin.metrics.mysql: ` +
        "failed to parse plugin command. A configuration value of `command` should be string or string slice, but int64\n",
    );
  } finally {
    await Deno.remove(file);
  }
});
