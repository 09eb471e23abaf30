/**
 * Runs the metadata plugins and puts changed values to the host's metadata (reference §7.5).
 *
 * Each plugin first runs 10 s after the loop starts, then every `execution_interval` minutes
 * aligned to that start. A value is queued only when it differs (as JSON, not as text) from the last
 * one, remembered in memory and in a cache file so a restart does not re-send unchanged metadata.
 * A sender puts the newest queued value per namespace every minute. All delays are fractions of the
 * agent's minute (DESIGN.md principle 8).
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { Clock } from "../async/clock.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import type { MetadataPluginConfig } from "../config/schema.ts";
import type { MackerelClient } from "../mackerel/client.ts";
import { isServerError } from "../mackerel/errors.ts";
import { logger } from "../log.ts";
import { runPluginCommand } from "./command.ts";
import {
  encodeMetadata,
  type JsonValue,
  metadataEqual,
  parseJsonValue,
  parseMetadataOutput,
} from "./metadata_output.ts";

/** Options of {@linkcode runMetadata}. */
export interface RunMetadataOptions {
  readonly plugins: readonly MetadataPluginConfig[];
  readonly client: Pick<MackerelClient, "putMetadata">;
  /** The agent's own host: metadata always goes there. */
  readonly hostId: string;
  readonly clock: Clock;
  /** The agent's minute in ms (60 000 upstream). */
  readonly minuteMs: number;
  /** Aborting stops the plugins; queued values are put once more before the loop ends. */
  readonly signal: AbortSignal;
  /** The agent's environment, for the cache directory; default `Deno.env`. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The Mackerel API refuses metadata larger than this many bytes. */
export const MAX_METADATA_BYTES = 100 * 1024;

const log = logger("metadata");
const commandLog = logger("command");

/**
 * The cache file of a plugin: `<d>/mackerel-plugin-metadata-<name>` when the plugin's `env` sets
 * `MACKEREL_PLUGIN_WORKDIR=<d>`, else `<W>/mackerel-metadata/<name>` with W the agent's
 * `MACKEREL_PLUGIN_WORKDIR`, `$TMPDIR` or `/tmp` (Go's `os.TempDir`).
 */
export function metadataCachePath(
  name: string,
  pluginEnv: readonly string[],
  agentEnv: Readonly<Record<string, string | undefined>>,
): string {
  const prefix = "MACKEREL_PLUGIN_WORKDIR=";
  const own = pluginEnv.find((e) => e.startsWith(prefix))?.slice(prefix.length);
  if (own) return join(own, `mackerel-plugin-metadata-${name}`);
  const workdir = agentEnv.MACKEREL_PLUGIN_WORKDIR || agentEnv.TMPDIR || "/tmp";
  return join(workdir, "mackerel-metadata", name);
}

interface Generator {
  readonly plugin: MetadataPluginConfig;
  readonly cachePath: string;
  /** The last value sent or cached; `undefined` until known. */
  last?: { readonly value: JsonValue };
}

interface Queued {
  readonly value: JsonValue;
  readonly generator: Generator;
}

/** Runs every metadata plugin and the sender until `signal` aborts. */
export async function runMetadata(options: RunMetadataOptions): Promise<void> {
  const env = options.env ?? Deno.env.toObject();
  const queue = new Map<string, Queued>();
  const generators = options.plugins.map((plugin): Generator => ({
    plugin,
    cachePath: metadataCachePath(plugin.name, plugin.env, env),
  }));
  await Promise.all([
    ...generators.map((g) => runGenerator(g, options, queue)),
    runSender(options, queue),
  ]);
}

async function runGenerator(
  generator: Generator,
  options: RunMetadataOptions,
  queue: Map<string, Queued>,
): Promise<void> {
  const { clock, signal } = options;
  const name = generator.plugin.name;
  const intervalMs = generator.plugin.executionIntervalMinutes * options.minuteMs;
  let scheduled = clock.now();
  let wait = agentSecondsToMs(10, options.minuteMs);
  for (;;) {
    await clock.sleep(wait, signal);
    if (signal.aborted) return;
    const value = await fetchMetadata(generator.plugin, signal);
    if (signal.aborted) return;
    const now = clock.now();
    wait = intervalMs - ((now - scheduled) % intervalMs);
    scheduled = now + wait;
    if (value === undefined) continue;
    if (!await isChanged(generator, value)) {
      log.debug`metadata plugin "${name}": metadata does not change`;
      continue;
    }
    await save(generator, value);
    queue.set(name, { value, generator });
  }
}

/** Runs a plugin; its value, or undefined after logging why there is none. */
async function fetchMetadata(
  plugin: MetadataPluginConfig,
  signal: AbortSignal,
): Promise<JsonValue | undefined> {
  const result = await runPluginCommand(plugin, { signal });
  if (signal.aborted && !result.timedOut) return undefined; // the agent is stopping
  if (result.error !== undefined) {
    log.warn`Error occurred while executing a metadata plugin "${plugin.name}": ${result.error}`;
    return undefined;
  }
  if (result.stderr !== "") {
    log.warn`metadata plugin "${plugin.name}" outputs stderr: ${result.stderr}`;
  }
  const output = parseMetadataOutput(result.stdout, result.exitCode);
  if (!output.ok) {
    log.warn`metadata plugin "${plugin.name}": ${output.error}`;
    return undefined;
  }
  const size = new TextEncoder().encode(output.json).length;
  if (size > MAX_METADATA_BYTES) {
    log
      .warn`metadata plugin "${plugin.name}": the metadata is ${size} bytes, more than the ${MAX_METADATA_BYTES} bytes Mackerel accepts; not sent`;
    return undefined;
  }
  return output.value;
}

/** Compares with the last value: from memory, else from the cache file of an earlier run. */
async function isChanged(generator: Generator, value: JsonValue): Promise<boolean> {
  if (generator.last === undefined) generator.last = await loadCache(generator);
  return generator.last === undefined || !metadataEqual(generator.last.value, value);
}

async function loadCache(generator: Generator): Promise<{ value: JsonValue } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(generator.cachePath);
  } catch {
    return undefined; // the first run, or an unreadable cache: either way no known value
  }
  const value = parseJsonValue(text);
  if (value === undefined) {
    log
      .warn`metadata plugin "${generator.plugin.name}" detected a invalid json in the cache file: ${text}`;
    return undefined;
  }
  return { value };
}

/**
 * Remembers the value and writes the cache (temp file + rename, so a crash never leaves half a
 * file). A failed write is logged; the value is still sent, at worst re-sent after a restart.
 */
async function save(generator: Generator, value: JsonValue): Promise<void> {
  generator.last = { value };
  const dir = dirname(generator.cachePath);
  let temp: string | undefined;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    temp = await Deno.makeTempFile({ dir, prefix: "tmp" });
    await Deno.writeTextFile(temp, encodeMetadata(value));
    await Deno.rename(temp, generator.cachePath);
  } catch (e) {
    log
      .warn`metadata plugin "${generator.plugin.name}": failed to write the metadata to the cache file ${generator.cachePath}: ${e}`;
    if (temp) await Deno.remove(temp).catch(() => {});
  }
}

/** Forgets the last value, so the next run is sent whatever it is. */
async function clear(generator: Generator): Promise<void> {
  generator.last = undefined;
  try {
    await Deno.remove(generator.cachePath);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      log.warn`metadata plugin "${generator.plugin.name}": failed to remove the cache file: ${e}`;
    }
  }
}

/** Every minute, puts the newest queued value of each namespace; once more at stop. */
async function runSender(options: RunMetadataOptions, queue: Map<string, Queued>): Promise<void> {
  const { clock, signal } = options;
  for (;;) {
    await clock.sleep(options.minuteMs, signal);
    const final = signal.aborted;
    const batch = [...queue];
    queue.clear();
    for (const [namespace, queued] of batch) {
      try {
        await options.client.putMetadata(options.hostId, namespace, queued.value);
      } catch (e) {
        commandLog.error`put metadata "${namespace}" failed: ${e}`;
        if (isServerError(e) && !final) {
          // Retried next minute, unless the plugin produced a newer value meanwhile.
          if (!queue.has(namespace)) queue.set(namespace, queued);
        } else {
          // Forgetting the value makes the next run (or the next start) send it again.
          await clear(queued.generator);
        }
      }
    }
    if (final) return;
  }
}
