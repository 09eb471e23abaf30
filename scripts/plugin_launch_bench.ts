/**
 * Benchmark of what the agent does for every plugin run before spawning it: find the executable
 * in PATH and build the child's environment. Before: a stat of each PATH entry and a copy of the
 * whole environment per run; after: one stat of the remembered file and the environment built
 * once; and the watchdog's part of a run. Run with `deno task bench` (or
 * `deno bench -A scripts/plugin_launch_bench.ts`).
 *
 * @module
 */
import { buildEnv, pluginBaseEnv, pluginPath } from "../src/plugins/command.ts";
import { locate, locateCached } from "../src/plugins/exec_path.ts";
import { startPluginWatchdog } from "../src/plugins/watchdog.ts";

// A plugin installed in the last PATH entry, as /opt/mackerel-agent/plugins/bin is.
const dir = Deno.makeTempDirSync({ prefix: "plugin_launch_bench" });
Deno.writeTextFileSync(`${dir}/mackerel-plugin-bench`, "#!/bin/sh\n");
Deno.chmodSync(`${dir}/mackerel-plugin-bench`, 0o755);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
// The agent's PATH with that directory last (the process's own PATH is left alone: other
// benchmark files run in this process).
const searchPath = pluginPath(`${Deno.env.get("PATH") ?? ""}:${dir}`);

const CONFIG_ENV = ["MYSQL_HOST=127.0.0.1"];
const EXTRA_ENV = { MACKEREL_AGENT_PLUGIN_META: "" };
const pathEntries = searchPath.split(":").length;

for (const name of ["sh", "mackerel-plugin-bench"]) {
  const where = name === "sh" ? "early in PATH" : `last of ${pathEntries} PATH entries`;
  Deno.bench(`per run, ${name} (${where}): scan PATH, copy env (before)`, {
    group: name,
    baseline: true,
  }, () => {
    buildEnv(Deno.env.toObject(), CONFIG_ENV, EXTRA_ENV);
    if (!("path" in locate(name, pluginPath(searchPath)))) throw new Error(name);
  });
  Deno.bench(`per run, ${name} (${where}): cached lookup, env built once (after)`, {
    group: name,
  }, () => {
    buildEnv(pluginBaseEnv(), CONFIG_ENV, EXTRA_ENV);
    if (!("path" in locateCached(name, searchPath))) throw new Error(name);
  });
}

// Above Linux's PID_MAX_LIMIT (2^22): should the benchmark die between the two lines, the
// watchdog signals a pid that cannot exist.
const NO_SUCH_PID = 4_194_305;
const watchdog = startPluginWatchdog();
Deno.bench("per run: list and unlist it with the plugin watchdog", { group: "watchdog" }, () => {
  watchdog.watch(NO_SUCH_PID)();
});
