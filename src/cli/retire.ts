/**
 * `retire`: retires this host on Mackerel and deletes its id file (docs/upstream.md,
 * "What each command does").
 *
 * @module
 */
import { realClock } from "../async/clock.ts";
import { clientFor, exportProxyEnvironment } from "../agent/api.ts";
import { readHostId, removeHostId } from "../agent/host_id.ts";
import { retry } from "../async/retry.ts";
import { requireApikey } from "../config/overrides.ts";
import { logger } from "../log.ts";
import type { ParsedFlags } from "./flags.ts";
import { commonOptions } from "./options.ts";
import { resolveConfig } from "./resolve.ts";

/** Runs `retire` and returns the exit code. */
export async function runRetire(parsed: ParsedFlags): Promise<number> {
  const options = commonOptions(parsed);
  const log = logger("command");
  let config;
  try {
    config = await resolveConfig(options);
    requireApikey(config);
  } catch (error) {
    console.error(`failed to load config: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
  const hostId = await readHostId(config.root).catch(() => undefined);
  if (hostId === undefined) {
    console.error("hostID file is not found or empty");
    return 1;
  }
  if (!parsed.values.get("force") && !(await confirm(hostId))) {
    console.error("retirement is canceled");
    return 1;
  }
  exportProxyEnvironment(config);
  const client = clientFor(config);
  try {
    // Upstream retries a retirement 10 times, 3 s apart, whatever the error (docs/upstream.md,
    // "Retry rules"); an interactive command has no spool to keep anything in.
    await retry(() => client.retireHost(hostId), { attempts: 10, delayMs: 3000, clock: realClock });
  } catch (error) {
    // Upstream's spelling, kept for the log filters that match it.
    console.error(`faild to retire the host: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    client.close();
  }
  log.info(`This host (hostID: ${hostId}) has been retired.`);
  try {
    await removeHostId(config.root);
  } catch (error) {
    log.warn(`Failed to remove HostID file: ${error instanceof Error ? error.message : error}`);
  }
  return 0;
}

/** Asks on the terminal; without one (a pipe, a service) the answer is the default, no. */
async function confirm(hostId: string): Promise<boolean> {
  if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) return false;
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (true) {
      await Deno.stdout.write(
        new TextEncoder().encode(`retire this host? (hostID: ${hostId}) (y/n) [n]: `),
      );
      let newline = buffer.indexOf("\n");
      while (newline < 0) {
        const { value, done } = await lines.read();
        if (done) return false;
        buffer += value;
        newline = buffer.indexOf("\n");
      }
      const answer = buffer.slice(0, newline).trim().toLowerCase();
      buffer = buffer.slice(newline + 1);
      if (answer === "" || answer === "n") return false;
      if (answer === "y") return true;
      console.log("# Enter `y` or `n`");
    }
  } finally {
    lines.releaseLock();
  }
}
