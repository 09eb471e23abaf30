/**
 * Turns a check plugin's run into a check status and message (docs/upstream.md, "Check plugins").
 *
 * @module
 */
import type { CheckStatus } from "../mackerel/api_types.ts";
import type { CommandResult } from "./command.ts";
import { truncateRunes } from "../runes.ts";

export { truncateRunes };

export type { CheckStatus };

/** The API keeps at most this many runes (code points) of a check message. */
export const MAX_CHECK_MESSAGE_RUNES = 1024;

const STATUS_BY_CODE: readonly CheckStatus[] = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];

/** Nagios-style exit code -> status: 0 OK, 1 WARNING, 2 CRITICAL, anything else UNKNOWN. */
export function checkStatusFromExitCode(code: number): CheckStatus {
  return STATUS_BY_CODE[code] ?? "UNKNOWN";
}

/** A run's status and message: the entire stdout, untrimmed; an execution error -> UNKNOWN with its text. */
export function checkOutcome(
  result: Pick<CommandResult, "stdout" | "exitCode" | "error">,
): { readonly status: CheckStatus; readonly message: string } {
  if (result.error !== undefined) return { status: "UNKNOWN", message: result.error };
  return { status: checkStatusFromExitCode(result.exitCode), message: result.stdout };
}

/** A check message as the report body carries it: cut to {@linkcode MAX_CHECK_MESSAGE_RUNES}. */
export function truncateCheckMessage(message: string): string {
  return truncateRunes(message, MAX_CHECK_MESSAGE_RUNES);
}
