/**
 * Runs the check plugins on their own schedules and decides which results are reported
 * (docs/upstream.md, "Check plugins").
 *
 * Each check runs at once, then every `check_interval` minutes aligned to its first run (a run
 * that overruns its slot skips to the next one). Intervals are in agent minutes
 * (docs/architecture.md, "Principles"); plugin timeouts stay in real seconds.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import type { CheckPluginConfig } from "../config/schema.ts";
import type { CheckReport, CheckStatus } from "../mackerel/api_types.ts";
import { logger } from "../log.ts";
import type { DataSink } from "../delivery/sink.ts";
import { checkOutcome } from "./check_status.ts";
import { runPluginCommand } from "./command.ts";

/** Options of {@linkcode runChecks}. */
export interface RunChecksOptions {
  readonly checks: readonly CheckPluginConfig[];
  /** The host a check's reports are about; undefined (unresolved custom identifier) drops them. */
  hostIdFor(customIdentifier?: string): string | undefined;
  readonly clock: Clock;
  /** The agent's minute in ms (60 000 upstream). */
  readonly minuteMs: number;
  /** Where reports go (the outbox, or stdout). */
  readonly sink: Pick<DataSink, "putCheckReport" | "wakeChecks">;
  /** Told how each run ended: no error, or why the plugin could not run (the status file). */
  readonly onRun?: (check: string, error?: string) => void;
  /** Aborting stops every checker; a run cut short by it reports nothing. */
  readonly signal: AbortSignal;
}

/** What a checker remembers of its last result. */
export interface LastResult {
  readonly status: CheckStatus;
  readonly message: string;
}

/** What to do with a result: queue it, wake the sender, and what to remember for the next run. */
export interface ReportDecision {
  readonly report: boolean;
  readonly wake: boolean;
  readonly remember: LastResult | undefined;
}

const log = logger("checks");

/**
 * Upstream's report decision (docs/upstream.md, "Check plugins"), given the previous result
 * (undefined before the first run).
 */
export function decideReport(
  previous: LastResult | undefined,
  current: LastResult,
  preventAlertAutoClose: boolean,
): ReportDecision {
  if (
    current.status === "OK" && previous?.status === "OK" && previous.message === current.message
  ) {
    return { report: false, wake: false, remember: previous };
  }
  if (current.status === "OK" && preventAlertAutoClose) {
    return { report: false, wake: false, remember: current };
  }
  const changed = current.status !== previous?.status;
  const firstOk = current.status === "OK" && previous === undefined;
  return { report: true, wake: changed && !firstOk, remember: current };
}

/** Runs every check until `signal` aborts; resolves when all checkers and actions have ended. */
export async function runChecks(options: RunChecksOptions): Promise<void> {
  const actions = new Set<Promise<void>>();
  await Promise.all(options.checks.map((check) => runChecker(check, options, actions)));
  await Promise.all(actions);
}

/** The outcome of one run of a check plugin. */
export interface CheckRun extends LastResult {
  /** Unix seconds just before the plugin started. */
  readonly occurredAt: number;
  /** Why the plugin could not run or finish (`command timed out` ...); its status is UNKNOWN then. */
  readonly error?: string;
}

/** Runs a check plugin once and turns its exit code and stdout into a status and message. */
export async function runCheckOnce(
  check: CheckPluginConfig,
  options: { readonly clock?: Clock; readonly signal?: AbortSignal } = {},
): Promise<CheckRun> {
  const occurredAt = Math.floor((options.clock?.now() ?? Date.now()) / 1000);
  const result = await runPluginCommand(check, { signal: options.signal });
  if (result.stderr !== "") log.warn`Checker "${check.name}" output stderr: ${result.stderr}`;
  const outcome = checkOutcome(result);
  log.debug`checker "${check.name}": status=${outcome.status} message=${outcome.message}`;
  return { ...outcome, occurredAt, ...(result.error === undefined ? {} : { error: result.error }) };
}

async function runChecker(
  check: CheckPluginConfig,
  options: RunChecksOptions,
  actions: Set<Promise<void>>,
): Promise<void> {
  const { clock, signal } = options;
  const intervalMs = check.checkIntervalMinutes * options.minuteMs;
  let scheduled = clock.now();
  let last: LastResult | undefined;
  while (!signal.aborted) {
    const { occurredAt, error, ...current } = await runCheckOnce(check, { clock, signal });
    if (signal.aborted) return;
    options.onRun?.(check.name, error);

    // Upstream's rule: a late run (laptop sleep, a slow plugin) skips the slots it missed.
    const now = clock.now();
    const wait = intervalMs - ((now - scheduled) % intervalMs);
    scheduled = now + wait;

    if (check.action) {
      const action = runAction(check, current, last?.status ?? "", signal).catch((e) => {
        log.error`Checker "${check.name}" action failed: ${e}`;
      });
      actions.add(action);
      action.finally(() => actions.delete(action));
    }
    const decision = decideReport(last, current, check.preventAlertAutoClose);
    last = decision.remember;
    if (decision.report) await enqueue(check, current, occurredAt, options);
    if (decision.wake) {
      log.debug`checker "${check.name}": status has changed: send it immediately`;
      options.sink.wakeChecks();
    }
    await clock.sleep(wait, signal);
  }
}

async function enqueue(
  check: CheckPluginConfig,
  current: LastResult,
  occurredAt: number,
  options: RunChecksOptions,
): Promise<void> {
  const hostId = options.hostIdFor(check.customIdentifier);
  if (hostId === undefined) {
    log
      .warn`Dropped 1 report of check "${check.name}": custom_identifier ${check.customIdentifier} has no host`;
    return;
  }
  const report: CheckReport = {
    hostId,
    name: check.name,
    status: current.status,
    message: current.message,
    occurredAt,
    notificationInterval: check.notificationIntervalMinutes,
    maxCheckAttempts: check.maxCheckAttempts,
  };
  try {
    await options.sink.putCheckReport(report);
  } catch (e) {
    log.error`Dropped 1 report of check "${check.name}": ${e}`;
  }
}

/** The check's `action`, with the result in its environment; its output is only logged. */
async function runAction(
  check: CheckPluginConfig,
  current: LastResult,
  previousStatus: string,
  signal: AbortSignal,
): Promise<void> {
  const action = check.action!;
  const result = await runPluginCommand(action, {
    extraEnv: {
      MACKEREL_STATUS: current.status,
      MACKEREL_PREVIOUS_STATUS: previousStatus,
      MACKEREL_CHECK_MESSAGE: current.message,
    },
    signal,
  });
  if (result.stdout !== "") log.debug`Checker "${check.name}" action output: ${result.stdout}`;
  if (result.stderr !== "") {
    log.warn`Checker "${check.name}" action output stderr: ${result.stderr}`;
  }
}
