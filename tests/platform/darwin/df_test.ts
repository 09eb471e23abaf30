import assert from "node:assert/strict";
import { filesystemsByKey } from "../../../src/metrics/filesystem.ts";
import { parseDarwinDf, parseDfLines } from "../../../src/host/darwin_df.ts";
import { darwinFixture } from "./fixtures.ts";

Deno.test("df: 10.13's VM volume is not listed; its use is added to the root's", () => {
  assert.deepEqual(parseDarwinDf(darwinFixture("df-Pk-10.13-apfs.txt")), [{
    name: "/dev/disk1s1",
    mount: "/",
    type: "",
    kbSize: 244912536,
    kbUsed: 123227692 + 1048596,
    kbAvailable: 119970448,
    percentUsed: 51,
  }]);
});

Deno.test("df: volumes under /Volumes/ are dropped, as upstream drops them", () => {
  const listed = parseDarwinDf(darwinFixture("df-Pk-10.14-recovery.txt"));
  assert.deepEqual(listed.map((fs) => [fs.name, fs.mount, fs.kbUsed]), [
    ["/dev/disk1s1", "/", 202577024 + 1048632],
  ]);
});

Deno.test("df: Lion's map entries keep their names with spaces; network and removable volumes go", () => {
  const listed = parseDarwinDf(darwinFixture("df-k-10.7-lion.txt"));
  assert.deepEqual(listed.map((fs) => [fs.name, fs.mount, fs.kbSize, fs.percentUsed]), [
    ["/dev/disk1", "/", 243966468, 46],
    ["devfs", "/dev", 187, 100],
    ["map -hosts", "/net", 0, 100],
    ["map auto_home", "/home", 0, 100],
  ]);
  // Without the macOS rules every line parses, mount points with spaces included.
  const all = parseDfLines(darwinFixture("df-k-10.7-lion.txt"));
  assert.deepEqual(all.at(-1)?.mount, "/Volumes/NO NAME");
  assert.equal(all.length, 6);
});

Deno.test("df: on Apple silicon every APFS volume of the container gets metrics", () => {
  const listed = parseDarwinDf(darwinFixture("df-kP-14-apple-silicon.txt"));
  assert.deepEqual(listed.map((fs) => fs.mount), [
    "/",
    "/dev",
    "/System/Volumes/VM",
    "/System/Volumes/Data",
    "/System/Volumes/xarts",
    "/System/Volumes/Data/home",
  ]);
  const keyed = filesystemsByKey(listed, {});
  assert.deepEqual([...keyed.keys()], ["disk3s1s1", "disk3s6", "disk3s5", "disk1s2"]);
  const data = keyed.get("disk3s5")!;
  assert.deepEqual([data.kbUsed, data.kbAvailable], [108615424, 77381940]);
  const byMount = filesystemsByKey(listed, { useMountpoint: true, ignore: /disk1s/ });
  assert.deepEqual([...byMount.keys()], ["_", "_System_Volumes_VM", "_System_Volumes_Data"]);
});

Deno.test("df: a line that is not a filesystem is reported and skipped", () => {
  const warnings: string[] = [];
  const listed = parseDfLines(
    "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/disk1 x 1 1 1% /\n",
    (m) => warnings.push(m),
  );
  assert.deepEqual(listed, []);
  assert.deepEqual(warnings, ["failed to parse line: [/dev/disk1 x 1 1 1% /]"]);
});
