/**
 * Where the daemon's CPU goes: runs the agent at `-interval 1` against the fake API (in this
 * process) under V8's inspector, records a CPU profile of `--seconds` (default 30) after
 * `--warmup` seconds, and prints the functions with the most self time, and the share of the
 * profile spent in our code, in dependencies and in the runtime.
 *
 * Run with `deno run -A scripts/bench_profile.ts [--seconds=30] [--stdout]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { startFakeMackerel } from "../tests/support/fake_mackerel.ts";
import { abortableSleep as sleep } from "../src/async/clock.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    top: { type: "string", default: "25" },
    stdout: { type: "boolean", default: false },
  },
});

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).href;

const dir = await Deno.makeTempDir({ prefix: "profile-" });
const api = await startFakeMackerel({ apiKey: "profile" });
await Deno.writeTextFile(join(dir, "agent.conf"), `cloud_platform = "none"\n`);
const port = 9229 + Math.floor(Math.random() * 500);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--quiet",
    `--inspect=127.0.0.1:${port}`,
    "-A",
    MAIN,
    `-conf=${join(dir, "agent.conf")}`,
    `-root=${join(dir, "root")}`,
    "-pidfile=",
    "-interval=1",
    ...(flags.stdout ? ["-stdout"] : [`-apibase=${api.url}`, `-apikey=${api.apiKey}`]),
  ],
  stdin: "null",
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  let targets: { webSocketDebuggerUrl: string }[] = [];
  for (let i = 0; i < 100 && targets.length === 0; i++) {
    await sleep(100);
    targets = await fetch(`http://127.0.0.1:${port}/json/list`).then((r) => r.json(), () => []);
  }
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message.result);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Runtime.runIfWaitingForDebugger");
  await sleep(Number(flags.warmup) * 1000);
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  await sleep(Number(flags.seconds) * 1000);
  const { profile } = await call("Profiler.stop") as { profile: Profile };
  ws.close();
  summarize(profile);
} finally {
  child.kill("SIGTERM");
  await child.status;
  await api.close();
  await Deno.remove(dir, { recursive: true });
}

function summarize(profile: Profile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const shares = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.startsWith(ROOT) ? url.slice(ROOT.length) : url.replace(/^.*\//, "");
    const key = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
    if (functionName === "(idle)" || functionName === "(program)") return;
    total += dt;
    self.set(key, (self.get(key) ?? 0) + dt);
    const kind = url.startsWith(ROOT) ? "ours" : url.includes("npm") ? "npm" : "runtime/GC";
    shares.set(kind, (shares.get(kind) ?? 0) + dt);
  });
  const seconds = Number(flags.seconds);
  console.log(`JS CPU (sampled, idle left out): ${(total / 1000 / seconds).toFixed(2)} ms/s`);
  for (const [kind, us] of shares) console.log(`  ${kind}: ${(100 * us / total).toFixed(0)} %`);
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top));
  for (const [key, us] of top) {
    console.log(`${(us / 1000 / seconds).toFixed(3).padStart(8)} ms/s  ${key}`);
  }
}
