/**
 * `[otlp]` put together: the agent imports this module (dynamically, only when `[otlp]` is on)
 * and gets the reads the round shares, the OTLP sender for the outbox, and the function that
 * turns each collected round into OTLP exports in the spool.
 *
 * Each round sends the host metrics (./hostmetrics.ts), the values of the opt-in `custom.*`
 * collectors (the agent's own health among them) and the metric plugins' values as gauges under
 * their names, under the host's resource (./resource.ts); a plugin's values for another host
 * (`custom_identifier`) go under that host's id.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";
import type { Config } from "../config/schema.ts";
import type { DeliveryEvents } from "../delivery/events.ts";
import type { Sender } from "../delivery/outbox.ts";
import { createOtlpSender, MAX_EXPORT_BYTES } from "../delivery/otlp_sender.ts";
import type { Spool } from "../delivery/spool.ts";
import { type SharedReads, shareReads } from "../host/shared_reads.ts";
import type { Source } from "../host/source.ts";
import { errorMessage, logger } from "../log.ts";
import type { HostPayload, MetricPoint } from "../mackerel/types.ts";
import type { MetricValue } from "../metrics/collector.ts";
import { createRoundFilesystems, type RoundFilesystems } from "../metrics/filesystem_listing.ts";
import { encodeExports, msToNs, type OtlpMetric, type ResourceMetrics } from "./encode.ts";
import { createExporter, type ExportTarget, resolveTarget } from "./exporter.ts";
import { createHostMetrics } from "./hostmetrics.ts";
import { hostResource, otherHostResource, SERVICE_NAME } from "./resource.ts";

/** One collected round, as the workload hands it over. */
export interface CollectedRound {
  /** The round's scheduled time, epoch ms. */
  readonly timeMs: number;
  /** The system collectors' values (only `custom.*` ones are sent: the rest has OTLP names). */
  readonly system: readonly MetricValue[];
  /** The metric plugins' points, each for its host. */
  readonly plugins: readonly MetricPoint[];
}

/** Options of {@linkcode startOtlp}. */
export interface OtlpOptions {
  readonly config: Pick<Config, "apikey" | "otlp" | "disks" | "filesystems" | "interfaces">;
  readonly source: Source;
  readonly spool: Spool;
  /** The registered host spec and id. */
  readonly payload: HostPayload;
  readonly hostId: string;
  readonly version: string;
  readonly clock: Clock;
  readonly minuteMs: number;
  readonly events?: DeliveryEvents;
}

/** `[otlp]` running. */
export interface Otlp {
  readonly target: ExportTarget;
  /** Sends the spool's OTLP records (the outbox runs it). */
  readonly sender: Sender;
  /** The reads every reader of a round shares: collectors read through `reads.source`. */
  readonly reads: SharedReads;
  /** The round's filesystem listing, shared likewise. */
  readonly filesystems: RoundFilesystems;
  /** Turns a round into OTLP exports, kept in the spool; never throws. */
  exportRound(round: CollectedRound): Promise<void>;
  close(): void;
}

const log = logger("otlp");

/** Starts `[otlp]`; throws one line when its settings cannot be used. */
export function startOtlp(options: OtlpOptions): Otlp {
  const { config, version } = options;
  const target = resolveTarget(config.otlp, config.apikey);
  const exporter = createExporter({
    target,
    userAgent: `${SERVICE_NAME}/${version}`,
  });
  const sender = createOtlpSender({
    spool: options.spool,
    send: (body, signal) => exporter.export(body, signal),
    clock: options.clock,
    minuteMs: options.minuteMs,
    events: options.events,
  });
  const reads = shareReads(options.source);
  const filesystems = createRoundFilesystems({ source: reads.source });
  const host = createHostMetrics({ source: reads.source, filesystems, config });
  const scope = { name: SERVICE_NAME, version };
  const resource = hostResource({ payload: options.payload, hostId: options.hostId, version });
  log.info(
    `[otlp] on: host metrics go to ${target.url.href} over ${target.protocol}` +
      (target.gzip ? " (gzip)" : ""),
  );

  return {
    target,
    sender,
    reads,
    filesystems,
    async exportRound(round) {
      try {
        const own = [...await host.collect(round.timeMs), ...customGauges(round)];
        const byHost = Map.groupBy(round.plugins, (p) => p.hostId);
        const resources: ResourceMetrics[] = [{
          resource,
          metrics: [...own, ...gauges(byHost.get(options.hostId) ?? [])],
        }];
        for (const [hostId, points] of byHost) {
          if (hostId === options.hostId) continue;
          resources.push({ resource: otherHostResource(hostId, version), metrics: gauges(points) });
        }
        for (const r of resources) {
          for (const { body, points } of encodeExports(r, scope, MAX_EXPORT_BYTES)) {
            await sender.put(body, points);
          }
        }
      } catch (error) {
        log.error(`OTLP export of the round not kept: ${errorMessage(error)}`);
      }
    },
    close: () => exporter.close(),
  };
}

/** The opt-in collectors' `custom.*` values as gauges (the rest is in the host metrics). */
function customGauges(round: CollectedRound): OtlpMetric[] {
  const time = Math.floor(round.timeMs / 1000);
  return gauges(
    round.system.filter((v) => v.name.startsWith("custom."))
      .map((v) => ({ hostId: "", name: v.name, value: v.value, time: v.time ?? time })),
  );
}

/** Points as gauges named as in Mackerel, one metric per name. */
function gauges(points: readonly MetricPoint[]): OtlpMetric[] {
  const byName = Map.groupBy(points, (p) => p.name);
  return [...byName].map(([name, group]) => ({
    name,
    unit: "",
    description: "",
    type: "gauge",
    points: group.map((p) => ({ value: p.value, timeNs: msToNs(p.time * 1000) })),
  }));
}
