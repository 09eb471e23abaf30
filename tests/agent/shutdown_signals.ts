/**
 * Test module (not named `*_test.ts`, so the suite does not load it itself), run by
 * tests/agent/shutdown_test.ts one test at a time in a `deno test` process of its own: a signal
 * goes to a whole process, and the suite's test files share one, where the supervisor's tests
 * forward what they receive to their children.
 *
 * These tests send real signals to their own process. A TERM or QUIT with no listener would kill
 * the test runner (and `deno test` takes INT for itself, so no test sends it), so each test
 * installs its listeners before sending and removes them in `finally`, and waits for each signal
 * to be handled before the next step.
 */
import assert from "node:assert/strict";
import { handleSignals, type Shutdown } from "../../src/agent/shutdown.ts";
import { withLogs } from "../support/logs.ts";
import { waitFor } from "../support/wait.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("sends itself SIGTERM, SIGQUIT and SIGHUP");

/**
 * Waits for `promise`. Signal listeners do not keep the event loop alive, so a timer does; it also
 * turns a signal that never arrives into a failure instead of a hang.
 */
async function settled<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within 10 s`)), 10_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `signal` has aborted. */
function aborted(signal: AbortSignal): Promise<void> {
  return settled(
    new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    }),
    "the abort",
  );
}

/** Sends `signal` to ourselves and waits until a listener of our own has seen it too. */
async function sendAndWait(signal: Deno.Signal): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  Deno.addSignalListener(signal, resolve);
  try {
    Deno.kill(Deno.pid, signal);
    await settled(promise, signal);
  } finally {
    Deno.removeSignalListener(signal, resolve);
  }
}

/** Runs `fn` with the handlers `handleSignals(options)` installs and the log lines; removes them. */
async function withHandler(
  options: Parameters<typeof handleSignals>[0],
  fn: (shutdown: Shutdown, logs: readonly string[]) => Promise<void>,
): Promise<void> {
  await withLogs(async (logs) => {
    const shutdown = handleSignals(options);
    try {
      await fn(shutdown, logs);
    } finally {
      shutdown.dispose();
    }
  });
}

/** Lets timers due by now and pending callbacks run. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const graceful = (name: string, seconds: string) =>
  `INFO <main> Received signal '${name}', try graceful shutdown up to ${seconds} seconds. ` +
  "If you want force shutdown immediately, send a signal again.";

unix.test("shutdown: the first TERM asks for a graceful stop, not a forced one", async () => {
  await withHandler({ graceMs: 30_000 }, async (shutdown, logs) => {
    assert.equal(shutdown.stop.aborted, false);
    Deno.kill(Deno.pid, "SIGTERM");
    await aborted(shutdown.stop);
    assert.equal(shutdown.force.aborted, false);
    assert.deepEqual(logs, [graceful("terminated", "30.000000")]);
  });
});

unix.test("shutdown: a second stop signal forces the stop", async () => {
  await withHandler({ graceMs: 30_000 }, async (shutdown, logs) => {
    Deno.kill(Deno.pid, "SIGTERM");
    await aborted(shutdown.stop);
    assert.equal(shutdown.force.aborted, false);
    Deno.kill(Deno.pid, "SIGQUIT");
    await aborted(shutdown.force);
    assert.deepEqual(logs, [
      graceful("terminated", "30.000000"),
      "INFO <main> Received signal 'quit' again, force shutdown.",
    ]);
  });
});

unix.test("shutdown: QUIT is a stop signal too", async () => {
  await withHandler({ graceMs: 1500 }, async (shutdown, logs) => {
    Deno.kill(Deno.pid, "SIGQUIT");
    await aborted(shutdown.stop);
    assert.deepEqual(logs, [graceful("quit", "1.500000")]);
  });
});

unix.test("shutdown: the stop is forced once the graceful limit has passed", async () => {
  await withHandler({ graceMs: 20 }, async (shutdown, logs) => {
    Deno.kill(Deno.pid, "SIGTERM");
    await aborted(shutdown.stop);
    await aborted(shutdown.force);
    assert.deepEqual(logs, [
      graceful("terminated", "0.020000"),
      "INFO <main> Timed out. force shutdown.",
    ]);
  });
});

unix.test("shutdown: HUP calls onHangup and stops nothing", async () => {
  await withLogs(async (logs) => {
    let hangups = 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    const shutdown = handleSignals({
      graceMs: 30_000,
      onHangup: () => {
        hangups++;
        resolve();
      },
    });
    try {
      Deno.kill(Deno.pid, "SIGHUP");
      await settled(promise, "onHangup");
      assert.equal(hangups, 1);
      assert.equal(shutdown.stop.aborted, false);
      assert.equal(shutdown.force.aborted, false);
      assert.deepEqual(logs, ["DEBUG <main> Received signal 'hangup'"]);
    } finally {
      shutdown.dispose();
    }
  });
});

unix.test("shutdown: dispose removes the listeners", async () => {
  let hangups = 0;
  const shutdown: Shutdown = handleSignals({ graceMs: 30_000, onHangup: () => hangups++ });
  shutdown.dispose();
  // Our own listeners keep the process alive while the signals arrive.
  await sendAndWait("SIGHUP");
  await sendAndWait("SIGTERM");
  assert.equal(hangups, 0);
  assert.equal(shutdown.stop.aborted, false);
});

unix.test("shutdown: dispose cancels the graceful-limit timer", async () => {
  const shutdown = handleSignals({ graceMs: 10 });
  try {
    Deno.kill(Deno.pid, "SIGTERM");
    await aborted(shutdown.stop);
  } finally {
    shutdown.dispose();
  }
  // Well past the limit: a timer left armed would have fired (and leaked past the test).
  await pause(50);
  assert.equal(shutdown.force.aborted, false);
});

/** Waits until `lines` holds `line`. */
async function logged(lines: readonly string[], line: string): Promise<void> {
  await waitFor(() => lines.includes(line), `the log line ${JSON.stringify(line)}`);
}

const sameRequest = (name: string, ms: number) =>
  `DEBUG <main> Received signal '${name}' again within ${ms} ms; taken as the same stop request ` +
  "(one Ctrl-C reaches a process group twice)";

unix.test("shutdown: the same signal within the window is the same request; after it, forced", async () => {
  let time = 1000;
  await withHandler(
    { graceMs: 30_000, repeatWindowMs: 500, now: () => time },
    async (shutdown, logs) => {
      Deno.kill(Deno.pid, "SIGTERM");
      await aborted(shutdown.stop);
      time += 499;
      Deno.kill(Deno.pid, "SIGTERM");
      await logged(logs, sameRequest("terminated", 500));
      assert.equal(shutdown.force.aborted, false);
      assert.deepEqual(logs, [graceful("terminated", "30.000000"), sameRequest("terminated", 500)]);
      time += 1;
      Deno.kill(Deno.pid, "SIGTERM");
      await aborted(shutdown.force);
      assert.deepEqual(logs, [
        graceful("terminated", "30.000000"),
        sameRequest("terminated", 500),
        "INFO <main> Received signal 'terminated' again, force shutdown.",
      ]);
    },
  );
});

unix.test("shutdown: a stop asked for without a signal is forced by the first signal", async () => {
  await withHandler(
    { graceMs: 30_000, repeatWindowMs: 60_000, now: () => 0 },
    async (shutdown, logs) => {
      shutdown.requestStop();
      assert.equal(shutdown.stop.aborted, true);
      Deno.kill(Deno.pid, "SIGTERM");
      await aborted(shutdown.force);
      assert.deepEqual(logs, ["INFO <main> Received signal 'terminated' again, force shutdown."]);
    },
  );
});
