/**
 * CPU of one metric post through the API client: the fake API runs as a process of its own
 * (scripts/fake_api.ts), and this process posts a round of 40 points every `--period` ms and
 * reads its own CPU time (getrusage, microseconds) around each post.
 *
 * ```sh
 * deno run -A --v8-flags=--lite-mode scripts/post_cost.ts [--period=200] [--posts=50]
 * ```
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { createMackerelClient } from "../src/mackerel/client.ts";
import { abortableSleep as sleep } from "../src/async/clock.ts";
import { median } from "./bench_procs.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    period: { type: "string", default: "200" },
    posts: { type: "string", default: "50" },
  },
});
const period = Number(flags.period);
const posts = Number(flags.posts);

const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const api = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("fake_api.ts", import.meta.url).pathname],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = api.stdout.pipeThrough(new TextDecoderStream()).getReader();
let url = "";
while (!url.includes("\n")) url += (await reader.read()).value ?? "";
const client = createMackerelClient({
  apibase: url.trim(),
  apikey: "bench",
  version: "0.1.0",
  revision: "bench",
});
const json = JSON.stringify(
  Array.from({ length: 40 }, (_, i) => ({
    hostId: "fake0000001",
    name: `custom.bench.metric${i}`,
    time: 1_700_000_000,
    value: i * 1.5,
  })),
);
try {
  await client.postMetricsJson(json);
  const costs: number[] = [];
  for (let i = 0; i < posts; i++) {
    await sleep(period);
    const before = cpuUs();
    await client.postMetricsJson(json);
    costs.push(cpuUs() - before);
  }
  console.log(
    `${posts} posts of 40 points, ${period} ms apart: median ${median(costs)} us of CPU per post ` +
      `(min ${Math.min(...costs)})`,
  );
} finally {
  client.close();
  await api.stdin.close();
  await reader.cancel();
  await api.status;
}
