/**
 * Decoded `[plugin.<kind>.<name>]` tables -> plugin configs, as upstream's `setEachPlugins` builds
 * them (docs/upstream.md, "Plugin tables", "Plugin command, env and timeout"), with its
 * `plugin.<kind>.<name>: <cause>` errors.
 *
 * @module
 */
import { logger } from "../log.ts";
import { truncateRunes } from "../runes.ts";
import type { GoMap, Struct } from "./decode.ts";
import { goTypeName, keyString, ValueError } from "./errors.ts";
import { compileGoRegexp } from "./go_regexp.ts";
import {
  type CheckPluginConfig,
  clampExecutionInterval,
  type CommandConfig,
  DEFAULT_TIMEOUT_SECONDS,
  MAX_EXECUTION_INTERVAL_MINUTES,
  MAX_TIMEOUT_SECONDS,
  type MetadataPluginConfig,
  type MetricPluginConfig,
} from "./schema.ts";

/** The plugins one file defines, by kind, in document order. */
export interface PluginSections {
  readonly metricPlugins: readonly MetricPluginConfig[];
  readonly checkPlugins: readonly CheckPluginConfig[];
  readonly metadataPlugins: readonly MetadataPluginConfig[];
}

/** Builds the decoded `plugin` map (kind -> name -> section) into plugin configs. */
export function buildPlugins(plugin: GoMap | undefined): PluginSections {
  const plugins = new Map(plugin ?? []);
  const kind = (name: string) => (plugins.get(name) ?? []) as GoMap;
  return {
    metricPlugins: kind("metrics").map(([n, raw]) => buildMetricPlugin(n, raw as Struct)),
    checkPlugins: kind("checks").map(([n, raw]) => buildCheckPlugin(n, raw as Struct)),
    metadataPlugins: kind("metadata").map(([n, raw]) => buildMetadataPlugin(n, raw as Struct)),
  };
}

/** Reports a plugin problem as upstream's `errors.Wrap(err, "plugin.<kind>.<name>")` does. */
function pluginError(kind: string, name: string, field: string, reason: string): ValueError {
  return new ValueError({
    key: keyString(["plugin", kind, name, ...field.split(".")]),
    reason,
    style: "plugin",
    prefix: `plugin.${kind}.${name}`,
  });
}

/** upstream's `CommandConfig.parse`: `undefined` when there is no `command` at all. */
function parseCommand(
  raw: Struct,
  at: { readonly kind: string; readonly name: string; readonly prefix: string },
): CommandConfig | undefined {
  const command = raw.command;
  if (command === undefined) return undefined;
  let spec: CommandConfig["command"];
  if (typeof command === "string") {
    spec = { kind: "shell", line: command };
  } else if (
    Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === "string")
  ) {
    spec = { kind: "argv", argv: command as string[] };
  } else {
    throw pluginError(at.kind, at.name, `${at.prefix}command`, commandTypeError(command));
  }
  const env = parseEnv(raw, at);
  const timeout = capped(
    (raw.timeout_seconds ?? 0) as number,
    MAX_TIMEOUT_SECONDS,
    `plugin.${at.kind}.${at.name}.${at.prefix}timeout_seconds`,
    "seconds (a day)",
  );
  const user = (raw.user ?? "") as string;
  return {
    command: spec,
    ...(user === "" ? {} : { user }),
    env,
    timeoutSeconds: timeout === 0 ? DEFAULT_TIMEOUT_SECONDS : timeout,
  };
}

/**
 * A value above `max` becomes `max`, with a WARNING naming the key. Upstream takes any value, but a
 * timer here must stay below 2^31 ms (Node-style timers fire at once past it), and a plugin
 * timeout of more than a day or a metadata interval of more than a week means the same in practice.
 */
function capped(value: number, max: number, key: string, unit: string): number {
  if (value <= max) return value;
  logger("config").warn("'{key}' = {value} is more than {max} {unit}; using {max}", {
    key,
    value,
    max,
    unit,
  });
  return max;
}

/** upstream's `parseEnv`: `KEY=value` strings, keys trimmed of spaces, empty keys dropped. */
function parseEnv(
  raw: Struct,
  at: { readonly kind: string; readonly name: string; readonly prefix: string },
): string[] {
  const env: string[] = [];
  for (const [key, value] of (raw.env ?? []) as GoMap) {
    if (key.includes("=")) {
      throw pluginError(
        at.kind,
        at.name,
        `${at.prefix}env`,
        `failed to parse plugin env. A key of env should not contain "=", but ${
          JSON.stringify(key)
        }`,
      );
    }
    const trimmed = key.replace(/^ +| +$/g, "");
    if (trimmed !== "") env.push(`${trimmed}=${value}`);
  }
  return env;
}

function commandTypeError(value: unknown): string {
  return "failed to parse plugin command. A configuration value of `command` should be string " +
    `or string slice, but ${goTypeName(value)}`;
}

function requireCommand(kind: string, name: string, raw: Struct): CommandConfig {
  const command = parseCommand(raw, { kind, name, prefix: "" });
  if (!command) throw pluginError(kind, name, "command", commandTypeError(undefined));
  return command;
}

function buildMetricPlugin(name: string, raw: Struct): MetricPluginConfig {
  const command = requireCommand("metrics", name, raw);
  const pattern = (field: string) => {
    if (raw[field] === undefined) return {};
    try {
      const re = compileGoRegexp(raw[field] as string);
      return { [field === "include_pattern" ? "includePattern" : "excludePattern"]: re };
    } catch (error) {
      throw pluginError("metrics", name, field, (error as Error).message);
    }
  };
  return {
    name,
    ...command,
    ...(raw.custom_identifier === undefined
      ? {}
      : { customIdentifier: raw.custom_identifier as string }),
    ...pattern("include_pattern"),
    ...pattern("exclude_pattern"),
    usePluginTimestamp: raw.use_plugin_timestamp === true,
  };
}

const MEMO_LIMIT = 250;

function buildCheckPlugin(name: string, raw: Struct): CheckPluginConfig {
  const log = logger("config");
  const command = requireCommand("checks", name, raw);
  const action = raw.action === undefined
    ? undefined
    : parseCommand(raw.action as Struct, { kind: "checks", name, prefix: "action." });
  let memo = raw.memo as string | undefined;
  if (memo !== undefined && truncateRunes(memo, MEMO_LIMIT) !== memo) {
    log.warn("'plugin.checks.{name}.memo' size exceeds 250 characters", { name });
    memo = truncateRunes(memo, MEMO_LIMIT);
  }
  const prevent = raw.prevent_alert_auto_close === true;
  let attempts = raw.max_check_attempts as number | undefined;
  if (attempts !== undefined && attempts > 1 && prevent) {
    attempts = 1;
    log.warn(
      "'plugin.checks.{name}.max_check_attempts' is set to 1 (Unavailable with 'prevent_alert_auto_close')",
      { name },
    );
  }
  const interval = (raw.check_interval ?? 1) as number;
  return {
    name,
    ...command,
    ...(raw.custom_identifier === undefined
      ? {}
      : { customIdentifier: raw.custom_identifier as string }),
    checkIntervalMinutes: Math.min(60, Math.max(1, interval)),
    ...(raw.notification_interval === undefined
      ? {}
      : { notificationIntervalMinutes: raw.notification_interval as number }),
    ...(attempts === undefined ? {} : { maxCheckAttempts: attempts }),
    preventAlertAutoClose: prevent,
    ...(memo === undefined || memo === "" ? {} : { memo }),
    ...(action === undefined ? {} : { action }),
  };
}

function buildMetadataPlugin(name: string, raw: Struct): MetadataPluginConfig {
  const interval = capped(
    (raw.execution_interval ?? 10) as number,
    MAX_EXECUTION_INTERVAL_MINUTES,
    `plugin.metadata.${name}.execution_interval`,
    "minutes (a week)",
  );
  return {
    name,
    ...requireCommand("metadata", name, raw),
    executionIntervalMinutes: clampExecutionInterval(interval),
  };
}
