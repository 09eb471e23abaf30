/**
 * `[otlp]` in the daemon: loaded (a dynamic `import()`) only when the table is on, so an agent
 * without it loads none of its modules; the Mackerel path runs the same either way.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import type { Config } from "../config/schema.ts";
import type { DeliveryEvents } from "../delivery/events.ts";
import type { Sender } from "../delivery/outbox.ts";
import type { Spool } from "../delivery/spool.ts";
import type { Source } from "../host/source.ts";
import { errorMessage, logger } from "../log.ts";
import type { HostPayload } from "../mackerel/types.ts";
import type { SharedReads } from "../host/shared_reads.ts";
import { VERSION } from "../version.ts";
import type { RoundObserver } from "./workload.ts";

/** What the daemon wires in when `[otlp]` is on. */
export interface OtlpWiring {
  /** For the outbox. */
  readonly sender: Sender;
  /** Collectors read through `reads.source`. */
  readonly reads: SharedReads;
  /** For the workload and the scheduler's rounds. */
  readonly observer: RoundObserver & { round<T>(fn: () => Promise<T>): Promise<T> };
  close(): void;
}

/** Options of {@linkcode startOtlpIfOn}. */
export interface OtlpWiringOptions {
  readonly config: Config;
  readonly source: Source;
  readonly spool: Spool;
  readonly payload: HostPayload;
  readonly hostId: string;
  readonly clock: Clock;
  readonly minuteMs: number;
  readonly events?: DeliveryEvents;
}

/** Starts `[otlp]` when on; off, or settings it cannot use (one ERROR line), give undefined. */
export async function startOtlpIfOn(options: OtlpWiringOptions): Promise<OtlpWiring | undefined> {
  if (!options.config.otlp.enabled) return undefined;
  const { startOtlp } = await import("../otlp/pipeline.ts");
  let otlp;
  try {
    otlp = startOtlp({ ...options, version: VERSION });
  } catch (error) {
    logger("otlp").error(`[otlp] is off: ${errorMessage(error)}`);
    return undefined;
  }
  return {
    sender: otlp.sender,
    reads: otlp.reads,
    observer: {
      filesystems: otlp.filesystems,
      observe: otlp.exportRound,
      round: otlp.reads.round,
    },
    close: otlp.close,
  };
}
