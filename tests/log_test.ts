import assert from "node:assert/strict";
import { logger, resetLogging, setupLogging } from "../src/log.ts";

Deno.test("log: lines carry upstream's level names and tags, below the level dropped", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", write: (line) => lines.push(line) });
  try {
    logger("metrics.cpuUsage").debug("hidden");
    logger("metrics.cpuUsage").warn("Failed to read {path}", { path: "/proc/stat" });
    logger("api").fatal("boom");
  } finally {
    await resetLogging();
  }
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d WARNING <metrics\.cpuUsage> Failed to read \/proc\/stat$/,
  );
  assert.match(lines[1], / CRITICAL <api> boom$/);
});

Deno.test("log: braces in a plain message are printed as they are, placeholders only on request", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", write: (line) => lines.push(line) });
  try {
    logger("cmdutil").error(`RunCommand error. command: [sh -c awk '{print $1}'], error: {"a":1}`);
    logger("cmdutil").info("value {v}", { v: 7 });
    const name = "x{y}";
    logger("cmdutil").info`tagged ${name}`;
  } finally {
    await resetLogging();
  }
  assert.match(
    lines[0],
    / ERROR <cmdutil> RunCommand error\. command: \[sh -c awk '\{print \$1\}'\], error: \{"a":1\}$/,
  );
  assert.match(lines[1], / INFO <cmdutil> value 7$/);
  assert.match(lines[2], / INFO <cmdutil> tagged x\{y\}$/);
});
