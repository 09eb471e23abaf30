/**
 * The daemon command without an API key: it fails as upstream does unless `-stdout` asks for the
 * JSON lines, which `deno task start` does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { apikeyHint } from "../../src/cli/options.ts";
import { parseFlags } from "../../src/cli/flags.ts";
import { COMMON_FLAGS, commonOptions } from "../../src/cli/options.ts";
import { DEFAULT_CONFFILE } from "../../src/config/schema.ts";
import { EXIT_CONFIG } from "../../src/exit_codes.ts";
import { daemonArgs, runAgent, spawnAgent } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { waitFor } from "../support/wait.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("stops the agent with SIGTERM");

const ROOT = new URL("../../", import.meta.url).pathname;
const APIKEY_LINE =
  "failed to load config: apikey must be specified in the config file (or by the DEPRECATED " +
  "command-line flag)";

Deno.test(`daemon: no API key and no -stdout is upstream's error and a hint, exit ${EXIT_CONFIG}`, async () => {
  await withTempDir("daemon-nokey-", async (dir) => {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(conf, 'cloud_platform = "none"\n');
    const pidfile = join(dir, "pid");
    const out = await runAgent([`-conf=${conf}`, `-pidfile=${pidfile}`, "-interval=1"], {
      timeoutMs: 20_000,
    });
    assert.equal(out.code, EXIT_CONFIG, out.stderr);
    assert.equal(out.stdout, "");
    assert.equal(
      out.stderr,
      `${APIKEY_LINE}\nrun "mackerel-agent init -apikey=<key> -conf=${conf}" to write your ` +
        `API key into ${conf}, or add -stdout to print what would be posted instead\n`,
    );
    // It stopped before taking the pidfile.
    assert.equal(await Deno.stat(pidfile).catch(() => undefined), undefined);
  });
});

/** The tests below need the default config file to be missing, as on a fresh machine. */
const NO_DEFAULT_CONF = await Deno.stat(DEFAULT_CONFFILE).then(() => false, () => true);

Deno.test({
  name: "daemon and supervise: no -conf and no default file is upstream's error, even with a key",
  ignore: !NO_DEFAULT_CONF,
  fn: async () => {
    await withTempDir("daemon-noconf-", async (dir) => {
      const pidfile = join(dir, "pid");
      for (const command of [[], ["supervise"]]) {
        const out = await runAgent(
          [...command, "-apikey=k", `-root=${dir}`, `-pidfile=${pidfile}`, "-interval=1"],
          { timeoutMs: 20_000 },
        );
        assert.equal(out.code, EXIT_CONFIG, out.stderr);
        assert.equal(out.stdout, "");
        // Upstream 0.87.0's daemon prints the same line (and exits 1: see src/exit_codes.ts).
        assert.equal(
          out.stderr,
          `failed to load config: failed to load the config file: open ${DEFAULT_CONFFILE}: ` +
            "no such file or directory\n",
        );
        assert.equal(await Deno.stat(pidfile).catch(() => undefined), undefined);
      }
    });
  },
});

Deno.test({
  name: "daemon: -stdout without a config file runs on the defaults and says so",
  ignore: !NO_DEFAULT_CONF,
  fn: async () => {
    await withTempDir("daemon-noconf-stdout-", async (dir) => {
      const agent = spawnAgent(["-stdout", `-root=${dir}`, "-pidfile=", "-interval=1"]);
      try {
        await waitFor(() => agent.stdout().includes('{"metrics":'), "a metrics line on stdout");
      } finally {
        agent.kill("SIGTERM");
      }
      assert.equal(await agent.exited, 0, agent.stderr());
      assert.match(
        agent.stderr(),
        new RegExp(
          `WARNING <main> config file ${DEFAULT_CONFFILE} not found; running with the defaults`,
        ),
      );
    });
  },
});

Deno.test("daemon: the hint names the default config file when -conf is not given", () => {
  const options = commonOptions(parseFlags([], COMMON_FLAGS));
  assert.equal(
    apikeyHint(options, { offerStdout: false }),
    `run "mackerel-agent init -apikey=<key>" to write your API key into ${DEFAULT_CONFFILE}`,
  );
});

unix.test("daemon: -stdout is listed by -h and has no effect with a key", async () => {
  const help = await runAgent(["-h"], { timeoutMs: 20_000 });
  assert.equal(help.code, 0);
  // As Go's flag package, a command's -h writes to stderr.
  assert.match(
    help.stderr,
    /-stdout\b.*\n?.*with no API key, print what would be posted as JSON lines instead of failing/,
  );

  await withTempDir("daemon-stdout-key-", async (dir) => {
    const api = await startFakeMackerel();
    try {
      await Deno.writeTextFile(join(dir, "agent.conf"), 'cloud_platform = "none"\n');
      const agent = spawnAgent([...daemonArgs(dir, api), "-interval=1", "-stdout"]);
      await waitFor(() => api.metrics().length > 0, "metrics posted to the API");
      agent.kill("SIGTERM");
      assert.equal(await agent.exited, 0, agent.stderr());
      assert.equal(agent.stdout(), "");
      assert.doesNotMatch(agent.stderr(), /apikey is not configured/);
    } finally {
      await api.close();
    }
  });
});

unix.test("daemon: `deno task start` asks for -stdout and prints JSON lines with local.conf", async () => {
  // The task as the README tells a newcomer to run it, one agent second per minute.
  const task = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start", "-interval=1"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  let out = "";
  const pump = (async () => {
    for await (const chunk of task.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const stderr = new Response(task.stderr).text();
  try {
    await waitFor(() => out.split("\n").length >= 3, "the host line and a metrics line");
  } finally {
    task.kill("SIGTERM");
  }
  const status = await task.status;
  await pump;
  assert.equal(status.code, 0, await stderr);
  const [host, metrics] = out.split("\n").map((line) => line === "" ? {} : JSON.parse(line));
  assert.equal(typeof host.host.name, "string");
  assert.ok(Array.isArray(metrics.metrics));
});
