/**
 * What `.github/workflows/os.yml` checks on each real operating system beyond the test suite:
 * that upstream's metric names for the system arrive, from `once` and from a running daemon, and
 * (Windows, macOS) that the agent runs as a service: installed, started, restarted after a crash,
 * stopped gracefully with what was not posted kept in the spool and posted at the next start,
 * and uninstalled.
 *
 * ```sh
 * deno run -A scripts/os_smoke.ts once FILE                     # a `once` document
 * deno run -A scripts/os_smoke.ts daemon [--seconds=60] [--interval=5]
 * deno run -A scripts/os_smoke.ts service --binary=PATH         # as root / Administrator
 * ```
 *
 * The names expected are `expectedMetricNames(os)` of `src/metrics/upstream_names.ts` (upstream's names
 * for that system, `*` or `<device>` standing for one device, filesystem or interface key), or
 * `--expect=a,b`.
 * The daemon and the service post to the tests' fake API on 127.0.0.1. Each step prints a line;
 * the first failure prints one line, the agent's log, and exits 1.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type FakeMackerel, startFakeMackerel } from "../tests/support/fake_mackerel.ts";
import { waitFor } from "../tests/support/wait.ts";
import { fetchWrapper } from "./windows_bundle.ts";

/** A check that failed, in one line. */
export class SmokeError extends Error {}

/** Where the per-system lists of upstream's metric names are. */
export const NAMES_MODULE = "src/metrics/upstream_names.ts";

/** The API key of the fake API and of the agent's config. */
const API_KEY = "os-smoke-key";

/**
 * A name of {@linkcode expectedNames} as a pattern: `*` or a placeholder in angle brackets (as the
 * collectors declare them, `disk.<device>.reads.delta`) is one key without a dot; the rest is
 * literal.
 */
export function namePattern(name: string): RegExp {
  const parts = name.split(/\*|<[^<>.]+>/).map((part) =>
    part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
  );
  return new RegExp(`^${parts.join("[^.]+")}$`);
}

/** The expected names no received name matches, in their order. */
export function missingNames(expected: readonly string[], received: Iterable<string>): string[] {
  const names = [...new Set(received)];
  return expected.filter((name) => {
    const pattern = namePattern(name);
    return !names.some((one) => pattern.test(one));
  });
}

/** The names expected on `os`: `override` when given, else those of {@linkcode NAMES_MODULE}. */
export async function expectedNames(
  os: string,
  override?: readonly string[],
): Promise<readonly string[]> {
  if (override) return override;
  const url = new URL(`../${NAMES_MODULE}`, import.meta.url).href;
  let module: { expectedMetricNames?: unknown };
  try {
    module = await import(url);
  } catch (error) {
    throw new SmokeError(
      `${NAMES_MODULE} cannot be loaded (${(error as Error).message.split("\n")[0]}); it ` +
        "exports expectedMetricNames(os), upstream's metric names per operating system",
    );
  }
  if (typeof module.expectedMetricNames !== "function") {
    throw new SmokeError(`${NAMES_MODULE} does not export expectedMetricNames(os)`);
  }
  const names: unknown = module.expectedMetricNames(os);
  if (
    !Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === "string")
  ) {
    throw new SmokeError(`${NAMES_MODULE}: expectedMetricNames("${os}") is not a list of names`);
  }
  return names;
}

/** Throws naming what is missing unless every expected name is among `received`. */
export function assertNames(
  what: string,
  expected: readonly string[],
  received: Iterable<string>,
): void {
  const missing = missingNames(expected, received);
  if (missing.length > 0) {
    throw new SmokeError(`${what}: ${missing.length} of upstream's names missing: ${missing}`);
  }
}

/** The config the daemon and the service run with: the fake API, no cloud probing. */
export function agentConf(api: { readonly url: string }): string {
  return `apikey = "${API_KEY}"\napibase = "${api.url}"\ncloud_platform = "none"\n`;
}

/** The pid of `mackerel-agent.exe` in `tasklist /FO CSV /NH` output; none when absent. */
export function tasklistPid(output: string): number | undefined {
  const match = output.match(/^"mackerel-agent\.exe","(\d+)"/im);
  return match ? Number(match[1]) : undefined;
}

/** The pid in `launchctl print system/<label>` output; none when the job is not running. */
export function launchctlPid(output: string): number | undefined {
  const match = output.match(/^\s*pid = (\d+)$/m);
  return match ? Number(match[1]) : undefined;
}

/** The Win32 exit code of `sc.exe query` output. */
export function win32ExitCode(output: string): number | undefined {
  const match = output.match(/^\s*WIN32_EXIT_CODE\s*:\s*(\d+)/m);
  return match ? Number(match[1]) : undefined;
}

const say = (line: string) => console.log(`os_smoke: ${line}`);

/** Runs a program to its end; its exit code and output (stdout and stderr). */
async function run(program: string, args: readonly string[]) {
  const out = await new Deno.Command(program, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, output: (decode(out.stdout) + decode(out.stderr)).trim() };
}

/** Runs a program that must succeed; its output. */
async function must(program: string, args: readonly string[]): Promise<string> {
  const { code, output } = await run(program, args);
  say(`${program} ${args.join(" ")} -> ${code}${output === "" ? "" : `\n${output}`}`);
  if (code !== 0) throw new SmokeError(`${program} ${args.join(" ")} exited with ${code}`);
  return output;
}

/** The names of every point the API accepted. */
const namesOf = (api: FakeMackerel) => api.metrics().map((p) => p.name);

/** `once`: the document's metrics hold every expected name. */
async function checkOnce(file: string, expected: readonly string[]): Promise<void> {
  const doc = JSON.parse(await Deno.readTextFile(file));
  if (typeof doc.host?.name !== "string") throw new SmokeError(`${file}: no host.name`);
  const metrics: { name: string }[] = doc.metrics ?? [];
  assertNames(`once (${file})`, expected, metrics.map((m) => m.name));
  say(`once: ${metrics.length} metrics, every one of the ${expected.length} names expected`);
}

/** The daemon from the sources for `seconds`, then stopped: every expected name arrived. */
async function checkDaemon(options: {
  readonly seconds: number;
  readonly interval: number;
  readonly expected: readonly string[];
}): Promise<void> {
  const api = await startFakeMackerel({ apiKey: API_KEY });
  const dir = await Deno.makeTempDir({ prefix: "os-smoke-" });
  let log = "";
  try {
    const conf = join(dir, "agent.conf");
    await Deno.writeTextFile(conf, agentConf(api));
    const main = new URL("../main.ts", import.meta.url);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--lite-mode",
        main.href,
        `-conf=${conf}`,
        `-root=${join(dir, "root")}`,
        "-pidfile=",
        `-interval=${options.interval}`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reading = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) log += chunk;
    })();
    say(`daemon: pid ${child.pid}, -interval=${options.interval}, for ${options.seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    // Windows has no signal Deno can send a console process: there the stop is a kill, and the
    // graceful stop is checked through the service (a console Ctrl-C from the wrapper).
    const windows = Deno.build.os === "windows";
    child.kill(windows ? "SIGKILL" : "SIGTERM");
    const status = await child.status;
    await reading;
    if (!windows && status.code !== 0) {
      throw new SmokeError(`daemon: exit ${status.code} after SIGTERM, not 0`);
    }
    if (api.violations.length > 0) throw new SmokeError(`daemon: ${api.violations.join("; ")}`);
    if (api.hosts.size !== 1) throw new SmokeError(`daemon: ${api.hosts.size} hosts registered`);
    assertNames("daemon", options.expected, namesOf(api));
    say(
      `daemon: ${api.metrics().length} points, every one of the ${options.expected.length} names`,
    );
  } catch (error) {
    if (log !== "") console.error(`--- the agent's log ---\n${log}`);
    throw error;
  } finally {
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** What differs between the two service managers in the service scenario. */
interface ServiceSystem {
  /** Where the agent is installed and its files are. */
  readonly binary: string;
  readonly conf: string;
  readonly spool: string;
  readonly log: string;
  /** The message of a graceful stop on this system. */
  readonly stopSignal: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The running agent's pid, if it runs. */
  pid(): Promise<number | undefined>;
  /** Checks what install registered. */
  inspect(): Promise<void>;
  /** Checks that uninstall removed it. */
  removed(): Promise<void>;
}

const WINDOWS_DIR = "C:\\Program Files\\Mackerel\\mackerel-agent";
const SC = "sc.exe";

/** The Windows service, in upstream's folder. */
function windowsSystem(): ServiceSystem {
  const state = async () => (await run(SC, ["query", "mackerel-agent"])).output;
  const waitState = (want: string) =>
    waitFor(async () => new RegExp(`STATE\\s*:\\s*\\d+\\s+${want}`).test(await state()), want, {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
  return {
    binary: join(WINDOWS_DIR, "mackerel-agent.exe"),
    conf: join(WINDOWS_DIR, "mackerel-agent.conf"),
    spool: join(WINDOWS_DIR, "spool"),
    log: join(WINDOWS_DIR, "logs", "mackerel-agent_rCURRENT.log"),
    stopSignal: "Received signal 'interrupt', try graceful shutdown",
    async start() {
      await must(SC, ["start", "mackerel-agent"]);
      await waitState("RUNNING");
    },
    async stop() {
      await must(SC, ["stop", "mackerel-agent"]);
      await waitState("STOPPED");
      const exit = win32ExitCode(await state());
      if (exit !== 0) throw new SmokeError(`the service stopped with Win32 exit code ${exit}`);
    },
    async pid() {
      const out = await run("tasklist", ["/FI", "IMAGENAME eq mackerel-agent.exe", "/FO", "CSV"]);
      return tasklistPid(out.output.split("\n").slice(1).join("\n"));
    },
    async inspect() {
      const config = await must(SC, ["qc", "mackerel-agent"]);
      for (const want of ["AUTO_START", "shawl.exe", "mackerel-agent.exe", "RPCSS"]) {
        if (!config.includes(want)) throw new SmokeError(`sc.exe qc: no ${want}`);
      }
      if (!(await must(SC, ["qfailure", "mackerel-agent"])).includes("RESTART")) {
        throw new SmokeError("sc.exe qfailure: no restart action");
      }
    },
    async removed() {
      const { code } = await run(SC, ["query", "mackerel-agent"]);
      if (code !== 1060) throw new SmokeError(`sc.exe query after uninstall exited ${code}`);
    },
  };
}

const MAC_HOME = "/var/root/Library/mackerel-agent";
const PLIST = "/Library/LaunchDaemons/mackerel-agent.plist";

/** The launchd daemon, with the packaged plist's paths. */
function macSystem(): ServiceSystem {
  return {
    binary: "/usr/local/bin/mackerel-agent",
    conf: `${MAC_HOME}/mackerel-agent.conf`,
    spool: `${MAC_HOME}/spool`,
    log: "/Library/Logs/mackerel-agent.log",
    stopSignal: "Received signal 'terminated', try graceful shutdown",
    async start() {
      await must("launchctl", ["bootstrap", "system", PLIST]);
      await waitFor(async () => (await this.pid()) !== undefined, "the daemon's pid", {
        timeoutMs: 30_000,
        intervalMs: 500,
      });
    },
    async stop() {
      // bootout sends SIGTERM and waits for the job to exit (ExitTimeOut).
      await must("launchctl", ["bootout", "system/mackerel-agent"]);
    },
    async pid() {
      const out = await run("launchctl", ["print", "system/mackerel-agent"]);
      return out.code === 0 ? launchctlPid(out.output) : undefined;
    },
    async inspect() {
      await must("plutil", ["-lint", PLIST]);
      await must("plutil", ["-lint", "packaging/macos/mackerel-agent.plist"]);
    },
    async removed() {
      if (await Deno.stat(PLIST).then(() => true, () => false)) {
        throw new SmokeError(`${PLIST} is still there after uninstall`);
      }
    },
  };
}

/** The service scenario on this system, with the compiled agent at `binary`. */
async function checkService(binary: string, expected: readonly string[]): Promise<void> {
  const system = Deno.build.os === "windows"
    ? windowsSystem()
    : Deno.build.os === "darwin"
    ? macSystem()
    : undefined;
  if (!system) throw new SmokeError(`service: nothing to check on ${Deno.build.os}`);
  const api = await startFakeMackerel({ apiKey: API_KEY });
  const dir = (path: string) => path.replace(/[\\/][^\\/]*$/, "");
  try {
    await Deno.mkdir(dir(system.binary), { recursive: true });
    await Deno.copyFile(binary, system.binary);
    if (Deno.build.os === "windows") {
      const { wrapper } = await fetchWrapper();
      await Deno.writeFile(join(WINDOWS_DIR, "shawl.exe"), wrapper);
    }
    await Deno.mkdir(dir(system.conf), { recursive: true });
    await Deno.writeTextFile(system.conf, agentConf(api));

    await must(system.binary, ["service", "install", "-interval=2"]);
    await system.inspect();
    await system.start();
    await waitFor(() => missingNames(expected, namesOf(api)).length === 0, "upstream's names", {
      timeoutMs: 120_000,
      intervalMs: 500,
    }).catch(() => assertNames("service", expected, namesOf(api)));
    say(`service: posting, every one of the ${expected.length} names arrived`);

    // A crash: the service manager starts the agent again.
    const first = await system.pid();
    if (first === undefined) throw new SmokeError("service: no agent process found");
    Deno.kill(first, "SIGKILL");
    say(`service: killed the agent (pid ${first})`);
    await waitFor(
      async () => {
        const pid = await system.pid();
        return pid !== undefined && pid !== first;
      },
      "a restarted agent",
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const posted = api.metrics().length;
    await waitFor(() => api.metrics().length > posted, "posts after the restart", {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    say(`service: restarted as pid ${await system.pid()}, posting again`);

    // An outage, then a graceful stop: what was not posted stays in the spool.
    const restore = api.failWhile(() => true, 503);
    const outageStart = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await system.stop();
    const stoppedAt = Date.now();
    // The wrapper may write the agent's last lines a moment after the stop.
    const wanted = [system.stopSignal, "are kept in the spool for the next start"];
    let log = "";
    await waitFor(
      async () => {
        log = await Deno.readTextFile(system.log);
        return wanted.every((want) => log.includes(want));
      },
      "the stop's lines in the log",
      { timeoutMs: 10_000, intervalMs: 500 },
    ).catch(() => {
      const absent = wanted.filter((want) => !log.includes(want));
      throw new SmokeError(`service: the log has no "${absent.join('", "')}"`);
    });
    if (/force (shutdown|return)/.test(log)) throw new SmokeError("service: the stop was forced");
    const segments = [];
    for await (const entry of Deno.readDir(system.spool)) {
      if (entry.name.endsWith(".seg")) segments.push(entry.name);
    }
    if (segments.length === 0) throw new SmokeError(`service: no spool segment in ${system.spool}`);
    say(`service: stopped gracefully, ${segments.length} spool segment(s) kept`);

    // The next start posts what the outage kept.
    restore();
    const before = api.metrics().length;
    await system.start();
    await waitFor(
      () =>
        api.metrics().slice(before).some((p) =>
          p.time * 1000 >= outageStart - 2_000 && p.time * 1000 <= stoppedAt
        ),
      "the points kept during the outage",
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    say("service: the kept points arrived after the restart");
    await system.stop();

    await must(system.binary, ["service", "uninstall"]);
    await system.removed();
    if (api.violations.length > 0) throw new SmokeError(`service: ${api.violations.join("; ")}`);
    say("service: uninstalled");
  } catch (error) {
    const log = await Deno.readTextFile(system.log).catch(() => "(no log)");
    console.error(`--- ${system.log} ---\n${log}`);
    await run(system.binary, ["service", "uninstall"]).catch(() => undefined);
    throw error;
  } finally {
    await api.close();
  }
}

/** Runs the command line; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        seconds: { type: "string", default: "60" },
        interval: { type: "string", default: "5" },
        binary: { type: "string" },
        expect: { type: "string" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`os_smoke: ${(error as Error).message}`);
    return 2;
  }
  const { values, positionals: [command, file] } = parsed;
  try {
    const expected = await expectedNames(Deno.build.os, values.expect?.split(","));
    if (command === "once" && file) await checkOnce(file, expected);
    else if (command === "daemon") {
      await checkDaemon({
        seconds: Number(values.seconds),
        interval: Number(values.interval),
        expected,
      });
    } else if (command === "service" && values.binary) {
      await checkService(values.binary, expected);
    } else {
      console.error("usage: os_smoke.ts once FILE | daemon [--seconds=N] | service --binary=PATH");
      return 2;
    }
    return 0;
  } catch (error) {
    // A timed-out wait is a failed check like any other: one line, no stack.
    console.error(`os_smoke: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
