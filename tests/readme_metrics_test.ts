/**
 * The README's tables of metrics say what the collectors declare (scripts/readme_metrics.ts).
 */
import assert from "node:assert/strict";
import { LOADAVG_COLLECTOR } from "../src/metrics/loadavg.ts";
import { COLLECTORS } from "../src/metrics/registry.ts";
import {
  BEGIN,
  END,
  normalizeMarkdown,
  renderMetricTables,
  replaceSection,
  sectionOf,
} from "../scripts/readme_metrics.ts";

const README = new URL("../README.md", import.meta.url);

Deno.test("readme: the metrics section is what the collectors declare (run `deno task readme`)", async () => {
  const section = sectionOf(await Deno.readTextFile(README));
  assert.equal(
    normalizeMarkdown(section),
    normalizeMarkdown(renderMetricTables()),
    "README.md's metrics differ from the declarations: run `deno task readme`",
  );
  // Every declared name is in it, once per collector that declares it.
  for (const definition of COLLECTORS) {
    for (const metric of definition.metrics) assert.ok(section.includes(`\`${metric.name}\``));
  }
});

Deno.test("readme: a metric declared but missing from the README, or a stale one, is a difference", () => {
  const declared = renderMetricTables([LOADAVG_COLLECTOR]);
  const fewer = renderMetricTables([{
    ...LOADAVG_COLLECTOR,
    metrics: LOADAVG_COLLECTOR.metrics.slice(1),
  }]);
  assert.notEqual(normalizeMarkdown(fewer), normalizeMarkdown(declared));
  const renamed = declared.replace("`loadavg5`", "`loadavg05`");
  assert.notEqual(normalizeMarkdown(renamed), normalizeMarkdown(declared));
  // Layout is not a difference: deno fmt may wrap prose and pad cells.
  const relaid = declared.replace("; Linux,", ";\nLinux,").replaceAll(" | ", "   |   ");
  assert.equal(normalizeMarkdown(relaid), normalizeMarkdown(declared));
});

Deno.test("readme: the section is replaced between its markers, the rest kept; no markers is an error", () => {
  const text = `# Title\n\n${BEGIN}\nold\n${END}\nafter\n`;
  assert.equal(replaceSection(text, "new\n"), `# Title\n\n${BEGIN}\n\nnew\n${END}\nafter\n`);
  assert.throws(() => sectionOf("# no section\n"), /README\.md: no ".*" section/);
});
