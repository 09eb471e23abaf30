/**
 * What a SIGHUP reload does with each changed key, read from the declarations in ./sections.ts:
 * the daemon's reload (`agent/reload.ts`) and its work (`agent/workload.ts`) ask which keys of an
 * effect changed instead of keeping lists of keys of their own, so a new key is handled as soon as
 * its line says what a reload does with it.
 *
 * @module
 */
import type { Config } from "./schema.ts";
import { CONFIG_FIELDS, type Field, type ReloadEffect } from "./sections.ts";

/** A stable text of config values (regular expressions included) to compare two configs by. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_, v) => v instanceof RegExp ? `/${v.source}/${v.flags}` : v);
}

/** One effect of one key, with the part of the configuration it compares. */
export interface KeyRule {
  /** The key as written in the file: `apikey`, or `host_status.on_start` for a table's key. */
  readonly key: string;
  readonly effect: ReloadEffect;
  readonly of: (config: Config) => unknown;
}

const property = (...props: readonly string[]) => (config: Config): unknown =>
  props.reduce<unknown>((value, prop) => (value as Record<string, unknown>)?.[prop], config);

/**
 * Every key's reload rules, in table order: a key's own, else each key of its table (the
 * declarations {@linkcode reloadDeclarationProblems} checks).
 */
export function reloadRules(fields: readonly Field[] = CONFIG_FIELDS): KeyRule[] {
  return fields.flatMap((field) => {
    if (field.reload !== undefined) {
      return field.reload.map((rule) => ({
        key: field.toml,
        effect: rule.effect,
        of: rule.of ?? property(field.prop ?? field.toml),
      }));
    }
    if (field.kind.k !== "struct" || field.prop === undefined) return [];
    const table = field.prop;
    return field.kind.fields.flatMap((sub) =>
      (sub.reload ?? []).map((rule) => ({
        key: `${field.toml}.${sub.toml}`,
        effect: rule.effect,
        of: rule.of ?? property(table, sub.prop ?? sub.toml),
      }))
    );
  });
}

const RULES = reloadRules();

/** The keys declaring `effect` whose values differ between `before` and `after`, in table order. */
export function changedKeys(
  effect: ReloadEffect,
  before: Config,
  after: Config,
  rules: readonly KeyRule[] = RULES,
): string[] {
  const keys = rules
    .filter((rule) => rule.effect === effect)
    .filter((rule) => fingerprint(rule.of(before)) !== fingerprint(rule.of(after)))
    .map((rule) => rule.key);
  return [...new Set(keys)];
}

/** Whether any key declaring `effect` changed between `before` and `after`. */
export function changed(effect: ReloadEffect, before: Config, after: Config): boolean {
  return changedKeys(effect, before, after).length > 0;
}

/**
 * What is wrong with the reload declarations of `fields`, one line per key: a key that declares
 * nothing (a top-level key, or a key of a table that declares nothing as a whole), or a rule other
 * than "loading" with nothing to compare (no property and no `of`). Empty when every key is
 * handled.
 */
export function reloadDeclarationProblems(fields: readonly Field[] = CONFIG_FIELDS): string[] {
  const problems: string[] = [];
  const check = (field: Field, key: string) => {
    for (const rule of field.reload ?? []) {
      // "loading" keys hold nothing of their own to compare (`include`).
      if (rule.of === undefined && field.prop === undefined && rule.effect !== "loading") {
        problems.push(`${key}: "${rule.effect}" compares nothing (the key fills no property)`);
      }
    }
  };
  for (const field of fields) {
    if (field.reload !== undefined) {
      check(field, field.toml);
      continue;
    }
    const sub = field.kind.k === "struct" ? field.kind.fields : [];
    if (sub.length === 0) {
      problems.push(`${field.toml}: no reload declaration`);
      continue;
    }
    for (const s of sub) {
      const key = `${field.toml}.${s.toml}`;
      if (s.reload === undefined) problems.push(`${key}: no reload declaration`);
      else check(s, key);
    }
  }
  return problems;
}
