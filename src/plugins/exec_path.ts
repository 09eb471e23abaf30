/**
 * Go-style executable lookup for plugin commands (docs/upstream.md, "Running a plugin").
 *
 * Deno.Command reports a missing or non-executable program with its own wording, while upstream's
 * logs and exit codes come from Go's `os/exec`: `exec: "x": executable file not found in $PATH`
 * (127), `fork/exec ./x: permission denied` (126), anything else 125. Resolving argv[0] here,
 * before spawning, lets the agent report launch failures exactly as mackerel-agent does.
 *
 * @module
 */

/** Where argv[0] resolved to, or why it cannot run: an upstream exit code and Go's message. */
export type Located =
  | { readonly path: string }
  | { readonly code: number; readonly message: string };

/**
 * Resolves argv[0] as Go's exec.Command does, so launch failures carry Go's texts and codes:
 * a bare name is searched in PATH (`exec: "x": executable file not found in $PATH`), a name with a
 * slash is checked as execve(2) would (`fork/exec ./dir: permission denied`).
 */
export function locate(name: string, path: string): Located {
  if (name.includes("/")) {
    const problem = executableProblem(name);
    if (problem === undefined) return { path: name };
    return { code: exitCodeFor(problem), message: `fork/exec ${name}: ${problem}` };
  }
  const found = path.split(":")
    .map((dir) => dir === "" ? name : `${dir.replace(/\/+$/, "")}/${name}`)
    .find((candidate) => executableProblem(candidate) === undefined);
  const quoted = JSON.stringify(name);
  if (found === undefined) {
    return { code: 127, message: `exec: ${quoted}: executable file not found in $PATH` };
  }
  if (!found.startsWith("/")) {
    const message = `exec: ${quoted}: cannot run executable found relative to current directory`;
    return { code: 125, message };
  }
  return { path: found };
}

/** How long a PATH lookup is trusted: an executable installed earlier in PATH wins after this. */
const RESCAN_MS = 60_000;
/** Lookups remembered at most; plugins are few, so this only bounds a pathological config. */
const MAX_CACHED = 256;
const found = new Map<string, { readonly path: string; readonly at: number }>();

/**
 * {@linkcode locate}, without a PATH scan on every run: where a bare name was found is remembered
 * per PATH and name, and checked with one stat of that file (still there and executable) before
 * it is used; a miss, a change of PATH or a minute's age scans PATH again. Failures are never
 * remembered, so an executable installed after a failed run is found on the next.
 */
export function locateCached(name: string, path: string, now = performance.now()): Located {
  if (name.includes("/")) return locate(name, path);
  const key = `${path}\0${name}`;
  const hit = found.get(key);
  if (hit && now - hit.at < RESCAN_MS && executableProblem(hit.path) === undefined) {
    return { path: hit.path };
  }
  const located = locate(name, path);
  if ("path" in located) {
    if (found.size >= MAX_CACHED) found.clear();
    found.set(key, { path: located.path, at: now });
  } else {
    found.delete(key);
  }
  return located;
}

/** Why execve would refuse the file, in errno words, or `undefined` when it looks executable. */
export function executableProblem(file: string): string | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(file);
  } catch (e) {
    return errnoText(e);
  }
  if (info.isDirectory) return "permission denied";
  return canExecute(info) ? undefined : "permission denied";
}

/** An OS error in Go's errno words (`no such file or directory`, `permission denied` ...). */
export function errnoText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotADirectory) return "not a directory";
  return (e as Error).message;
}

/** Upstream's launch-failure codes: 127 not found, 126 not permitted, 125 anything else. */
export function exitCodeFor(problem: string): number {
  return problem === "no such file or directory"
    ? 127
    : problem === "permission denied"
    ? 126
    : 125;
}

/** Approximates access(X_OK); supplementary groups are unknown, so group bits are given the benefit. */
export function canExecute(info: Deno.FileInfo): boolean {
  const mode = info.mode;
  if (mode === null) return true;
  const uid = agentUid();
  if (uid === null || uid === 0) return (mode & 0o111) !== 0;
  if (info.uid === uid) return (mode & 0o100) !== 0;
  return (mode & 0o011) !== 0;
}

let uidOnce: number | null | undefined;

/** The agent's uid, asked once (it does not change); null when unknown (no --allow-sys). */
function agentUid(): number | null {
  if (uidOnce === undefined) {
    try {
      uidOnce = Deno.uid();
    } catch {
      // Without --allow-sys the owner is unknown: any execute bit will do.
      uidOnce = null;
    }
  }
  return uidOnce;
}

let setsidPath: string | null | undefined;

/** The util-linux `setsid` binary, looked up once; `undefined` when there is none. */
export function setsidBinary(): string | undefined {
  if (setsidPath === undefined) {
    setsidPath = ["/usr/bin/setsid", "/bin/setsid"].find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    }) ?? null;
  }
  return setsidPath ?? undefined;
}
