/**
 * `version`: prints the agent's version line.
 *
 * @module
 */
import { REVISION, VERSION } from "../version.ts";

/** The version line in upstream's shape, with Deno's version where Go's stood (note the trailing space). */
export function versionLine(): string {
  return `mackerel-agent version ${VERSION} (rev ${REVISION}) [${Deno.build.os} ${goArch()} deno${Deno.version.deno}] `;
}

function goArch(): string {
  const arch: string = Deno.build.arch;
  return arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : arch;
}

/** Runs `version`. */
export function runVersion(): number {
  console.log(versionLine());
  return 0;
}
