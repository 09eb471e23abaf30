/**
 * Plugins do not outlive the agent: a watchdog process ends them when the agent dies.
 *
 * The agent may die without a chance to end its plugins (kill -9, the OOM killer); they would be
 * re-parented to init and run on. So the agent starts one small `sh` watchdog, in its own session
 * (a signal to the agent's process group does not reach it), whose stdin is a pipe only the agent
 * holds: the agent writes `+<pid>` when it starts a plugin and `-<pid>` when the plugin has
 * exited. When the agent dies, for any reason, the kernel closes its end of the pipe; the watchdog
 * reads end-of-file and sends SIGTERM and SIGCONT to each plugin still listed — to its process
 * group (plugins run as group leaders, see command.ts) and to the process itself — then SIGKILL
 * a second later, and exits. Signals other than SIGKILL do not stop it before that.
 *
 * Why not `setpriv --pdeathsig`: the death signal reaches only the direct child (not what a
 * plugin's shell started), is cleared when a set-user-ID program such as `sudo` (the `user =`
 * plugins) is executed, and costs an extra exec per run. The watchdog costs one process for the
 * agent's lifetime and two short pipe writes per run.
 *
 * What remains: a process that leaves its plugin's process group (calls `setsid` itself, or
 * `sudo` with `use_pty`, which puts the command in a session of its own: it receives the SIGTERM
 * that sudo relays, not the SIGKILL), a plugin started in the instant before its `+` line
 * reaches the pipe, and the watchdog itself being SIGKILLed (it is then restarted at most once a
 * minute, with a WARNING). A process left behind by a plugin that has already exited is not
 * tracked, as upstream does not.
 *
 * @module
 */
import { logger } from "../log.ts";
import { setsidBinary } from "./exec_path.ts";

/** What the agent tells the watchdog. */
export interface PluginWatchdog {
  /** Lists a plugin process (and its group) to end if the agent dies; returns the unlisting. */
  watch(pid: number): () => void;
  /** The watchdog's pid while it runs. */
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
 * Starts the plugin watchdog for this process (once; later calls return the same one). Daemons
 * call it at start-up; without it, plugins run unwatched as before (tests, `once`).
 */
export function startPluginWatchdog(options: PluginWatchdogOptions = {}): PluginWatchdog {
  const grace = options.graceSeconds ?? 1;
  if (!Number.isSafeInteger(grace) || grace < 0) {
    throw new RangeError(`graceSeconds must be a whole number of seconds, got ${grace}`);
  }
  if (current) return current;
  const encoder = new TextEncoder();
  const listed = new Set<number>();
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  let watchdogPid: number | undefined;
  let startedAt = -Infinity;

  const send = (line: string) => {
    writer?.write(encoder.encode(line + "\n")).catch(() => {
      // The watchdog is gone; its exit is reported below.
    });
  };
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
    const own = child.stdin.getWriter();
    writer = own;
    watchdogPid = child.pid;
    for (const pid of listed) send(`+${pid}`);
    child.status.then((status) => {
      if (writer !== own) return;
      writer = undefined;
      watchdogPid = undefined;
      const how = status.signal ?? `exit code ${status.code}`;
      log
        .warn`the plugin watchdog exited (${how}); plugins will outlive the agent if it is killed, until it is restarted`;
    });
  };

  spawn();
  current = {
    watch(pid) {
      if (!writer && performance.now() - startedAt >= RESTART_AFTER_MS) spawn();
      listed.add(pid);
      send(`+${pid}`);
      return () => {
        if (listed.delete(pid)) send(`-${pid}`);
      };
    },
    get pid() {
      return watchdogPid;
    },
  };
  return current;
}
