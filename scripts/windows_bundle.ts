/**
 * The Windows service wrapper, pinned, and the Windows archives of the release.
 *
 * The agent runs as a Windows service through shawl (`src/service/windows.ts` says why). This
 * script downloads shawl's release archive, refuses it unless its SHA-256 is the pinned one, takes
 * `shawl.exe` out of it (checked too) and shawl's license, and either leaves them in a folder or
 * packs each Windows binary in `dist/` with them into `mackerel-agent-<version>-<target>.zip`,
 * adding each archive to `dist/SHA256SUMS`.
 *
 * ```sh
 * deno run -A scripts/windows_bundle.ts                        # dist/*windows*.exe -> .zip
 * deno run -A scripts/windows_bundle.ts --wrapper-only=DIR     # shawl.exe and its license in DIR
 * ```
 *
 * Only the release workflow and the Windows CI job run it: it needs GitHub.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readReleaseVersion } from "./compile.ts";
import { binaryName, formatSha256Sums, type Target, TARGETS } from "./compile_targets.ts";
import { writeZip, zipEntry } from "./zip.ts";

/**
 * The pinned shawl release. Its archive's SHA-256 is the one several other projects pin for the
 * same file; `shawl.exe`'s is that of the file inside it. Raising the version means checking the
 * new release's archive and setting both digests again.
 */
export const SHAWL = {
  version: "1.9.0",
  url: "https://github.com/mtkennerly/shawl/releases/download/v1.9.0/shawl-v1.9.0-win64.zip",
  sha256: "f883c5d09c9beae2efaeabd8513e7d3f57cd1d0864cec3df4f4a7b6ee904351c",
  exeSha256: "0985555b71e7f943b8f3fc639952a9890aa62e66617942a2d0996985fe8e7c6d",
  licenseUrl: "https://raw.githubusercontent.com/mtkennerly/shawl/v1.9.0/LICENSE",
  licenseSha256: "cd75c5564078e3aadf662a9df3d23430f4705dfeedebbd0ebbeef53998ad94a8",
} as const;

/** What the wrapper is made of: where to get each part and its digest. */
export type WrapperPin = typeof SHAWL;

/** A download or a check that failed, in one line. */
export class BundleError extends Error {}

/** The Windows targets of the release. */
export const WINDOWS_TARGETS: readonly Target[] = TARGETS.filter((t) => t.includes("windows"));

/** The archive of one Windows target: `mackerel-agent-<version>-<target>.zip`. */
export function bundleName(version: string, target: Target): string {
  return binaryName(version, target).replace(/\.exe$/, ".zip");
}

/** The folder the archive unpacks to: extracted under `C:\Program Files\Mackerel\`, upstream's. */
export const BUNDLE_FOLDER = "mackerel-agent";

/** The files of one archive, by their path inside it. */
export function bundleFiles(parts: {
  readonly agent: Uint8Array;
  readonly wrapper: Uint8Array;
  readonly license: Uint8Array;
}): { name: string; data: Uint8Array }[] {
  return [
    { name: `${BUNDLE_FOLDER}/mackerel-agent.exe`, data: parts.agent },
    { name: `${BUNDLE_FOLDER}/shawl.exe`, data: parts.wrapper },
    { name: `${BUNDLE_FOLDER}/shawl-LICENSE.txt`, data: parts.license },
  ];
}

/** The hex SHA-256 of `data`. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(data));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Throws unless `data` has the SHA-256 `expected`. */
export async function checkDigest(what: string, data: Uint8Array, expected: string): Promise<void> {
  const actual = await sha256Hex(data);
  if (actual !== expected) {
    throw new BundleError(`${what}: SHA-256 ${actual}, expected ${expected}; refusing it`);
  }
}

/** Downloads `url` whole, bounded; throws {@linkcode BundleError} on an error answer. */
export async function download(
  url: string,
  options: { readonly signal?: AbortSignal; readonly maxBytes?: number } = {},
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal ?? AbortSignal.timeout(120_000) });
  } catch (error) {
    throw new BundleError(`${url}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new BundleError(`${url}: HTTP ${response.status}`);
  }
  const data = new Uint8Array(await response.arrayBuffer());
  const max = options.maxBytes ?? 64 * 1024 * 1024;
  if (data.length > max) throw new BundleError(`${url}: more than ${max} bytes`);
  return data;
}

/** The wrapper's executable and license, downloaded and checked against `pin`. */
export async function fetchWrapper(
  pin: WrapperPin = SHAWL,
  signal?: AbortSignal,
): Promise<{ wrapper: Uint8Array; license: Uint8Array }> {
  const archive = await download(pin.url, { signal });
  await checkDigest(pin.url, archive, pin.sha256);
  let wrapper: Uint8Array;
  try {
    wrapper = zipEntry(archive, "shawl.exe");
  } catch (error) {
    throw new BundleError(`${pin.url}: ${(error as Error).message}`);
  }
  await checkDigest(`shawl.exe in ${pin.url}`, wrapper, pin.exeSha256);
  const license = await download(pin.licenseUrl, { signal });
  await checkDigest(pin.licenseUrl, license, pin.licenseSha256);
  return { wrapper, license };
}

/** Packs each Windows binary of `dist` with the wrapper; returns the archives written. */
export async function bundleDist(options: {
  readonly dist: string;
  readonly version: string;
  readonly wrapper: Uint8Array;
  readonly license: Uint8Array;
}): Promise<string[]> {
  const sums: { digest: string; fileName: string }[] = [];
  for (const target of WINDOWS_TARGETS) {
    const binary = `${options.dist}/${binaryName(options.version, target)}`;
    let agent: Uint8Array;
    try {
      agent = await Deno.readFile(binary);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const zip = writeZip(bundleFiles({ agent, ...options }));
    const fileName = bundleName(options.version, target);
    await Deno.writeFile(`${options.dist}/${fileName}`, zip);
    sums.push({ digest: await sha256Hex(zip), fileName });
  }
  if (sums.length > 0) {
    const path = `${options.dist}/SHA256SUMS`;
    let before = "";
    try {
      before = await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    await Deno.writeTextFile(path, before + formatSha256Sums(sums));
  }
  return sums.map((s) => `${options.dist}/${s.fileName}`);
}

/** Runs the command line; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        dist: { type: "string", default: "dist" },
        "wrapper-only": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`windows_bundle: ${(error as Error).message}`);
    return 2;
  }
  try {
    const { wrapper, license } = await fetchWrapper();
    const folder = values["wrapper-only"];
    if (folder !== undefined) {
      await Deno.mkdir(folder, { recursive: true });
      await Deno.writeFile(`${folder}/shawl.exe`, wrapper);
      await Deno.writeFile(`${folder}/shawl-LICENSE.txt`, license);
      console.log(`shawl ${SHAWL.version} (checked) -> ${folder}/shawl.exe`);
      return 0;
    }
    const version = await readReleaseVersion();
    const written = await bundleDist({ dist: values.dist, version, wrapper, license });
    if (written.length === 0) {
      console.error(`windows_bundle: no Windows binary of ${version} in ${values.dist}`);
      return 1;
    }
    for (const path of written) console.log(`wrote ${path}`);
    return 0;
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    console.error(`windows_bundle: ${error.message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
