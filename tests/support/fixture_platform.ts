/**
 * A {@linkcode Platform} of fixtures: commands answer from texts, libraries are objects of fake
 * symbols (called exactly as Deno FFI would call the real ones: typed arrays for buffers, pointer
 * objects for handles), built-ins are injected, and any source can be denied to test the fallbacks.
 *
 * @module
 */
import type {
  Builtins,
  OperatingSystem,
  Platform,
  Probe,
  SourceRef,
} from "../../src/platform/platform.ts";

/** Options of {@linkcode fixturePlatform}. */
export interface FixturePlatformOptions {
  readonly os: OperatingSystem;
  /** Output by command line (`/bin/df -Pkl`); a function is asked at each run. */
  readonly commands?: Readonly<Record<string, string | (() => string)>>;
  /** Fake symbols by library name. */
  readonly libraries?: Readonly<Record<string, object>>;
  readonly builtins?: Partial<Builtins>;
  /** Sources the probe refuses: a command path, a library name or a `sys` kind. */
  readonly denied?: readonly string[];
}

/** The fixture platform, and the command lines it ran. */
export interface FixturePlatform extends Platform {
  readonly ran: string[];
}

function nameOf(ref: SourceRef): string {
  return "command" in ref ? ref.command : "library" in ref ? ref.library : ref.sys;
}

/** Creates a platform answering from fixtures. */
export function fixturePlatform(options: FixturePlatformOptions): FixturePlatform {
  const ran: string[] = [];
  const missing = (what: string) => () => {
    throw new Error(`no fixture for ${what}`);
  };
  return {
    os: options.os,
    ran,
    run: (command, args) => {
      const line = [command, ...args].join(" ");
      ran.push(line);
      const answer = options.commands?.[line];
      if (answer === undefined) return Promise.reject(new Error(`${line}: no fixture`));
      try {
        return Promise.resolve(typeof answer === "string" ? answer : answer());
      } catch (error) {
        return Promise.reject(error);
      }
    },
    open: ((library: string) => {
      const symbols = options.libraries?.[library];
      if (symbols === undefined) throw new Error(`cannot load ${library}: no fixture`);
      return symbols;
    }) as Platform["open"],
    builtins: {
      cpuTimes: options.builtins?.cpuTimes ?? missing("cpus()"),
      loadavg: options.builtins?.loadavg ?? missing("loadavg()"),
      systemMemoryInfo: options.builtins?.systemMemoryInfo ?? missing("systemMemoryInfo()"),
      networkInterfaces: options.builtins?.networkInterfaces ?? missing("networkInterfaces()"),
    },
    probe: (ref): Promise<Probe> => {
      const name = nameOf(ref);
      return Promise.resolve(
        options.denied?.includes(name)
          ? { kind: "denied", reason: `the fixture denies ${name}` }
          : { kind: "ok" },
      );
    },
  };
}

/** The address of a typed array's memory, as FFI passes it. */
export function addressOf(buffer: ArrayBufferView): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

/** The number a fake symbol gets as a handle. */
export function handleValue(pointer: Deno.PointerValue): bigint {
  return BigInt(Deno.UnsafePointer.value(pointer));
}

/** A NUL-terminated UTF-16 argument as a string. */
export function wideArgument(buffer: ArrayBufferView | null): string {
  if (buffer === null) return "";
  const units = buffer instanceof Uint16Array
    ? buffer
    : new Uint16Array(buffer.buffer, buffer.byteOffset, buffer.byteLength >> 1);
  const end = units.indexOf(0);
  return String.fromCharCode(...(end < 0 ? units : units.subarray(0, end)));
}
