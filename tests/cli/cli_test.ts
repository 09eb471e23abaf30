import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { EXIT_CONFIG } from "../../src/exit_codes.ts";
import { runAgent } from "../support/agent_process.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("a Unix path that cannot be created");

const FIXTURES = fileURLToPath(new URL("../fixtures/config/", import.meta.url));

Deno.test("cli: version prints upstream's line with Deno in place of Go", async () => {
  const { code, stdout } = await runAgent(["version"]);
  assert.equal(code, 0);
  assert.match(
    stdout,
    new RegExp(
      String.raw`^mackerel-agent version \d+\.\d+\.\d+ \(rev ([0-9a-f]{7}|unknown)\) ` +
        String.raw`\[${Deno.build.os} (amd64|arm64) deno\d+\.\d+\.\d+\] \n$`,
    ),
  );
});

/** Upstream's program usage (go-cli): the usage line, a blank line, the sorted table of commands. */
function assertUsage(lines: readonly string[]): void {
  assert.equal(lines[0], "Usage: mackerel-agent <command> [<args>]");
  assert.equal(lines[1], "");
  assert.equal(lines[2], "Commands:");
  const rows = lines.slice(3).map((line) => line.match(/^ {4}(\S+(?: command>)?) +(\S.*)$/));
  assert.ok(rows.every((row) => row !== null), lines.join("\n"));
  assert.deepEqual(rows.map((row) => row![1]), [
    "<no command>",
    "configtest",
    "help",
    "init",
    "once",
    "retire",
    "service",
    "status",
    "supervise",
    "version",
  ]);
  // One column for the summaries, four spaces past the longest name (Go's tabwriter padding).
  const column = new Set(lines.slice(3).map((line, i) => line.lastIndexOf(rows[i]![2])));
  assert.deepEqual([...column], [4 + "<no command>".length + 4]);
}

/** What upstream 0.87.0 prints on stderr for `mackerel-agent nosuchcmd` (exit 2). */
const UPSTREAM_UNKNOWN_COMMAND = `Usage: mackerel-agent <command> [<args>]

Commands:
    <no command>    mackerel-agent
    configtest      configtest
    init            initialize mackerel-agent.conf with apikey
    once            output onetime
    retire          retire the host
    supervise       supervisor mode
    version         display version of mackerel-agent
`;

Deno.test("cli: an unknown subcommand prints upstream's text, plus our own commands, exit 2", async () => {
  const { code, stdout, stderr } = await runAgent(["nosuchcmd"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assertUsage(stderr.trimEnd().split("\n"));
  // Without the lines of the commands upstream lacks, it is upstream's text byte for byte.
  const ours = stderr.split("\n").filter((l) => !/^ {4}(help|service|status) /.test(l)).join("\n");
  assert.equal(ours, UPSTREAM_UNKNOWN_COMMAND);
});

Deno.test("cli: help prints the usage with the commands on stdout, exit 0", async () => {
  const { code, stdout, stderr } = await runAgent(["help"]);
  assert.equal(code, 0, stderr);
  assertUsage(stdout.trimEnd().split("\n"));
  const unknown = await runAgent(["help", "nope"]);
  assert.equal(unknown.code, 2);
  assertUsage(unknown.stderr.trimEnd().split("\n"));
});

Deno.test("cli: an unknown flag prints the error and the command's help, exit 2", async () => {
  const { code, stderr } = await runAgent(["once", "-nope"]);
  assert.equal(code, 2);
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines[0], "mackerel-agent once: flag provided but not defined: -nope");
  assert.equal(lines[1], "Usage: mackerel-agent once [options]");
  assert.ok(lines.includes("Options:"), stderr);
});

/** The flags a help text lists, in order. */
const listedFlags = (help: string) => [...help.matchAll(/^ {2}-([\w-]+)/gm)].map((m) => m[1]);

Deno.test("cli: help <command> and <command> -h show its text and flags with defaults", async () => {
  const viaHelp = await runAgent(["help", "once"]);
  const viaFlag = await runAgent(["once", "-h"]);
  assert.equal(viaHelp.code, 0);
  assert.equal(viaFlag.code, 0);
  assert.equal(viaFlag.stdout, "");
  assert.equal(viaHelp.stdout, viaFlag.stderr, "the same text, on stdout for help, stderr for -h");
  const text = viaHelp.stdout;
  assert.match(text, /^Usage: mackerel-agent once \[options\]\n\n\S/);
  assert.match(text, /\n\nOptions:\n/);
  const flags = listedFlags(text);
  assert.deepEqual(flags, [...flags].sort(), "sorted by name, as Go's flag package lists them");
  for (const name of ["conf", "procfs", "sysfs", "rootfs", "skip-checks", "v", "verbose"]) {
    assert.ok(flags.includes(name), name);
  }
  // The agent's own flags are not for users.
  assert.ok(!flags.includes("child") && !flags.includes("private-autoshutdown"), text);
  // Go's layout: the help on the next line after four spaces and a tab, then the default.
  assert.ok(
    text.includes('  -procfs DIR\n    \tprocfs root: where /proc is mounted (default "/proc")\n'),
  );
  assert.ok(text.includes("  -v\tshorthand for -verbose\n"), text);
  assert.match(text, /-interval SECONDS\n {4}\t.* \(default 60\)\n/);
  // A flag another command does not have is not listed there.
  assert.ok(!listedFlags((await runAgent(["help", "configtest"])).stdout).includes("skip-checks"));
});

Deno.test("cli: -h of the daemon shows its flags, then the commands", async () => {
  const { code, stdout, stderr } = await runAgent(["-h"]);
  assert.equal(code, 0);
  assert.equal(stdout, "");
  assert.match(stderr, /^Usage: mackerel-agent \[options\]\n/);
  assert.ok(listedFlags(stderr).includes("version"));
  assert.ok(!listedFlags(stderr).includes("child"));
  const commands = stderr.slice(stderr.indexOf("\nCommands:\n") + 1).trimEnd().split("\n");
  assertUsage(["Usage: mackerel-agent <command> [<args>]", "", ...commands]);
});

Deno.test("cli: -version, --version and version with any arguments print the version", async () => {
  const expected = (await runAgent(["version"])).stdout;
  for (
    const args of [["-version"], ["--version"], ["-conf=/nonexistent", "-version"], [
      "version",
      "-x",
    ]]
  ) {
    const { code, stdout } = await runAgent(args);
    assert.equal(code, 0, args.join(" "));
    assert.equal(stdout, expected, args.join(" "));
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

unix.test("cli: init into a place it cannot write is one line, no stack, exit 1", async () => {
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
