/**
 * The filesystems of a macOS host, from `df -Pkl` as upstream runs it every minute: for the
 * `filesystem.*` metrics and for the host's `filesystem` part.
 *
 * @module
 */
import { DF } from "../platform/darwin/commands.ts";
import type { Platform } from "../platform/platform.ts";
import type { FilesystemUsage } from "./filesystems.ts";

/** df's header line: `Filesystem 1024-blocks ...` (or `1K-blocks`), never a filesystem. */
const HEADER = /^Filesystem\s+(?:1024|1[Kk])-block/;

/**
 * One filesystem line: the name is the shortest text before four numbers and a percentage, the
 * mount point all after it (both may hold spaces: `map auto_home`, `/Volumes/NO NAME`).
 */
const LINE = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s+(.+)$/;

/** Parses `df -Pk` output as upstream does, without its platform rules; see {@linkcode parseDarwinDf}. */
export function parseDfLines(
  text: string,
  warn: (message: string) => void = () => {},
): FilesystemUsage[] {
  const filesystems: FilesystemUsage[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || HEADER.test(line)) continue;
    const match = LINE.exec(line);
    if (!match) {
      warn(`failed to parse line: [${line}]`);
      continue;
    }
    const [, name, blocks, used, available, capacity, mount] = match;
    filesystems.push({
      name,
      mount,
      type: "",
      kbSize: Number(blocks),
      kbUsed: Number(used),
      kbAvailable: Number(available),
      percentUsed: Number(capacity),
    });
  }
  return filesystems;
}

/**
 * Parses `df -Pkl` output with upstream's rules for macOS: docker's devicemapper devices are
 * dropped, so are volumes mounted under `/Volumes/` (removable and network media come and go),
 * and APFS's VM volume at `/private/var/vm` (macOS 10.13-10.14) is not listed but its use is added
 * to the root filesystem's, where it takes its space from.
 */
export function parseDarwinDf(
  text: string,
  warn?: (message: string) => void,
): FilesystemUsage[] {
  const kept: FilesystemUsage[] = [];
  for (const fs of parseDfLines(text, warn)) {
    if (fs.name.startsWith("/dev/mapper/docker-")) continue;
    if (fs.name.startsWith("/dev/dm-") && fs.mount.includes("devicemapper/mnt")) continue;
    if (fs.mount.startsWith("/Volumes/")) continue;
    if (fs.mount === "/private/var/vm") {
      // Only a root listed before it gets the VM volume's use, as upstream's single pass does.
      const root = kept.findIndex((k) => k.mount === "/");
      if (root >= 0) kept[root] = { ...kept[root], kbUsed: kept[root].kbUsed + fs.kbUsed };
      continue;
    }
    kept.push(fs);
  }
  return kept;
}

/** Runs `df -Pkl` once and parses it. */
export async function listDarwinFilesystems(
  platform: Pick<Platform, "run">,
  signal?: AbortSignal,
  warn?: (message: string) => void,
): Promise<FilesystemUsage[]> {
  return parseDarwinDf(await platform.run(DF, ["-Pkl"], { signal }), warn);
}
