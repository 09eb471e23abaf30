/**
 * The daemon's reload on a real workload over the fixture trees: what each changed key does comes
 * from its declaration in src/config/sections.ts (tests/config/reload_effects_test.ts checks them).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { reloadConfig } from "../../src/agent/reload.ts";
import { createWorkload, type Workload } from "../../src/agent/workload.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import type { DataSink } from "../../src/delivery/sink.ts";
import { createHostResolver } from "../../src/plugins/custom_identifiers.ts";
import { captureLogs } from "../support/logs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { createVirtualClock } from "../support/virtual_clock.ts";
import { fixtureTrees, T0 } from "../metrics/rounds.ts";

const SINK: DataSink = {
  putMetrics: () => Promise.resolve(),
  putCheckReport: () => Promise.resolve(),
  wakeChecks: () => {},
  putMetadata: () => Promise.resolve(),
  putGraphDefs: () => Promise.resolve(),
};

const BASE = 'apikey = "one"\ncloud_platform = "none"\n';

/**
 * A workload of the config `first` (x86 tree), one round at T0, then `second` written and
 * reloaded with the x86-next tree in place; `fn` gets the workload, the log lines of the reload
 * and the names of the round at T0 + 60 s.
 */
function afterReload(
  first: string,
  second: string,
  fn: (result: { workload: Workload; lines: string[]; names: string[] }) => void,
): Promise<void> {
  return withTempDir("reload-test-", async (dir) => {
    const file = join(dir, "agent.conf");
    await Deno.writeTextFile(file, first);
    const { source, use } = fixtureTrees();
    const stop = new AbortController();
    const workload = await createWorkload({
      config: await loadConfigFile(file),
      source,
      clock: createVirtualClock(T0),
      minuteMs: 60_000,
      sink: SINK,
      resolve: () => Promise.resolve(createHostResolver("host", new Map())),
      signal: stop.signal,
    });
    await workload.collect(T0);
    use("x86-next");
    await Deno.writeTextFile(file, second);
    const { result, lines } = await captureLogs(
      () => reloadConfig({ load: () => loadConfigFile(file), workload }),
      { level: "info" },
    );
    assert.equal(result, true);
    const names = (await workload.collect(T0 + 60_000)).map((p) => p.name);
    stop.abort();
    await workload.stop();
    fn({ workload, lines: lines.map((l) => l.replace(file, "<file>")), names });
  });
}

Deno.test("reload: keys read at start are named for the next start; a new [collectors] key keeps every sample", async () => {
  await afterReload(
    BASE,
    'apikey = "two"\ncloud_platform = "none"\n[collectors]\nfiles = true\n' +
      '[spool]\nmax_size_mb = 10\n[host_status]\non_start = "working"\n',
    ({ workload, lines, names }) => {
      assert.deepEqual(lines, [
        "INFO <main> Reloaded <file>: new collectors; apikey, host_status.on_start, " +
        "spool take effect at the next start",
      ]);
      assert.equal(workload.config.apikey, "two", "the new config is in force");
      assert.ok(workload.collectorNames().includes("files"));
      assert.ok(names.includes("custom.files.used"));
      // cpu was kept with its sample of T0: its rates come in the first round after the reload.
      assert.ok(names.includes("cpu.user.percentage"), names.join(","));
    },
  );
});

Deno.test("reload: a collector setting builds every collector anew, so rates start over", async () => {
  await afterReload(BASE, `${BASE}[disks]\nignore = "sdz"\n`, ({ lines, names }) => {
    assert.deepEqual(lines, ["INFO <main> Reloaded <file>: new collectors"]);
    assert.ok(!names.includes("cpu.user.percentage"), names.join(","));
    assert.ok(names.includes("loadavg1"));
  });
});

Deno.test("reload: an unchanged file changes no work and names nothing", async () => {
  await afterReload(BASE, BASE, ({ lines, names }) => {
    assert.deepEqual(lines, ["INFO <main> Reloaded <file>: no change to the work"]);
    assert.ok(names.includes("cpu.user.percentage"));
  });
});
