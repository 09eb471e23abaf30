import assert from "node:assert/strict";
import {
  adapterKeys,
  descriptionOfInstance,
  normalizeAdapterName,
} from "../../../src/platform/windows/interface_names.ts";
import {
  decodeIfRow,
  decodeIfTable,
  MIB_IF_TABLE2_ROWS,
} from "../../../src/platform/windows/iphlpapi.ts";
import { decodeMemoryStatus, decodeSystemInfo } from "../../../src/platform/windows/kernel32.ts";
import { decodeCounterArray, decodeCounterValue } from "../../../src/platform/windows/pdh.ts";
import { driveKiB, driveLetters } from "../../../src/platform/windows/drives.ts";
import { fromWide, fromWideList, wide, wideAt } from "../../../src/platform/windows/utf16.ts";
import { windowsCaption } from "../../../src/host/description/windows.ts";
import { addressOf } from "../../support/fixture_platform.ts";
import {
  counterArraySize,
  encodeCounterArray,
  encodeIfTable,
  encodeMemoryStatus,
  encodeSystemInfo,
} from "../../support/windows_buffers.ts";

const GiB = 1024 ** 3;

Deno.test("MEMORYSTATUSEX: the sizes after dwLength and dwMemoryLoad, past 4 GiB exactly", () => {
  const status = {
    memoryLoad: 42,
    totalPhys: 17_054_007_296,
    availPhys: 9_876_543_488,
    totalPageFile: 19_604_144_128,
    availPageFile: 8 * GiB + 12_345,
    totalVirtual: 140_737_488_224_256,
    availVirtual: 140_733_193_388_032,
  };
  assert.deepEqual(decodeMemoryStatus(encodeMemoryStatus(status)), status);
  assert.throws(() => decodeMemoryStatus(new Uint8Array(56)), RangeError);
});

Deno.test("SYSTEM_INFO: architecture and processor count around the pointers", () => {
  const info = decodeSystemInfo(
    encodeSystemInfo({ processorArchitecture: 9, numberOfProcessors: 16 }),
  );
  assert.equal(info.processorArchitecture, 9);
  assert.equal(info.numberOfProcessors, 16);
  assert.equal(info.pageSize, 4096);
  assert.equal(info.processorLevel, 6);
  assert.throws(() => decodeSystemInfo(new Uint8Array(40)), RangeError);
});

Deno.test("PDH_FMT_COUNTERVALUE: the status, four bytes of padding, then the double", () => {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0, true);
  view.setUint32(4, 0xffffffff, true);
  view.setFloat64(8, 12.5, true);
  assert.deepEqual(decodeCounterValue(bytes), { status: 0, value: 12.5 });
});

Deno.test("PDH_FMT_COUNTERVALUE_ITEM_W: names found through pointers into the same buffer", () => {
  const items = [
    { name: "C:", status: 0, value: 3.25 },
    { name: "HarddiskVolume1", status: 0, value: 0 },
    { name: "_Total", status: 0xc0000bba, value: 7 },
  ];
  const bytes = new Uint8Array(counterArraySize(items));
  encodeCounterArray(bytes, items);
  assert.deepEqual(decodeCounterArray(bytes, items.length, addressOf(bytes)), items);
  // A name pointing outside the buffer is refused rather than read.
  assert.throws(() => decodeCounterArray(bytes, 3, addressOf(bytes) + 1_000_000n), RangeError);
  assert.throws(() => decodeCounterArray(bytes, 40, addressOf(bytes)), RangeError);
});

Deno.test("MIB_IF_TABLE2: alias, description, MAC, type and octets of each row", () => {
  const table = encodeIfTable([
    {
      index: 6,
      alias: "Ethernet",
      description: "Intel(R) 82574L Gigabit Network Connection",
      mac: [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03],
      type: 6,
      inOctets: 5 * GiB + 7,
      outOctets: 123,
    },
    {
      index: 1,
      alias: "Loopback Pseudo-Interface 1",
      description: "Software Loopback Interface 1",
      mac: [],
      type: 24,
    },
    {
      index: 9,
      alias: "Ethernet-WFP Native MAC Layer LightWeight Filter-0000",
      description:
        "Intel(R) 82574L Gigabit Network Connection-WFP Native MAC Layer LightWeight Filter-0000",
      mac: [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03],
      type: 6,
      filter: true,
    },
  ]);
  const rows = decodeIfTable(table);
  assert.deepEqual(rows[0], {
    index: 6,
    alias: "Ethernet",
    description: "Intel(R) 82574L Gigabit Network Connection",
    mac: "00:15:5d:01:02:03",
    type: 6,
    filter: false,
    inOctets: 5 * GiB + 7,
    outOctets: 123,
  });
  assert.deepEqual([rows[1].type, rows[1].mac, rows[1].filter], [24, "", false]);
  assert.equal(rows[2].filter, true);
  assert.deepEqual(decodeIfRow(table, MIB_IF_TABLE2_ROWS), rows[0]);
  assert.throws(() => decodeIfTable(table.subarray(0, 2000)), RangeError);
});

Deno.test("UTF-16: strings and the drive list of GetLogicalDriveStringsW", () => {
  assert.deepEqual([...wide("C:")], [0x43, 0x3a, 0]);
  assert.equal(fromWide(wide("Ethernet 2")), "Ethernet 2");
  const list = wide("C:\\\0D:\\\0\0");
  assert.deepEqual(fromWideList(list), ["C:\\", "D:\\"]);
  assert.deepEqual(driveLetters(fromWideList(list)), ["C", "D"]);
  assert.deepEqual(driveLetters(["c:\\", "\\\\?\\Volume{x}\\"]), []);
  const bytes = new Uint8Array(wide("caf\u00e9").buffer);
  assert.equal(wideAt(bytes, 0, 10), "caf\u00e9");
});

Deno.test("drives: upstream's whole KiB and integer percentage", () => {
  assert.deepEqual(driveKiB({ totalBytes: 127_381_843_968, availableBytes: 98_765_432_123 }), {
    kbSize: 124_396_332,
    kbUsed: 27_945_714,
    kbAvailable: 96_450_617,
    percentUsed: 22,
  });
});

Deno.test("adapter names: upstream's normalization, and a _ for each name already taken", () => {
  assert.equal(
    normalizeAdapterName("Intel(R) 82574L Gigabit Network Connection #2"),
    "Intel_R__82574L_Gigabit_Network_Connection__2",
  );
  const keys = adapterKeys(["A[1]", "A(1)", "Microsoft Hyper-V Network Adapter"]);
  assert.deepEqual([...keys], [
    ["A(1)", "A_1_"],
    ["A[1]", "A_1__"],
    ["Microsoft Hyper-V Network Adapter", "Microsoft_Hyper-V_Network_Adapter"],
  ]);
  assert.equal(descriptionOfInstance("Intel[R] 82574L"), "Intel(R) 82574L");
});

Deno.test("kernel caption: WMI's wording, Windows 11 told apart by its build", () => {
  assert.equal(
    windowsCaption("Windows Server 2022 Datacenter", 20348),
    "Microsoft Windows Server 2022 Datacenter",
  );
  assert.equal(windowsCaption("Windows 10 Pro", 22631), "Microsoft Windows 11 Pro");
  assert.equal(windowsCaption("Windows 10 Enterprise", 19045), "Microsoft Windows 10 Enterprise");
});
