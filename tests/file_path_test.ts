import assert from "node:assert/strict";
import { posix } from "node:path";
import fc from "fast-check";
import { posixBasename, posixDirname, posixJoin, posixNormalize } from "../src/file_path.ts";

/** Paths made of the parts that matter to these functions: separators, dots, names. */
const part = fc.constantFrom("", "/", "//", ".", "..", "...", "a", "b.c", " ", "a/", "/..", "./");
const path = fc.array(part, { maxLength: 8 }).map((parts) => parts.join(""));

Deno.test("file_path: the POSIX functions answer as node:path's for any path", () => {
  fc.assert(
    fc.property(path, (p) => {
      assert.equal(posixNormalize(p), posix.normalize(p), `normalize ${JSON.stringify(p)}`);
      assert.equal(posixDirname(p), posix.dirname(p), `dirname ${JSON.stringify(p)}`);
      assert.equal(posixBasename(p), posix.basename(p), `basename ${JSON.stringify(p)}`);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.array(path, { maxLength: 4 }), (parts) => {
      assert.equal(posixJoin(...parts), posix.join(...parts), `join ${JSON.stringify(parts)}`);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("file_path: the cases the agent relies on", () => {
  assert.equal(posixJoin("/var/lib/mackerel-agent/", "spool"), "/var/lib/mackerel-agent/spool");
  assert.equal(posixJoin("/", "proc", "stat"), "/proc/stat");
  assert.equal(posixJoin(), ".");
  assert.equal(posixDirname("/var/run/mackerel-agent.pid"), "/var/run");
  assert.equal(posixDirname("agent.conf"), ".");
  assert.equal(posixBasename("/var/run/mackerel-agent.pid"), "mackerel-agent.pid");
  assert.equal(posixNormalize("/host//etc/../"), "/host/");
});
