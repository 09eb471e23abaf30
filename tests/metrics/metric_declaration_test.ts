import assert from "node:assert/strict";
import {
  graphDefsOf,
  inGraph,
  matchesTemplate,
  templatePattern,
} from "../../src/metrics/metric_declaration.ts";

Deno.test("metric_declaration: a placeholder stands for one sanitized name part, nothing else", () => {
  assert.ok(matchesTemplate("disk.sda1.reads.delta", "disk.<device>.reads.delta"));
  assert.ok(matchesTemplate("disk._var_lib-x.reads.delta", "disk.<device>.reads.delta"));
  assert.ok(!matchesTemplate("disk.sda.1.reads.delta", "disk.<device>.reads.delta"));
  assert.ok(!matchesTemplate("disk..reads.delta", "disk.<device>.reads.delta"));
  assert.ok(!matchesTemplate("disk.sda1.reads.deltas", "disk.<device>.reads.delta"));
  // The dots of a template are dots, not any character.
  assert.ok(!matchesTemplate("cpuXuser.percentage", "cpu.user.percentage"));
  assert.ok(matchesTemplate("cpu.user.percentage", "cpu.user.percentage"));
  assert.equal(templatePattern("a.<x>.<y>").source, "^a\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$");
});

Deno.test("metric_declaration: graphs come from the names, host parts drawn as #, in first-line order", () => {
  const defs = graphDefsOf([
    { name: "loadavg1", unit: "float", description: "No graph: Mackerel draws its own." },
    ...inGraph("Inode", [
      { name: "custom.inode.count.<device>.used", unit: "integer", description: "Used." },
      { name: "custom.inode.count.<device>.free", unit: "integer", description: "Free." },
    ]),
    ...inGraph("Files", [{
      name: "custom.files.used",
      unit: "integer",
      label: "in use",
      description: "Used.",
    }]),
  ]);
  assert.deepEqual(defs, [
    {
      name: "custom.inode.count.#",
      displayName: "Inode",
      unit: "integer",
      metrics: [
        { name: "custom.inode.count.#.used", displayName: "used", isStacked: false },
        { name: "custom.inode.count.#.free", displayName: "free", isStacked: false },
      ],
    },
    {
      name: "custom.files",
      displayName: "Files",
      unit: "integer",
      metrics: [{ name: "custom.files.used", displayName: "in use", isStacked: false }],
    },
  ]);
});

Deno.test("metric_declaration: lines of one graph with another title or unit are refused, naming the metric", () => {
  assert.throws(
    () =>
      graphDefsOf([
        ...inGraph("TCP", [{ name: "custom.tcp.a", unit: "integer", description: "A." }]),
        ...inGraph("TCP", [{ name: "custom.tcp.b", unit: "float", description: "B." }]),
      ]),
    {
      name: "RangeError",
      message: 'metric custom.tcp.b: graph custom.tcp is "TCP" in integer, not "TCP" in float',
    },
  );
  assert.throws(
    () =>
      graphDefsOf([
        ...inGraph("One", [{ name: "custom.x.a", unit: "float", description: "A." }]),
        ...inGraph("Two", [{ name: "custom.x.b", unit: "float", description: "B." }]),
      ]),
    /metric custom\.x\.b: graph custom\.x is "One" in float, not "Two" in float/,
  );
});
