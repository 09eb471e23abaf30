/**
 * A service installation as data: the programs to run, the files to write or remove, and the
 * waits between them. `src/cli/service.ts` carries a plan out; tests read it without running it,
 * so the exact `sc.exe` and `launchctl` invocations are checked on any machine.
 *
 * @module
 */

/** Runs a program; a non-zero exit ends the plan unless {@linkcode RunStep.accept} names it. */
export interface RunStep {
  readonly kind: "run";
  /** What the step does, printed before it runs. */
  readonly what: string;
  readonly program: string;
  readonly args: readonly string[];
  /** Exit codes other than 0 that are fine here, with what each means (printed when met). */
  readonly accept?: Readonly<Record<number, string>>;
}

/** Writes a file whole, creating its folder. */
export interface WriteStep {
  readonly kind: "write";
  readonly what: string;
  readonly path: string;
  readonly text: string;
  /** Unix permission bits; ignored on Windows. */
  readonly mode: number;
}

/** Creates a folder and its parents, if missing. */
export interface FolderStep {
  readonly kind: "folder";
  readonly what: string;
  readonly path: string;
}

/** Removes a file; a missing one is fine. */
export interface RemoveStep {
  readonly kind: "remove";
  readonly what: string;
  readonly path: string;
}

/**
 * Runs a status query until its output says the service is stopped, or fails after the timeout.
 * Nothing is waited for when the query itself fails (no such service).
 */
export interface WaitStep {
  readonly kind: "wait";
  readonly what: string;
  readonly program: string;
  readonly args: readonly string[];
  /** Whether the query's output means the wait is over. */
  readonly done: (output: string) => boolean;
  readonly timeoutMs: number;
  readonly pollMs: number;
}

/** One step of a plan. */
export type ServiceStep = RunStep | WriteStep | FolderStep | RemoveStep | WaitStep;

/** What `service install` or `service uninstall` does on one operating system. */
export interface ServicePlan {
  readonly steps: readonly ServiceStep[];
  /** Lines printed once every step has succeeded: how to start, stop or read the logs. */
  readonly next: readonly string[];
}
