/**
 * How a round's points leave the agent: through the post queue to the API, or straight to stdout.
 *
 * @module
 */
import type { MackerelClient } from "../mackerel/client.ts";
import { isNetworkError } from "../mackerel/errors.ts";
import type { MetricPoint } from "../mackerel/types.ts";
import type { Clock } from "../async/clock.ts";
import { postDelaySeconds } from "./delay.ts";
import { createPoster } from "./poster.ts";
import { createPostQueue } from "./queue.ts";
import type { Shutdown } from "../agent/shutdown.ts";

/** How a round's points leave the agent, and how that ended once collection stopped. */
export interface Delivery {
  enqueue(points: readonly MetricPoint[]): void;
  /** "forced" when the stop was forced before everything was delivered. */
  readonly finished: Promise<"drained" | "forced">;
}

/** Starts delivery; it ends once `collectionDone` aborts and what was handed over is out. */
export type Deliver = (shutdown: Shutdown, collectionDone: AbortSignal) => Promise<Delivery>;

/** Options of {@linkcode queueDelivery}. */
export interface QueueDeliveryOptions {
  readonly clock: Clock;
  readonly minuteMs: number;
  readonly client: MackerelClient;
  readonly hostId: string;
  readonly shutdown: Shutdown;
  readonly collectionDone: AbortSignal;
}

/** Delivery through the post queue (§6.4): the poster runs until collection is done and drained. */
export async function queueDelivery(options: QueueDeliveryOptions): Promise<Delivery> {
  const { client, clock, minuteMs, shutdown } = options;
  const queue = createPostQueue({
    postDelaySeconds: await postDelaySeconds(options.hostId),
    minuteMs,
  });
  const poster = createPoster({
    queue,
    post: (points, signal) => client.postMetrics(points, signal),
    isNetworkError,
    signal: options.collectionDone,
    force: shutdown.force,
    clock,
  });
  return { enqueue: (points) => poster.enqueue(points), finished: poster.run() };
}
