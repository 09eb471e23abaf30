import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyOverrides } from "../../src/config/overrides.ts";
import { type Config, defaultConfig } from "../../src/config/schema.ts";
import { runAgent, spawnAgent, waitFor } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { captureLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("stops the agent with SIGTERM");

const PROBE = fileURLToPath(new URL("./resolve_probe.ts", import.meta.url));
const SECRET = "env-secret-key-5f3a9";

const fromFile: Config = {
  ...defaultConfig(),
  apikey: "file-key",
  apibase: "https://file.example",
  roles: ["File:role"],
  displayName: "file name",
  hostStatus: { onStart: "standby", onStop: "poweroff" },
};

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("environment: MACKEREL_* override the file; flags override them; names logged, never values", async () => {
  const env = envOf({
    MACKEREL_APIKEY: SECRET,
    MACKEREL_APIBASE: "https://env.example",
    MACKEREL_ROLES: " Svc:web , Svc:db,,",
    MACKEREL_DISPLAY_NAME: "env name",
    MACKEREL_HOST_STATUS_ON_START: "working",
  });
  const { result: c, lines } = await captureLogs(() => applyOverrides(fromFile, {}, { env }));
  assert.equal(c.apikey, SECRET);
  assert.equal(c.apibase, "https://env.example");
  assert.deepEqual(c.roles, ["Svc:web", "Svc:db"]);
  assert.equal(c.displayName, "env name");
  assert.deepEqual(c.hostStatus, { onStart: "working", onStop: "poweroff" });
  assert.deepEqual(lines, [
    "DEBUG <config> from the environment: MACKEREL_APIKEY, MACKEREL_APIBASE, MACKEREL_ROLES, " +
    "MACKEREL_DISPLAY_NAME, MACKEREL_HOST_STATUS_ON_START",
  ]);

  const { result: flagged } = await captureLogs(() =>
    applyOverrides(fromFile, {
      apikey: "flag-key",
      apibase: "https://flag.example",
      roles: ["F:r"],
    }, {
      env,
    })
  );
  assert.deepEqual([flagged.apikey, flagged.apibase, flagged.roles], [
    "flag-key",
    "https://flag.example",
    ["F:r"],
  ]);
});

Deno.test("environment: empty or unset variables leave the file's values", async () => {
  const { result: c, lines } = await captureLogs(() =>
    applyOverrides(fromFile, {}, { env: envOf({ MACKEREL_APIKEY: "", MACKEREL_ROLES: "" }) })
  );
  assert.equal(c.apikey, "file-key");
  assert.deepEqual(c.roles, ["File:role"]);
  assert.deepEqual(lines, []);
});

Deno.test("environment: a real process resolves file < environment < flags", async () => {
  await withTempDir("env-test-", async (dir) => {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(conf, 'apikey = "file-key"\nroles = ["File:role"]\n');
    const env = { MACKEREL_APIKEY: SECRET, MACKEREL_ROLES: "Env:role" };
    const resolved = async (args: string[], vars: Record<string, string>) => {
      const { code, stdout, stderr } = await runAgent([`-conf=${conf}`, ...args], {
        entry: PROBE,
        env: vars,
      });
      assert.equal(code, 0, stderr);
      return JSON.parse(stdout);
    };
    assert.deepEqual(await resolved([], {}), {
      apikey: "file-key",
      apibase: "https://api.mackerelio.com",
      roles: ["File:role"],
      displayName: "",
      onStart: "",
    });
    const fromEnv = await resolved([], env);
    assert.deepEqual([fromEnv.apikey, fromEnv.roles], [SECRET, ["Env:role"]]);
    const fromFlags = await resolved(["-apikey=flag-key", "-role=Flag:role"], env);
    assert.deepEqual([fromFlags.apikey, fromFlags.roles], ["flag-key", ["Flag:role"]]);
    // Without --allow-env the variables are not read (no prompt, no failure).
    const denied = await runAgent([`-conf=${conf}`], {
      entry: PROBE,
      env,
      permissions: ["--allow-read", "--no-prompt"],
    });
    assert.equal(denied.code, 0, denied.stderr);
    assert.equal(JSON.parse(denied.stdout).apikey, "file-key");
  });
});

unix.test("environment: the daemon registers with MACKEREL_APIKEY and MACKEREL_APIBASE and never logs the key", async () => {
  const api = await startFakeMackerel({ apiKey: SECRET });
  try {
    await withTempDir("env-e2e-", async (dir) => {
      const conf = join(dir, "agent.conf");
      await Deno.writeTextFile(conf, 'cloud_platform = "none"\n');
      const agent = spawnAgent([
        `-conf=${conf}`,
        `-root=${join(dir, "root")}`,
        `-pidfile=${join(dir, "agent.pid")}`,
        "-interval=1",
        "-verbose",
      ], {
        env: {
          MACKEREL_APIKEY: SECRET,
          MACKEREL_APIBASE: api.url,
          MACKEREL_ROLES: "Env:role",
          MACKEREL_DISPLAY_NAME: "from-env",
        },
      });
      try {
        // A post, not only the registration: the signal handlers are in place by then.
        await waitFor(() => api.metrics().length > 0, "a post made with the key from env");
      } finally {
        agent.kill("SIGTERM");
      }
      assert.equal(await agent.exited, 0, agent.stderr());
      const [host] = api.hosts.values();
      const payload = host.payload as { displayName?: string; roleFullnames?: string[] };
      assert.equal(payload.displayName, "from-env");
      assert.deepEqual(payload.roleFullnames, ["Env:role"]);
      assert.deepEqual(api.violations, []);
      assert.ok(agent.stderr().includes("from the environment: MACKEREL_APIKEY"), agent.stderr());
      assert.ok(!agent.stderr().includes(SECRET) && !agent.stdout().includes(SECRET));
    });
  } finally {
    await api.close();
  }
});
