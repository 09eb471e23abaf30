import assert from "node:assert/strict";
import { graphDefsOf } from "../../src/metrics/metric_declaration.ts";
import { createFilesCollector, FILES_COLLECTOR, parseFileNr } from "../../src/metrics/files.ts";
import { at, fixtureTrees, readable, recordingSource, T0 } from "./rounds.ts";

const FILES_GRAPH_DEFS = graphDefsOf(FILES_COLLECTOR.metrics);

Deno.test("files: parseFileNr reads allocated, free and max", () => {
  assert.deepEqual(parseFileNr("1184\t0\t2466170\n"), { allocated: 1184, free: 0, max: 2466170 });
  // systemd's 2^63 − 1 is not exact as a double: it becomes 2^63, as JSON would carry it anyway.
  assert.equal(parseFileNr("1\t0\t9223372036854775807")?.max, 2 ** 63);
  assert.equal(parseFileNr("1184 0"), undefined);
  assert.equal(parseFileNr("a b c"), undefined);
});

Deno.test("files: in use and the maximum, each round", async () => {
  const collector = createFilesCollector({ source: fixtureTrees().source });
  assert.equal(collector.name, "files");
  const values = await collector.collect(at(T0));
  assert.deepEqual(values, [
    { name: "custom.files.used", value: 1184 },
    { name: "custom.files.limit.max", value: 2 ** 63 },
  ]);
  const defined = FILES_GRAPH_DEFS.flatMap((g) => g.metrics.map((m) => m.name));
  assert.deepEqual(values.map((v) => v.name), defined);
});

Deno.test("files: a garbled file-nr rejects naming the file", async () => {
  const { source } = fixtureTrees();
  const collector = createFilesCollector({
    source: { ...source, readProc: () => Promise.resolve("nonsense\n") },
  });
  await assert.rejects(collector.collect(at(T0)), {
    message: `unexpected format of ${source.procPath("sys/fs/file-nr")}`,
  });
});

const live = await readable("/proc/sys/fs/file-nr");

Deno.test({
  name: `files: live values are the kernel's${live ? "" : " (skipped: cannot open /proc)"}`,
  ignore: !live,
  async fn() {
    const { source, take } = recordingSource();
    const values = await createFilesCollector({ source }).collect(at(T0));
    const [allocated, free, max] = take().get("sys/fs/file-nr")!.trim().split("\t").map(Number);
    assert.deepEqual(values, [
      { name: "custom.files.used", value: allocated - free },
      { name: "custom.files.limit.max", value: max },
    ]);
    // The limit is a setting: it reads the same from the kernel now.
    const now = (await Deno.readTextFile("/proc/sys/fs/file-max")).trim();
    assert.equal(max, Number(now));
  },
});
