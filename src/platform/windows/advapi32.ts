/**
 * Registry values through advapi32's `RegGetValueW` (Deno FFI), for the Windows kernel and cpu
 * parts of the host description, as upstream reads the processors' names and speeds.
 *
 * @module
 */
import type { Platform } from "../platform.ts";
import { fromWide, wide } from "./utf16.ts";

/** advapi32.dll. */
export const ADVAPI32 = "advapi32.dll";

/** The symbols used, with their C signatures. */
export const ADVAPI32_SYMBOLS = {
  /**
   * `LSTATUS RegGetValueW(HKEY, LPCWSTR subKey, LPCWSTR value, DWORD flags, LPDWORD type,
   * PVOID data, LPDWORD dataSize)`.
   */
  RegGetValueW: {
    parameters: ["pointer", "buffer", "buffer", "u32", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const;

/** The advapi32 symbols as {@linkcode ADVAPI32_SYMBOLS} describes them. */
export type Advapi32 = Deno.DynamicLibrary<typeof ADVAPI32_SYMBOLS>["symbols"];

/** `HKEY_LOCAL_MACHINE`: `(HKEY)(ULONG_PTR)(LONG)0x80000002`, sign-extended to 64 bits. */
const HKEY_LOCAL_MACHINE = 0xffffffff80000002n;
const RRF_RT_REG_SZ = 0x2;
const RRF_RT_REG_DWORD = 0x10;
const ERROR_MORE_DATA = 234;

/** Opens advapi32 through the platform (lazily). */
export function advapi32(platform: Pick<Platform, "open">): Advapi32 {
  return platform.open(ADVAPI32, ADVAPI32_SYMBOLS);
}

function hklm(): Deno.PointerValue {
  return Deno.UnsafePointer.create(HKEY_LOCAL_MACHINE);
}

/**
 * A `REG_SZ` value under `HKEY_LOCAL_MACHINE\<subKey>`.
 *
 * @throws {Error} naming the key and value with the error code when it cannot be read.
 */
export function registryString(lib: Advapi32, subKey: string, value: string): string {
  let size = new Uint32Array([512]);
  for (let attempt = 0; attempt < 3; attempt++) {
    const data = new Uint16Array(Math.ceil(size[0] / 2));
    const status = lib.RegGetValueW(
      hklm(),
      wide(subKey),
      wide(value),
      RRF_RT_REG_SZ,
      null,
      data,
      size,
    );
    if (status === 0) return fromWide(data);
    if (status !== ERROR_MORE_DATA) {
      throw new Error(`registry HKLM\\${subKey}\\${value}: error ${status}`);
    }
    size = new Uint32Array([size[0]]);
  }
  throw new Error(`registry HKLM\\${subKey}\\${value}: the value kept growing`);
}

/**
 * A `REG_DWORD` value under `HKEY_LOCAL_MACHINE\<subKey>`.
 *
 * @throws {Error} naming the key and value with the error code when it cannot be read.
 */
export function registryDword(lib: Advapi32, subKey: string, value: string): number {
  const data = new Uint32Array(1);
  const size = new Uint32Array([4]);
  const status = lib.RegGetValueW(
    hklm(),
    wide(subKey),
    wide(value),
    RRF_RT_REG_DWORD,
    null,
    data,
    size,
  );
  if (status !== 0) throw new Error(`registry HKLM\\${subKey}\\${value}: error ${status}`);
  return data[0];
}
