/**
 * Registers the host with Mackerel or finds it again (docs/upstream.md, "Startup and registration",
 * "Retry rules").
 *
 * @module
 */
import { isClientError } from "../mackerel/errors.ts";
import type { HostPayload } from "../mackerel/types.ts";
import { errorMessage, logger } from "../log.ts";
import type { Clock } from "../async/clock.ts";
import { hostIdPath, readHostId, writeHostId } from "./host_id.ts";
import { retry } from "../async/retry.ts";

/** The host fields the agent reads from the API. */
export interface RegisteredHost {
  readonly id: string;
  readonly name?: string;
  readonly status?: string;
  readonly customIdentifier?: string;
}

/** The API calls registration needs. */
export interface RegistrationApi {
  findHost(id: string): Promise<RegisteredHost>;
  findHostByCustomIdentifier(customIdentifier: string): Promise<RegisteredHost | undefined>;
  createHost(payload: HostPayload): Promise<string>;
  updateHostStatus(id: string, status: string): Promise<void>;
}

/** Options of {@linkcode prepareHost}. */
export interface PrepareOptions {
  readonly api: RegistrationApi;
  readonly root: string;
  readonly payload: HostPayload;
  /** `[host_status] on_start`; `""` leaves the status alone. */
  readonly onStart: string;
  readonly clock: Clock;
  /** Wait between registration attempts (upstream: 3 s, 20 attempts). */
  readonly retryDelayMs?: number;
  readonly signal?: AbortSignal;
}

/** Raised when the host cannot be prepared; the daemon exits 1 with its message. */
export class RegistrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`failed to prepare host: ${message}`, options);
    this.name = "RegistrationError";
  }
}

/**
 * Finds or creates this host, sets its `on_start` status, and saves its id.
 *
 * Calls are retried 20 × 3 s, except client errors (4xx), which fail at once: a deleted host or a
 * wrong key does not heal by waiting.
 */
export async function prepareHost(options: PrepareOptions): Promise<RegisteredHost> {
  const { api, root, payload, clock, signal } = options;
  const log = logger("command");
  const patient = {
    attempts: 20,
    delayMs: options.retryDelayMs ?? 3000,
    clock,
    signal,
    // Not delivery/policy.ts on purpose: at registration upstream retries no 4xx (a deleted host or
    // a wrong key does not heal by waiting), and the daemon then exits with EX_CONFIG.
    retryable: (error: unknown) => !isClientError(error),
    onRetry: (error: unknown) => log.warn(`${errorMessage(error)}; retrying`),
  };
  let savedId: string | undefined;
  try {
    savedId = await readHostId(root);
  } catch (error) {
    // Refuse rather than register anew: a second host on every restart is worse than an error.
    throw new RegistrationError(`failed to load host ID: ${errorMessage(error)}`, { cause: error });
  }
  let host: RegisteredHost;
  if (savedId === undefined) {
    host = await findByCustomIdentifier(options) ?? await create(options, patient);
  } else {
    try {
      host = await retry(() => api.findHost(savedId), patient);
    } catch (error) {
      throw new RegistrationError(
        `failed to find this host on mackerel (You may want to delete file "${
          hostIdPath(root)
        }" to register this host to an another organization): ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const remote = host.customIdentifier ?? "";
    const local = payload.customIdentifier ?? "";
    if (remote !== "" && remote !== local) {
      throw new RegistrationError(
        `custom identifiers mismatch: this host = "${local}", the host whose id is "${host.id}" on mackerel.io = "${remote}" (File "${
          hostIdPath(root)
        }" may be copied from another host. Try deleting it and restarting agent)`,
      );
    }
  }
  if (options.onStart !== "" && options.onStart !== host.status) {
    try {
      await retry(() => api.updateHostStatus(host.id, options.onStart), patient);
    } catch (error) {
      throw new RegistrationError(
        `failed to set default host status: ${options.onStart}, ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
  // An unchanged id is not written again: a read-only root (an image, a mount) starts as well.
  if (host.id !== savedId) {
    try {
      await writeHostId(root, host.id);
    } catch (error) {
      throw new RegistrationError(`failed to save host ID: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }
  return host;
}

async function findByCustomIdentifier(
  options: PrepareOptions,
): Promise<RegisteredHost | undefined> {
  const customIdentifier = options.payload.customIdentifier;
  if (!customIdentifier) return undefined;
  try {
    return await retry(() => options.api.findHostByCustomIdentifier(customIdentifier), {
      attempts: 3,
      delayMs: 2000,
      clock: options.clock,
      signal: options.signal,
      retryable: (error) => !isClientError(error),
    });
  } catch (error) {
    logger("command").info(
      `could not find the host by its custom identifier: ${errorMessage(error)}`,
    );
    return undefined;
  }
}

async function create(
  options: PrepareOptions,
  patient: Parameters<typeof retry>[1],
): Promise<RegisteredHost> {
  let id: string;
  try {
    id = await retry(() => options.api.createHost(options.payload), patient);
  } catch (error) {
    throw new RegistrationError(`failed to register this host: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  try {
    return await retry(() => options.api.findHost(id), patient);
  } catch (error) {
    throw new RegistrationError(`failed to find this host on mackerel: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
