/**
 * Scaffolding of end-to-end runs of the daemon against the fake API: a temp dir holding the
 * config, root and pidfile, and what the agent said it enqueued against what the API received.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { daemonArgs, type SpawnedAgent, waitFor } from "./agent_process.ts";
import { type FakeMackerel, startFakeMackerel } from "./fake_mackerel.ts";

/** A daemon's surroundings: its dir (config `agent.conf`, `root/`, `agent.pid`), the API, its flags. */
export interface DaemonSetup {
  readonly dir: string;
  readonly api: FakeMackerel;
  readonly args: readonly string[];
}

/** Writes `cloud_platform = "none"` plus `conf` and the flags of a one-second minute, verbose. */
export async function setupDaemon(conf = ""): Promise<DaemonSetup> {
  const dir = await Deno.makeTempDir({ prefix: "agent-e2e-" });
  const api = await startFakeMackerel();
  await Deno.writeTextFile(join(dir, "agent.conf"), `cloud_platform = "none"\n${conf}`);
  const args = [...daemonArgs(dir, api), "-interval=1", "-verbose"];
  return { dir, api, args };
}

/** Stops the API and removes the dir. */
export async function teardownDaemon(s: DaemonSetup): Promise<void> {
  await s.api.close();
  await Deno.remove(s.dir, { recursive: true });
}

/** Runs `fn` with a fresh {@linkcode setupDaemon} of `conf`; tears it down whatever happens. */
export async function withDaemon(
  conf: string,
  fn: (s: DaemonSetup) => Promise<void>,
): Promise<void> {
  const s = await setupDaemon(conf);
  try {
    await fn(s);
  } finally {
    await teardownDaemon(s);
  }
}

/** The rounds the agent says it kept for posting: `time → number of points`. */
export function enqueued(agent: SpawnedAgent): Map<number, number> {
  const rounds = new Map<number, number>();
  for (const match of agent.stderr().matchAll(/Enqueued (\d+) points of (\d+)/g)) {
    rounds.set(Number(match[2]), Number(match[1]));
  }
  return rounds;
}

/** Points received by the fake, grouped by time; fails on a duplicated (name, time) pair. */
export function receivedByTime(api: FakeMackerel): Map<number, number> {
  const seen = new Set<string>();
  const byTime = new Map<number, number>();
  for (const point of api.metrics()) {
    const key = `${point.name}@${point.time}`;
    assert.ok(!seen.has(key), `duplicated point ${key}`);
    seen.add(key);
    byTime.set(point.time, (byTime.get(point.time) ?? 0) + 1);
  }
  return byTime;
}

/**
 * Asserts the points received are exactly the points enqueued. A round's rates carry the previous
 * round's time (the start of their window), so points are compared in total and by the set of
 * round times, not per time.
 */
export function assertAllArrived(received: Map<number, number>, sent: Map<number, number>): void {
  const total = (rounds: Map<number, number>) => [...rounds.values()].reduce((a, b) => a + b, 0);
  assert.equal(total(received), total(sent));
  assert.deepEqual([...received.keys()].sort(), [...sent.keys()].sort());
}

/** Sends SIGTERM and resolves to the exit code. */
export async function stopAgent(agent: SpawnedAgent): Promise<number> {
  agent.kill("SIGTERM");
  return await agent.exited;
}

/** Waits until the clock is past every round `agent` kept, so a new agent's rounds are newer. */
export async function pastRoundsOf(agent: SpawnedAgent): Promise<void> {
  const last = Math.max(...enqueued(agent).keys());
  await waitFor(() => Date.now() >= (last + 1) * 1000, "the next second");
}

/** Every round kept by `agents` arrived in full, and nothing twice (`receivedByTime` checks). */
export function assertAllDelivered(s: DaemonSetup, agents: readonly SpawnedAgent[]): void {
  const sent = new Map(agents.flatMap((agent) => [...enqueued(agent)]));
  assert.equal(sent.size, agents.reduce((n, a) => n + enqueued(a).size, 0), "no round time twice");
  assertAllArrived(receivedByTime(s.api), sent);
}

/** A condition for `waitFor`: the API has a point of every round time `agents` kept. */
export const allArrived = (s: DaemonSetup, agents: readonly SpawnedAgent[]) => () => {
  const times = new Set(s.api.metrics().map((p) => p.time));
  return agents.every((a) => [...enqueued(a).keys()].every((t) => times.has(t)));
};
