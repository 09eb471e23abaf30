/**
 * Regenerates `src/otlp/proto/` - the `@bufbuild/protobuf` code of the OTLP metrics service and of
 * `google.rpc.Status` / `RetryInfo` (gRPC's error details) - from the official `.proto` files as
 * pinned npm packages ship them:
 *
 * - `@elastic/mockotlpserver@0.10.0`: opentelemetry-proto v1.4.0 (its `opentelemetry/proto/`);
 * - `google-proto-files@6.0.1`: `google/rpc/status.proto` and `google/rpc/error_details.proto`.
 *
 * The generator is `buf` with `protoc-gen-es`, both from npm at the versions below (the code needs
 * the `@bufbuild/protobuf` runtime of the same version, pinned in `deno.json`). Characters above
 * U+00FF in the copied comments are spelled in ASCII, as every source under `src/` is Latin-1.
 *
 * ```sh
 * deno run -A scripts/gen_otlp_proto.ts
 * ```
 *
 * @module
 */
import { join } from "node:path";

const PACKAGES = [
  "@bufbuild/buf@1.75.0",
  "@bufbuild/protoc-gen-es@2.17.0",
  "@elastic/mockotlpserver@0.10.0",
  "google-proto-files@6.0.1",
];
const OTLP = "node_modules/@elastic/mockotlpserver";
const GOOGLE = "node_modules/google-proto-files";
const OUT = new URL("../src/otlp/proto/", import.meta.url).pathname;

const BUF_GEN = `version: v2
inputs:
  - directory: ${OTLP}
    paths:
      - ${OTLP}/opentelemetry/proto/collector/metrics/v1
      - ${OTLP}/opentelemetry/proto/metrics/v1
      - ${OTLP}/opentelemetry/proto/common/v1
      - ${OTLP}/opentelemetry/proto/resource/v1
  - directory: ${GOOGLE}
    paths:
      - ${GOOGLE}/google/rpc/status.proto
      - ${GOOGLE}/google/rpc/error_details.proto
plugins:
  - local: protoc-gen-es
    out: out
    opt:
      - target=ts
      - import_extension=ts
`;

/** ASCII spellings of the wide characters the official comments use (tree drawings, quotes). */
const ASCII: Readonly<Record<string, string>> = {
  "\u2514": "+",
  "\u251c": "+",
  "\u2500": "-",
  "\u2502": "|",
  "\u2018": "'",
  "\u2019": "'",
  "\u201c": '"',
  "\u201d": '"',
  "\u2013": "-",
  "\u2014": "-",
};

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, cwd, env, stdout: "inherit", stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
}

/** Replaces every character above U+00FF; throws on one with no spelling above. */
export function toLatin1(text: string, file: string): string {
  return text.replace(/[\u0100-\u{10ffff}]/gu, (c) => {
    const ascii = ASCII[c];
    if (ascii === undefined) {
      throw new Error(`${file}: no ASCII spelling for U+${c.codePointAt(0)!.toString(16)}`);
    }
    return ascii;
  });
}

async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* files(path);
    else yield path;
  }
}

if (import.meta.main) {
  const work = await Deno.makeTempDir({ prefix: "gen-otlp-proto-" });
  try {
    await Deno.writeTextFile(join(work, "package.json"), "{}");
    await run("npm", ["install", "--silent", "--no-audit", "--no-fund", ...PACKAGES], work);
    await Deno.writeTextFile(join(work, "buf.gen.yaml"), BUF_GEN);
    const path = `${join(work, "node_modules/.bin")}:${Deno.env.get("PATH")}`;
    await run(join(work, "node_modules/.bin/buf"), ["generate"], work, { PATH: path });
    await Deno.remove(OUT, { recursive: true }).catch(() => {});
    const out = join(work, "out");
    for await (const file of files(out)) {
      const target = join(OUT, file.slice(out.length + 1));
      await Deno.mkdir(join(target, ".."), { recursive: true });
      await Deno.writeTextFile(target, toLatin1(await Deno.readTextFile(file), file));
      console.log(target);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
