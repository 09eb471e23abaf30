import assert from "node:assert/strict";
import { platformPaths } from "../../src/config/schema.ts";
import { builtInKernel } from "../../src/host/description/kernel.ts";

Deno.test("platform paths: upstream's defaults per operating system", () => {
  assert.deepEqual(platformPaths("linux"), {
    conffile: "/etc/mackerel-agent/mackerel-agent.conf",
    root: "/var/lib/mackerel-agent",
    pidfile: "/var/run/mackerel-agent.pid",
  });
  assert.deepEqual(platformPaths("darwin", "/Users/me"), {
    conffile: "/Users/me/Library/mackerel-agent/mackerel-agent.conf",
    root: "/Users/me/Library/mackerel-agent",
    pidfile: "/Users/me/Library/mackerel-agent/pid",
  });
  assert.deepEqual(
    platformPaths("windows", undefined, "C:\\Program Files\\Mackerel\\mackerel-agent.exe"),
    {
      conffile: "C:\\Program Files\\Mackerel\\mackerel-agent.conf",
      root: "C:\\Program Files\\Mackerel",
      pidfile: "C:\\Program Files\\Mackerel\\mackerel-agent.pid",
    },
  );
});

Deno.test("kernel: without procfs the spec names the operating system from Deno's built-ins", () => {
  assert.deepEqual(
    { ...builtInKernel("darwin", "23.4.0"), machine: "-" },
    { name: "Darwin", release: "23.4.0", machine: "-", os: "Darwin" },
  );
  assert.equal(builtInKernel("windows", "10.0.22631").name, "Windows");
});
