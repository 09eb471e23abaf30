/**
 * Exit codes that mean something to whoever starts the agent (systemd, `supervise`, a script).
 *
 * Upstream exits 1 for every error. Ours keeps 1 for errors that a restart may heal (a crash, an
 * API outage outlasting the retries, a pidfile held by another agent) and uses
 * {@linkcode EXIT_CONFIG} where it cannot: the unit's `RestartPreventExitStatus=` and `supervise`
 * stop restarting on it, so a bad config or a revoked key does not loop (and post) forever.
 * Any non-zero code is still a failure to a script that only tests for success.
 *
 * @module
 */

/**
 * A fatal configuration or credentials error: the config cannot be read, has no API key, or the
 * API refused the key or the host (4xx at registration). Restarting cannot help until a person
 * fixes it. 78 is `EX_CONFIG` of BSD's sysexits.h, which systemd prints as `78/CONFIG`.
 */
export const EXIT_CONFIG = 78;
