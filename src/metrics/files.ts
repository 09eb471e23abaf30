/**
 * File descriptors of the whole system (`[collectors] files`), from `<procfs>/sys/fs/file-nr`:
 *
 * - `custom.files.used`: allocated file handles less the free ones (the kernel has reported 0 free
 *   since 2.6, so in practice the allocated ones);
 * - `custom.files.limit.max`: `fs.file-max`, in its own graph: systemd >= 240 raises it to 2^63-1,
 *   which would flatten any line drawn beside it.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition } from "./collector.ts";
import { inGraph } from "./metric_declaration.ts";

/** The three numbers of `file-nr`. */
export interface FileNr {
  readonly allocated: number;
  readonly free: number;
  readonly max: number;
}

/**
 * Parses `file-nr` (`1184\t0\t9223372036854775807`), or returns `undefined` when it is not three
 * decimal numbers. The maximum may exceed 2^53 and is then the nearest double, as JSON carries it.
 */
export function parseFileNr(text: string): FileNr | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 3 || !fields.every((f) => /^\d+$/.test(f))) return undefined;
  const [allocated, free, max] = fields.map(Number);
  return { allocated, free, max };
}

/** Options of {@linkcode createFilesCollector}. */
export interface FilesCollectorOptions {
  readonly source: Source;
}

/** Creates the `files` collector. */
export function createFilesCollector({ source }: FilesCollectorOptions): Collector {
  return {
    name: "files",
    async collect() {
      const nr = parseFileNr(await source.readProc("sys/fs/file-nr"));
      if (nr === undefined) {
        throw new Error(`unexpected format of ${source.procPath("sys/fs/file-nr")}`);
      }
      return [
        { name: "custom.files.used", value: Math.max(0, nr.allocated - nr.free) },
        { name: "custom.files.limit.max", value: nr.max },
      ];
    },
  };
}

/** The registry's line: off unless `[collectors] files = true`. Descriptors in use; the limit apart. */
export const FILES_COLLECTOR: CollectorDefinition = {
  name: "files",
  os: ["linux"],
  optIn: "files",
  metrics: [
    ...inGraph("File Descriptors", [{
      name: "custom.files.used",
      unit: "integer",
      description: "File handles allocated, less the free ones (file-nr).",
    }]),
    ...inGraph("File Descriptor Limit", [{
      name: "custom.files.limit.max",
      unit: "integer",
      label: "fs.file-max",
      description: "The system's maximum of file handles (fs.file-max).",
    }]),
  ],
  sources: (source) => [source.procPath("sys/fs/file-nr")],
  create: ({ source }) => createFilesCollector({ source }),
};
