import assert from "node:assert/strict";
import { join } from "node:path";
import { runAgent } from "../support/agent_process.ts";
import { startFakeMackerel } from "../support/fake_mackerel.ts";
import { withTempDir } from "../support/temp_dir.ts";

async function withHost(
  fn: (ctx: { dir: string; url: string; key: string; retired: () => boolean }) => Promise<void>,
) {
  const api = await startFakeMackerel({ hosts: [{ id: "3yAQ2ctKe6t", name: "web-1" }] });
  const dir = await Deno.makeTempDir({ prefix: "retire-" });
  try {
    await Deno.writeTextFile(join(dir, "id"), "3yAQ2ctKe6t");
    await Deno.writeTextFile(join(dir, "agent.conf"), `apikey = "${api.apiKey}"\n`);
    await fn({
      dir,
      url: api.url,
      key: api.apiKey,
      retired: () =>
        api.requests.some((r) =>
          r.method === "POST" && r.path === "/api/v0/hosts/3yAQ2ctKe6t/retire"
        ),
    });
  } finally {
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("retire: -force retires the host on the API and deletes the id file", async () => {
  await withHost(async ({ dir, url, retired }) => {
    const { code, stderr } = await runAgent([
      "retire",
      "-force",
      `-conf=${join(dir, "agent.conf")}`,
      `-root=${dir}`,
      `-apibase=${url}`,
    ]);
    assert.equal(code, 0, stderr);
    assert.ok(retired());
    assert.match(stderr, /This host \(hostID: 3yAQ2ctKe6t\) has been retired\./);
    await assert.rejects(Deno.stat(join(dir, "id")), Deno.errors.NotFound);
  });
});

Deno.test("retire: without -force and without a terminal the answer is no", async () => {
  await withHost(async ({ dir, url, retired }) => {
    const { code, stderr } = await runAgent([
      "retire",
      `-conf=${join(dir, "agent.conf")}`,
      `-root=${dir}`,
      `-apibase=${url}`,
    ]);
    assert.equal(code, 1);
    assert.equal(stderr, "retirement is canceled\n");
    assert.ok(!retired());
    assert.equal(await Deno.readTextFile(join(dir, "id")), "3yAQ2ctKe6t");
  });
});

Deno.test("retire: no id file is an error; -h exits 2 as upstream", async () => {
  await withHost(async ({ dir, url }) => {
    await Deno.remove(join(dir, "id"));
    const missing = await runAgent([
      "retire",
      "-force",
      `-conf=${join(dir, "agent.conf")}`,
      `-root=${dir}`,
      `-apibase=${url}`,
    ]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "hostID file is not found or empty\n");
    const help = await runAgent(["retire", "-h"]);
    assert.equal(help.code, 2);
  });
});

Deno.test("init: writes the key in front of the file once, then leaves it alone", async () => {
  await withTempDir("init-", async (dir) => {
    const conf = join(dir, "etc", "mackerel-agent.conf");
    const missingKey = await runAgent(["init", `-conf=${conf}`]);
    assert.equal(missingKey.code, 1);
    assert.equal(missingKey.stderr, "-apikey option is required\n");

    const first = await runAgent(["init", `-conf=${conf}`, "-apikey=hoge"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await Deno.readTextFile(conf), 'apikey = "hoge"\n');

    const second = await runAgent(["init", `-conf=${conf}`, "-apikey=other"]);
    assert.equal(second.code, 0);
    assert.match(
      second.stderr,
      /apikey already set in ".*mackerel-agent\.conf"\. Skip initializing/,
    );
    assert.equal(await Deno.readTextFile(conf), 'apikey = "hoge"\n');
  });
});
