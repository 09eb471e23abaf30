import assert from "node:assert/strict";
import { parseIfconfig } from "../../../src/platform/darwin/ifconfig.ts";
import { parseSwVers } from "../../../src/platform/darwin/sw_vers.ts";
import {
  cpuSpecFromSysctl,
  parseSysctl,
  parseSysctlInteger,
} from "../../../src/platform/darwin/sysctl.ts";
import { parseUnameA } from "../../../src/platform/darwin/uname.ts";
import { darwinFixture } from "./fixtures.ts";

Deno.test("sysctl machdep.cpu: Apple silicon has cores and a brand, nothing else upstream knows", () => {
  assert.deepEqual(cpuSpecFromSysctl(darwinFixture("sysctl-machdep.cpu-m1-pro.txt")), {
    cores: "8",
    model_name: "Apple M1 Pro",
  });
});

Deno.test("sysctl machdep.cpu: Intel Macs have vendor, family, model and stepping", () => {
  assert.deepEqual(cpuSpecFromSysctl(darwinFixture("sysctl-machdep.cpu-i5-5257u.txt")), {
    vendor_id: "GenuineIntel",
    model_name: "Intel(R) Core(TM) i5-5257U CPU @ 2.70GHz",
    family: "6",
    model: "61",
    stepping: "4",
  });
  const xeon = darwinFixture("sysctl-a-cpu-xeon-x5690.txt");
  // Inner spaces of the brand are kept, as upstream trims only the ends; hw.* lines are ignored.
  assert.equal(
    cpuSpecFromSysctl(xeon).model_name,
    "Intel(R) Xeon(R) CPU           X5690  @ 3.47GHz",
  );
  assert.equal(parseSysctl(xeon).get("hw.logicalcpu"), "24");
  assert.deepEqual(cpuSpecFromSysctl(darwinFixture("sysctl-a-machdep.cpu-m1-rosetta.txt")), {
    model_name: "Apple M1",
    cores: "8",
    family: "6",
  });
});

Deno.test("sysctl -n: an integer, or an error naming the value", () => {
  assert.equal(parseSysctlInteger("17179869184\n", "hw.memsize"), 17179869184);
  assert.throws(
    () => parseSysctlInteger("unknown oid\n", "hw.memsize"),
    /hw\.memsize: not an integer/,
  );
});

Deno.test("uname -a: the version keeps its spaces; Intel, Apple silicon and a VM", () => {
  assert.deepEqual(parseUnameA(darwinFixture("uname-a-13.6.6-x86_64.txt")), {
    sysname: "Darwin",
    nodename: "ip-172-31-41-17.ec2.internal",
    release: "22.6.0",
    version:
      "Darwin Kernel Version 22.6.0: Mon Feb 19 19:48:53 PST 2024; root:xnu-8796.141.3.704.6~1/RELEASE_X86_64",
    machine: "x86_64",
  });
  const arm = parseUnameA(darwinFixture("uname-a-14.5-arm64.txt"));
  assert.equal(
    arm.version,
    "Darwin Kernel Version 23.5.0: Wed May  1 20:16:51 PDT 2024; root:xnu-10063.121.3~5/RELEASE_ARM64_T8103",
  );
  assert.equal(arm.machine, "arm64");
  assert.equal(parseUnameA(darwinFixture("uname-a-15.3-vm-arm64.txt")).release, "24.3.0");
  assert.throws(() => parseUnameA("Darwin\n"), /unexpected output of uname -a/);
});

Deno.test("sw_vers: tabs or spaces, Mac OS X or macOS, with or without a patch version", () => {
  assert.deepEqual(parseSwVers(darwinFixture("sw_vers-13.6.6.txt")), {
    productName: "macOS",
    productVersion: "13.6.6",
    buildVersion: "22G630",
  });
  assert.equal(parseSwVers(darwinFixture("sw_vers-10.15.5.txt")).productName, "Mac OS X");
  assert.equal(parseSwVers(darwinFixture("sw_vers-10.13.txt")).productVersion, "10.13");
  assert.deepEqual(parseSwVers(darwinFixture("sw_vers-10.11.6.txt")), {
    productName: "Mac OS X",
    productVersion: "10.11.6",
    buildVersion: "15G31",
  });
});

Deno.test("ifconfig: MAC and addresses per interface; scoped link-local IPv6 is not matched", () => {
  assert.deepEqual(parseIfconfig(darwinFixture("ifconfig-2020-wifi.txt")), [
    { name: "lo0", ipv4Addresses: ["127.0.0.1"], ipv6Addresses: ["::1"] },
    {
      name: "en0",
      ipv4Addresses: ["192.168.3.227"],
      ipv6Addresses: [],
      macAddress: "8c:85:90:90:6d:26",
    },
  ]);
  const global = parseIfconfig(darwinFixture("ifconfig-ipv6-global.txt"));
  assert.deepEqual(global.find((i) => i.name === "en0"), {
    name: "en0",
    ipv4Addresses: ["10.0.0.19"],
    ipv6Addresses: [
      "2601:184:100:16f0:c44b:ffbf:34a7:8382",
      "2601:184:100:16f0:a65e:60ff:fef1:7d8d",
    ],
    macAddress: "a4:5e:60:f1:7d:8d",
  });
  assert.deepEqual(global.map((i) => i.name), ["lo0", "en0", "en1", "en2", "p2p0"]);
});

Deno.test("ifconfig: FireWire's lladdr is no MAC; ifconfig -v's extra lines are ignored", () => {
  const sierra = parseIfconfig(darwinFixture("ifconfig-10.12-sierra.txt"));
  assert.equal(sierra.find((i) => i.name === "fw0"), undefined);
  assert.deepEqual(sierra.find((i) => i.name === "en1")?.ipv4Addresses, ["192.168.89.134"]);
  assert.deepEqual(parseIfconfig(darwinFixture("ifconfig-v-recent.txt")), [{
    name: "en0",
    ipv4Addresses: ["192.168.18.201"],
    ipv6Addresses: [],
    macAddress: "8e:1b:06:52:66:72",
  }]);
});
