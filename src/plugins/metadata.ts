/**
 * Runs the metadata plugins and puts changed values to the host's metadata (docs/upstream.md,
 * "Metadata plugins").
 *
 * Each plugin first runs 10 s after the loop starts, then every `execution_interval` minutes
 * aligned to that start. A value is queued only when it differs (as JSON, not as text) from the
 * last one, remembered in memory and in a cache file so a restart does not re-send unchanged
 * metadata, and handed to the outbox, which puts the newest value per namespace every minute. A
 * value the API refuses clears the cache ({@linkcode clearMetadataCache}), so the next run sends it
 * again. All delays are fractions of the agent's minute (docs/architecture.md, "Principles").
 *
 * @module
 */
import { dirname, join } from "../file_path.ts";
import type { Clock } from "../async/clock.ts";
import { agentSecondsToMs } from "../async/minute.ts";
import type { MetadataPluginConfig } from "../config/schema.ts";
import type { DataSink } from "../delivery/sink.ts";
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
  /** Where changed values go (the outbox, or stdout). */
  readonly sink: Pick<DataSink, "putMetadata">;
  /** The agent's own host: metadata always goes there. */
  readonly hostId: string;
  readonly clock: Clock;
  /** The agent's minute in ms (60 000 upstream). */
  readonly minuteMs: number;
  /** Aborting stops the plugins. */
  readonly signal: AbortSignal;
  /** The agent's environment, for the cache directory; default `Deno.env`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Told how each run ended: no error, or why it gave no value (the status file). */
  readonly onRun?: (plugin: string, error?: string) => void;
}

/** The Mackerel API refuses metadata larger than this many bytes. */
export const MAX_METADATA_BYTES = 100 * 1024;

const log = logger("metadata");

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

/** Runs every metadata plugin until `signal` aborts. */
export async function runMetadata(options: RunMetadataOptions): Promise<void> {
  const env = options.env ?? Deno.env.toObject();
  const generators = options.plugins.map((plugin): Generator => ({
    plugin,
    cachePath: metadataCachePath(plugin.name, plugin.env, env),
  }));
  await Promise.all(generators.map((g) => runGenerator(g, options)));
}

async function runGenerator(generator: Generator, options: RunMetadataOptions): Promise<void> {
  const { clock, signal } = options;
  const name = generator.plugin.name;
  const intervalMs = generator.plugin.executionIntervalMinutes * options.minuteMs;
  let scheduled = clock.now();
  let wait = agentSecondsToMs(10, options.minuteMs);
  for (;;) {
    await clock.sleep(wait, signal);
    if (signal.aborted) return;
    const value = await fetchMetadata(generator.plugin, signal, options.onRun);
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
    try {
      await options.sink.putMetadata({ hostId: options.hostId, namespace: name, value });
    } catch (e) {
      log.error`metadata plugin "${name}": the value could not be kept for sending: ${e}`;
      generator.last = undefined; // compared afresh, and sent, next time
    }
  }
}

/** Runs a plugin; its value, or undefined after logging why there is none. */
async function fetchMetadata(
  plugin: MetadataPluginConfig,
  signal: AbortSignal,
  onRun?: (plugin: string, error?: string) => void,
): Promise<JsonValue | undefined> {
  const result = await runPluginCommand(plugin, { signal });
  if (signal.aborted && !result.timedOut) return undefined; // the agent is stopping
  onRun?.(plugin.name, result.error);
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

/**
 * Compares with the last value: from memory, else from the cache file of an earlier run. A cache
 * file removed since (the API refused the value) means the value must be sent again.
 */
async function isChanged(generator: Generator, value: JsonValue): Promise<boolean> {
  if (generator.last !== undefined && !await exists(generator.cachePath)) {
    generator.last = undefined;
  }
  if (generator.last === undefined) generator.last = await loadCache(generator);
  return generator.last === undefined || !metadataEqual(generator.last.value, value);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
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

/**
 * Removes the cache file of the metadata plugin `namespace` (its value was refused), so that its
 * next run - in this process or the next - sends the value whatever it is.
 */
export async function clearMetadataCache(
  plugins: readonly MetadataPluginConfig[],
  namespace: string,
  agentEnv: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): Promise<void> {
  const plugin = plugins.find((p) => p.name === namespace);
  if (!plugin) return;
  const path = metadataCachePath(plugin.name, plugin.env, agentEnv);
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      log.warn`metadata plugin "${namespace}": failed to remove the cache file: ${e}`;
    }
  }
}
