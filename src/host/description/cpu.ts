/**
 * The `meta.cpu` part: one entry per logical processor of `/proc/cpuinfo`, as gopsutil's
 * `cpu.Info()` reads it and mackerel-agent renders it (every value a string).
 *
 * @module
 */
import type { CpuSpec } from "../../mackerel/types.ts";
import { describeReadError, type Source } from "../source.ts";

/** gopsutil's names for arm64 `CPU implementer` codes. */
const ARM_IMPLEMENTERS: ReadonlyMap<number, string> = new Map([
  [0x41, "ARM"],
  [0x42, "Broadcom"],
  [0x43, "Cavium"],
  [0x44, "DEC"],
  [0x46, "Fujitsu"],
  [0x48, "HiSilicon"],
  [0x49, "Infineon"],
  [0x4d, "Motorola/Freescale"],
  [0x4e, "NVIDIA"],
  [0x50, "APM"],
  [0x51, "Qualcomm"],
  [0x56, "Marvell"],
  [0x61, "Apple"],
  [0x69, "Intel"],
  [0xc0, "Ampere"],
]);

/**
 * gopsutil's names for `CPU part` codes of ARM Ltd. cores, with the newer ones (Neoverse-V2 of
 * Graviton4 ...) that gopsutil PR #1902 adds.
 */
const ARM_PART_NAMES: ReadonlyMap<number, string> = new Map(
  `
  810=ARM810 920=ARM920 922=ARM922 926=ARM926 940=ARM940 946=ARM946 966=ARM966 a20=ARM1020
  a22=ARM1022 a26=ARM1026 b02=ARM11_MPCore b36=ARM1136 b56=ARM1156 b76=ARM1176 c05=Cortex-A5
  c07=Cortex-A7 c08=Cortex-A8 c09=Cortex-A9 c0d=Cortex-A17 c0f=Cortex-A15 c0e=Cortex-A17
  c14=Cortex-R4 c15=Cortex-R5 c17=Cortex-R7 c18=Cortex-R8 c20=Cortex-M0 c21=Cortex-M1
  c23=Cortex-M3 c24=Cortex-M4 c27=Cortex-M7 c60=Cortex-M0+ d01=Cortex-A32 d02=Cortex-A34
  d03=Cortex-A53 d04=Cortex-A35 d05=Cortex-A55 d06=Cortex-A65 d07=Cortex-A57 d08=Cortex-A72
  d09=Cortex-A73 d0a=Cortex-A75 d0b=Cortex-A76 d0c=Neoverse-N1 d0d=Cortex-A77 d0e=Cortex-A76AE
  d13=Cortex-R52 d20=Cortex-M23 d21=Cortex-M33 d40=Neoverse-V1 d41=Cortex-A78 d42=Cortex-A78AE
  d43=Cortex-A65AE d44=Cortex-X1 d46=Cortex-A510 d47=Cortex-A710 d48=Cortex-X2 d49=Neoverse-N2
  d4a=Neoverse-E1 d4b=Cortex-A78C d4c=Cortex-X1C d4d=Cortex-A715 d4e=Cortex-X3 d4f=Neoverse-V2
  d81=Cortex-A720 d82=Cortex-X4 d84=Neoverse-V3 d85=Cortex-X925 d87=Cortex-A725 d8e=Neoverse-N3
`.trim().split(/\s+/).map((pair) => {
    const [hex, name] = pair.split("=");
    return [parseInt(hex, 16), name.replaceAll("_", " ")];
  }),
);

/** What sysfs says about one logical CPU (`/sys/devices/system/cpu/cpu<N>/...`), as raw text. */
export interface CpuSysfs {
  /** `topology/core_id`. */
  readonly coreId?: string;
  /** `cpufreq/cpuinfo_max_freq`, in kHz. */
  readonly maxFreq?: string;
}

/** Options of {@linkcode parseCpuinfo}. */
export interface ParseCpuinfoOptions {
  /** Sysfs facts by CPU number; absent CPUs keep what `/proc/cpuinfo` says. */
  readonly sysfs?: ReadonlyMap<number, CpuSysfs>;
}

/** One processor block while it is being read. */
interface Block {
  cpu: number;
  vendorId: string;
  model: string;
  modelName: string;
  family: string;
  stepping: number;
  physicalId: string;
  coreId: string;
  cacheSize: number;
  mhz: number;
}

/**
 * Parses `/proc/cpuinfo` text into cpu specs, with gopsutil's semantics.
 *
 * A block starts at each `processor` line. arm64 kernels name the vendor by `CPU implementer` and
 * the model by `CPU part`, which gopsutil turns into names (`0x41` -> `ARM`, `0xd0c` ->
 * `Neoverse-N1`); `CPU revision` is the stepping. `cores` is always `"1"` because each block is one
 * hardware thread. The sysfs maximum frequency, when known, wins over `cpu MHz` (the current one).
 * Throws, naming the line, where gopsutil fails: a non-integer `processor`, `stepping` or
 * `cache size`.
 */
export function parseCpuinfo(text: string, options: ParseCpuinfoOptions = {}): CpuSpec[] {
  const specs: CpuSpec[] = [];
  let processorName = "";
  let block: Block | undefined;
  const finish = () => {
    if (block) specs.push(render(block, options.sysfs?.get(block.cpu)));
  };
  text.split("\n").forEach((line, index) => {
    const colon = line.indexOf(":");
    if (colon < 0) return;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const where = () => `/proc/cpuinfo line ${index + 1}: ${JSON.stringify(line)}`;
    if (key === "Processor") {
      // Old 32-bit ARM kernels name the processor once, before the per-CPU blocks.
      processorName = value;
      return;
    }
    if (key === "processor" || key === "cpu number") {
      finish();
      block = emptyBlock(parseInteger(value, where), processorName);
      return;
    }
    if (!block) return;
    applyField(block, key, value, where);
  });
  finish();
  return specs;
}

function emptyBlock(cpu: number, modelName: string): Block {
  return {
    cpu,
    vendorId: "",
    model: "",
    modelName,
    family: "",
    stepping: 0,
    physicalId: "",
    coreId: "",
    cacheSize: 0,
    mhz: 0,
  };
}

function applyField(block: Block, key: string, value: string, where: () => string): void {
  switch (key) {
    case "vendorId":
    case "vendor_id":
      block.vendorId = value;
      break;
    case "CPU implementer": {
      const code = parseUnsigned(value, 0xff);
      const vendor = code === undefined ? undefined : ARM_IMPLEMENTERS.get(code);
      if (vendor !== undefined) block.vendorId = vendor;
      break;
    }
    case "cpu family":
      block.family = value;
      break;
    case "model":
    case "CPU part": {
      block.model = value;
      const part = block.vendorId === "ARM" ? parseUnsigned(value, 0xffff) : undefined;
      if (part !== undefined) block.modelName = ARM_PART_NAMES.get(part) ?? "Undefined";
      break;
    }
    case "Model Name":
    case "model name":
    case "cpu":
      block.modelName = value;
      if (value.includes("POWER")) {
        block.model = value.split(" ")[0];
        block.family = "POWER";
        block.vendorId = "IBM";
      }
      break;
    case "stepping":
    case "revision":
    case "CPU revision":
      block.stepping = parseInteger(key === "revision" ? value.split(".")[0] : value, where);
      break;
    case "cpu MHz":
    case "clock":
    case "cpu MHz dynamic": {
      // Only a fallback for the sysfs maximum, so a value that does not parse is ignored.
      const mhz = parseDecimal(value.replace("MHz", ""));
      if (mhz !== undefined) block.mhz = mhz;
      break;
    }
    case "cache size":
      block.cacheSize = parseInteger(value.replace(" KB", ""), where);
      break;
    case "physical id":
      block.physicalId = value;
      break;
    case "core id":
      block.coreId = value;
      break;
  }
}

function render(block: Block, sysfs: CpuSysfs | undefined): CpuSpec {
  const coreId = block.coreId !== "" ? block.coreId : firstLine(sysfs?.coreId) ?? "";
  let mhz = block.mhz;
  const maxFreq = parseDecimal(firstLine(sysfs?.maxFreq) ?? "");
  if (maxFreq !== undefined) {
    mhz = maxFreq / 1000; // kHz
    if (mhz > 9999) mhz /= 1000; // some drivers report Hz
  }
  return {
    vendor_id: block.vendorId,
    model: block.model,
    stepping: String(block.stepping),
    physical_id: block.physicalId,
    core_id: coreId,
    cache_size: `${block.cacheSize} KB`,
    model_name: block.modelName,
    family: block.family,
    cores: "1",
    mhz: formatFloat(mhz),
  };
}

/**
 * Collects the cpu specs from `<procfs>/cpuinfo` and `<sysfs>/devices/system/cpu/cpu<N>`.
 *
 * Rejects when cpuinfo cannot be read or parsed; sysfs facts that cannot be read are skipped, as
 * gopsutil skips them.
 */
export async function collectCpu(source: Source): Promise<CpuSpec[]> {
  const path = source.procPath("cpuinfo");
  const [text, sysfs] = await Promise.all([
    source.readProc("cpuinfo").catch((error) => {
      throw new Error(describeReadError(path, error), { cause: error });
    }),
    readCpuSysfs(source),
  ]);
  return parseCpuinfo(text, { sysfs });
}

async function readCpuSysfs(source: Source): Promise<Map<number, CpuSysfs>> {
  const facts = new Map<number, CpuSysfs>();
  let names: string[];
  try {
    names = await source.listSys("devices/system/cpu");
  } catch {
    return facts;
  }
  const optional = (rel: string) => source.readSys(rel).catch(() => undefined);
  await Promise.all(names.map(async (name) => {
    const match = /^cpu(\d+)$/.exec(name);
    if (!match) return;
    const dir = `devices/system/cpu/${name}`;
    const [coreId, maxFreq] = await Promise.all([
      optional(`${dir}/topology/core_id`),
      optional(`${dir}/cpufreq/cpuinfo_max_freq`),
    ]);
    facts.set(Number(match[1]), { coreId, maxFreq });
  }));
  return facts;
}

/** The first line of a sysfs file without its newline, as Go's `ReadLines(...)[0]`. */
function firstLine(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.split("\n")[0].trim();
}

function parseInteger(text: string, where: () => string): number {
  if (!/^[+-]?\d+$/.test(text)) {
    throw new Error(`${where()}: ${JSON.stringify(text)} is no integer`);
  }
  return Number(text);
}

/** An unsigned integer up to `max` with Go's base prefixes (`0x41`, `0o17`, `017`, `65`). */
function parseUnsigned(text: string, max: number): number | undefined {
  if (!/^(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9]\d*|0)$/.test(text)) return undefined;
  const value = /^0[0-7]/.test(text) ? parseInt(text, 8) : Number(text.replace(/^0[oO]/, "0o"));
  return value <= max ? value : undefined;
}

function parseDecimal(text: string): number | undefined {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : undefined;
}

/** Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest decimal that round-trips, no exponent. */
export function formatFloat(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, lead, rest = "", exp] = match;
  const digits = lead + rest;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  return `${sign}${digits.padEnd(point, "0")}`;
}
