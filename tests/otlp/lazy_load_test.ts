/**
 * `[otlp]` off costs nothing: no module of it is reached by a static import from `main.ts` or from
 * the daemon's command (`src/cli/daemon.ts`, which `run.ts` imports to run it); only the daemon's
 * dynamic `import()` (src/agent/otlp.ts, when the table is on) loads it.
 */
import assert from "node:assert/strict";

interface Dependency {
  readonly code?: { readonly specifier: string };
  readonly isDynamic?: boolean;
}
interface GraphModule {
  readonly specifier: string;
  readonly dependencies?: readonly Dependency[];
}

Deno.test("otlp: no OTLP module, nor the protobuf library, is statically imported by the daemon", async () => {
  const root = new URL("../../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const modules = new Map<string, GraphModule>(
    graph.modules.map((m: GraphModule) => [m.specifier, m]),
  );
  const reached = new Set<string>();
  const dynamic = new Set<string>();
  const visit = (specifier: string) => {
    if (reached.has(specifier)) return;
    reached.add(specifier);
    for (const dep of modules.get(specifier)?.dependencies ?? []) {
      if (!dep.code) continue; // a type-only import
      if (dep.isDynamic) dynamic.add(dep.code.specifier);
      else visit(dep.code.specifier);
    }
  };
  visit(new URL("main.ts", root).href);
  const daemon = new URL("src/cli/daemon.ts", root).href;
  assert.ok(dynamic.has(daemon), "run.ts imports the daemon's command to run it");
  visit(daemon);
  const otlp = new URL("src/otlp/", root).href;
  assert.deepEqual([...reached].filter((s) => s.startsWith(otlp) || s.includes("@bufbuild")), []);
  assert.ok(dynamic.has(new URL("src/otlp/pipeline.ts", root).href), "loaded on demand");
});
