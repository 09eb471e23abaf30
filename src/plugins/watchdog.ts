/**
 * Plugins do not outlive the agent: a watchdog process ends them when the agent dies.
 *
 * The agent may die without a chance to end its plugins (kill -9, the OOM killer); they would be
 * re-parented to init and run on. So the agent starts one small `sh` watchdog, in its own session
 * (a signal to the agent's process group does not reach it), whose stdin is a pipe only the agent
 * holds: the agent writes `+<pid>` right after it starts a plugin (one synchronous write(2), see
 * openChannel) and `-<pid>` once the run is over. When the agent dies, for any reason, the kernel closes its end of the pipe; the watchdog
 * reads end-of-file and sends SIGTERM and SIGCONT to each plugin still listed - to its process
 * group (plugins run as group leaders, see command.ts) and to the process itself - then SIGKILL
 * a second later, and exits. Signals other than SIGKILL do not stop it before that.
 *
 * Why not `setpriv --pdeathsig`: the death signal reaches only the direct child (not what a
 * plugin's shell started), is cleared when a set-user-ID program such as `sudo` (the `user =`
 * plugins) is executed, and costs an extra exec per run. The watchdog costs one `sh` for the
 * agent's lifetime (started with the first plugin run) and two writes of a few bytes per run.
 *
 * What remains: a process that leaves its plugin's process group (calls `setsid` itself, or
 * `sudo` with `use_pty`, which puts the command in a session of its own: it receives the SIGTERM
 * that sudo relays, not the SIGKILL), an agent killed between a plugin's fork and the write of
 * its `+` line (microseconds), and the watchdog itself being SIGKILLed (it is restarted at the
 * next run, at most once a minute, with a WARNING). A process left behind by a plugin whose run
 * is over is not tracked, as upstream does not. The SIGKILL a second after the SIGTERM goes to
 * every listed id, so a group that ended at the SIGTERM and whose id was reused within that
 * second would receive it (pids wrap only after pid_max: 32 Ki to 4 Mi).
 *
 * @module
 */
import { logger } from "../log.ts";
import { setsidBinary } from "./exec_path.ts";

/** What the agent tells the watchdog. */
export interface PluginWatchdog {
  /** Lists a plugin process (and its group) to end if the agent dies; returns the unlisting. */
  watch(pid: number): () => void;
  /** The watchdog's pid while it runs (from the first plugin run on). */
  readonly pid: number | undefined;
}

/** Options of {@linkcode startPluginWatchdog}. */
export interface PluginWatchdogOptions {
  /** Time between the watchdog's SIGTERM and SIGKILL, in whole seconds; default 1. */
  readonly graceSeconds?: number;
}

/** The watchdog: a line `+pid` lists, `-pid` unlists; end of input ends every listed plugin. */
const SCRIPT = `
trap '' HUP INT TERM QUIT PIPE
grace=$1
pids=' '
while IFS= read -r line; do
  case $line in
    +*) pids="$pids\${line#+} " ;;
    -*) p=\${line#-}
      case $pids in *" $p "*) pids="\${pids%%" $p "*} \${pids#*" $p "}" ;; esac ;;
  esac
done
set -- $pids
[ $# -eq 0 ] && exit 0
for p; do kill -TERM -$p 2>/dev/null; kill -TERM $p 2>/dev/null; kill -CONT -$p 2>/dev/null; done
sleep "$grace"
for p; do kill -KILL -$p 2>/dev/null; kill -KILL $p 2>/dev/null; done
`;
/** A watchdog that exited on its own is started again at most this often. */
const RESTART_AFTER_MS = 60_000;

const log = logger("command");
let current: PluginWatchdog | undefined;

/** The watchdog {@linkcode startPluginWatchdog} started, if any: runCommand lists plugins with it. */
export function pluginWatchdog(): PluginWatchdog | undefined {
  return current;
}

/**
 * Enables the plugin watchdog for this process (once; later calls return the same one); its
 * process starts with the first plugin run. Daemons call this at start-up; without it, plugins
 * run unwatched as before (tests, `once`).
 */
export function startPluginWatchdog(options: PluginWatchdogOptions = {}): PluginWatchdog {
  const grace = options.graceSeconds ?? 1;
  if (!Number.isSafeInteger(grace) || grace < 0) {
    throw new RangeError(`graceSeconds must be a whole number of seconds, got ${grace}`);
  }
  if (current) return current;
  const listed = new Set<number>();
  let channel: Channel | undefined;
  let watchdogPid: number | undefined;
  let startedAt = -Infinity;

  const spawn = () => {
    startedAt = performance.now();
    let child: Deno.ChildProcess;
    try {
      const argv = ["sh", "-c", SCRIPT, "mackerel-agent-plugin-watchdog", String(grace)];
      // Without util-linux setsid (non-Linux), it runs in the agent's group: still watching.
      const setsid = setsidBinary();
      child = new Deno.Command(setsid ?? argv[0], {
        args: setsid ? ["--", ...argv] : argv.slice(1),
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
        clearEnv: true,
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      log
        .warn`cannot start the plugin watchdog: ${error}; plugins will outlive the agent if it is killed`;
      return;
    }
    // The watchdog must not keep the agent alive; the agent's exit is what it waits for.
    child.unref();
    const own = openChannel(child);
    channel = own;
    watchdogPid = child.pid;
    for (const pid of listed) own.send(`+${pid}`);
    child.status.then((status) => {
      own.close();
      if (channel !== own) return;
      channel = undefined;
      watchdogPid = undefined;
      const how = status.signal ?? `exit code ${status.code}`;
      log
        .warn`the plugin watchdog exited (${how}); plugins will outlive the agent if it is killed, until it is restarted`;
    });
  };

  // Started at the first plugin run: an agent without plugins needs no watchdog process.
  current = {
    watch(pid) {
      if (!channel && performance.now() - startedAt >= RESTART_AFTER_MS) spawn();
      listed.add(pid);
      channel?.send(`+${pid}`);
      return () => {
        if (listed.delete(pid)) channel?.send(`-${pid}`);
      };
    },
    get pid() {
      return watchdogPid;
    },
  };
  return current;
}

/** The agent's end of the watchdog's stdin. */
interface Channel {
  /** Writes one line; a watchdog that is gone is reported by its exit, not here. */
  send(line: string): void;
  close(): void;
}

const encoder = new TextEncoder();

/**
 * Opens the watchdog's stdin for synchronous writes, through `/proc/<pid>/fd/0` (a second open of
 * the same pipe; the piped end is closed, so the agent holds one). A line is then in the pipe
 * before the plugin it lists can even start: with the asynchronous stream, a SIGKILL right after
 * a plugin's start could leave it unlisted. A full pipe (a watchdog stopped for thousands of
 * runs) would block the write; a watchdog reading nothing else does not fill it. Without /proc
 * (or -A), the asynchronous stream is the fallback.
 */
function openChannel(child: Deno.ChildProcess): Channel {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(`/proc/${child.pid}/fd/0`, { write: true });
  } catch {
    const writer = child.stdin.getWriter();
    return {
      send(line) {
        writer.write(encoder.encode(line + "\n")).catch(() => {});
      },
      close() {
        writer.close().catch(() => {});
      },
    };
  }
  child.stdin.close().catch(() => {});
  let open = true;
  return {
    send(line) {
      const bytes = encoder.encode(line + "\n");
      try {
        for (let at = 0; open && at < bytes.length;) at += file.writeSync(bytes.subarray(at));
      } catch {
        // EPIPE: the watchdog has exited.
      }
    },
    close() {
      if (open) file.close();
      open = false;
    },
  };
}
