import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/schema.ts";
import { enabledDefinitions } from "../../src/metrics/registry.ts";
import {
  expectedMetricNames,
  missingMetricNames,
  UPSTREAM_METRIC_NAMES,
} from "../../src/metrics/upstream_names.ts";
import {
  currentPlatform,
  probeCommand,
  probeLibrary,
  probeSys,
  runOsCommand,
} from "../../src/platform/platform.ts";

Deno.test("probe: a command that exists runs; one that does not is absent, not a problem", async () => {
  assert.deepEqual(await probeCommand("/bin/sh"), { kind: "ok" });
  assert.deepEqual(await probeCommand("/usr/sbin/no-such-netstat"), {
    kind: "absent",
    reason: "/usr/sbin/no-such-netstat does not exist on this system",
  });
});

Deno.test("probe: a library that loads, and one that does not, in words to act on", () => {
  assert.deepEqual(probeLibrary("libc.so.6"), { kind: "ok" });
  const missing = probeLibrary("pdh.dll");
  assert.equal(missing.kind, "denied");
  assert.match((missing as { reason: string }).reason, /^cannot load pdh\.dll: /);
  assert.deepEqual(probeSys("loadavg"), { kind: "ok" });
});

Deno.test("probe: without --allow-run, --allow-ffi or --allow-sys, one line says which flag", async () => {
  const script = `
    import { probeCommand, probeLibrary, probeSys } from ${
    JSON.stringify(new URL("../../src/platform/platform.ts", import.meta.url).href)
  };
    console.log(JSON.stringify([await probeCommand("/bin/sh"), probeLibrary("libc.so.6"), probeSys("cpus")]));
  `;
  // `deno run -` reads the script from stdin and grants nothing but what is asked for.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-check", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), [
    { kind: "denied", reason: "cannot run /bin/sh: grant --allow-run (or -A)" },
    { kind: "denied", reason: "cannot load libc.so.6: grant --allow-ffi (or -A)" },
    { kind: "denied", reason: "Deno's cpus needs --allow-sys=cpus (or -A)" },
  ]);
});

Deno.test("OS commands: stdout on success; the command and its stderr on failure", async () => {
  assert.equal(await runOsCommand("/bin/sh", ["-c", "echo $LC_ALL; echo ok"]), "C\nok\n");
  await assert.rejects(
    runOsCommand("/bin/sh", ["-c", "echo broken >&2; exit 3"]),
    /^Error: \/bin\/sh -c echo broken >&2; exit 3: exit status 3: broken$/,
  );
  assert.equal(currentPlatform.os, Deno.build.os);
});

Deno.test("metric names: a placeholder matches one sanitized key, nothing more", () => {
  const expected = ["disk.<drive>.reads.delta", "processor_queue_length"];
  assert.deepEqual(missingMetricNames(expected, ["disk.C.reads.delta"]), [
    "processor_queue_length",
  ]);
  assert.deepEqual(
    missingMetricNames(expected, ["disk.C.D.reads.delta", "processor_queue_lengths"]),
    expected,
  );
});

Deno.test("metric names: upstream's lists are what the registry declares for each system", () => {
  const declared = (os: "linux" | "darwin" | "windows") =>
    enabledDefinitions(defaultConfig(), { os }).flatMap((d) => d.metrics.map((m) => m.name));
  for (const os of ["darwin", "windows"] as const) {
    assert.deepEqual([...declared(os)].sort(), [...UPSTREAM_METRIC_NAMES[os]].sort(), os);
  }
  assert.equal(expectedMetricNames("windows"), UPSTREAM_METRIC_NAMES.windows);
  assert.deepEqual(expectedMetricNames("freebsd"), []);
  // Linux also declares what only kernels before 3.14 have (memory.buffers, .cached, .free).
  const linux = declared("linux");
  assert.deepEqual(UPSTREAM_METRIC_NAMES.linux.filter((n) => !linux.includes(n)), []);
  assert.deepEqual(linux.filter((n) => !UPSTREAM_METRIC_NAMES.linux.includes(n)), [
    "memory.buffers",
    "memory.cached",
    "memory.free",
  ]);
});
