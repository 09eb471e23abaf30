/**
 * statfs and st_dev answers for the mount points of `tests/fixtures/procfs/x86/mounts`, so that the
 * real filesystem lister runs on that fixture without touching the machine's disks.
 *
 * @module
 */
import type { StatFsLike } from "../../src/host/filesystems.ts";

/** A statfs answer in 4 KiB blocks. */
export const block4k = (blocks: number, bfree: number, bavail: number): StatFsLike => ({
  bsize: 4096,
  blocks,
  bfree,
  bavail,
});

/** statfs answers for the x86 fixture's mount points; /mnt/stuck has none (see `fakeStatfs`). */
export const X86_STATFS: Readonly<Record<string, StatFsLike>> = {
  "/dev": block4k(1007500, 1007500, 1007500),
  "/run": block4k(203086, 202836, 202836),
  "/": block4k(5000000, 1500000, 1250000),
  "/sys/kernel/security": block4k(0, 0, 0),
  "/sys/fs/cgroup": block4k(0, 0, 0),
  "/dev/shm": block4k(16384, 16000, 16000),
  // 512-byte fragments: odd counts show df's rounding up to whole KiB.
  "/var/lib/my data": {
    bsize: 4096,
    frsize: 512,
    blocks: 2000001,
    bfree: 1000001,
    bavail: 1000001,
  },
  "/srv": block4k(1000, 500, 450),
  "/data": block4k(200, 150, 150),
  "/var/lib/docker/containers": block4k(5000000, 1500000, 1250000),
  "/var/lib/docker/devicemapper/mnt/abcdef": block4k(10, 5, 5),
  "/var/lib/docker/devicemapper/mnt/0123": block4k(10, 5, 5),
  "/backup": block4k(300, 0, 0),
  "/snap/core/123": block4k(50, 0, 0),
};

/**
 * A fake statfs over `table`, recording each path asked; a path missing from the table rejects as
 * ENOENT, and a path listed in `stuck` never answers.
 */
export function fakeStatfs(
  table: Readonly<Record<string, StatFsLike>>,
  stuck: readonly string[] = [],
): { statfs: (path: string) => Promise<StatFsLike>; calls: string[] } {
  const calls: string[] = [];
  const statfs = (path: string): Promise<StatFsLike> => {
    calls.push(path);
    if (stuck.includes(path)) return new Promise<StatFsLike>(() => {});
    const stats = table[path];
    return stats ? Promise.resolve(stats) : Promise.reject(new Error(`ENOENT: statfs '${path}'`));
  };
  return { statfs, calls };
}

/** st_dev per mount point: the docker bind mount shares the root's device, the rest are distinct. */
const devIds = new Map<string, number>([["/var/lib/docker/containers", 2049], ["/", 2049]]);

/** The st_dev of an x86 fixture mount point, as `listFilesystems`'s `deviceOf` wants it. */
export const x86DeviceOf = (path: string): Promise<number> => {
  if (!devIds.has(path)) devIds.set(path, 3000 + devIds.size);
  return Promise.resolve(devIds.get(path)!);
};
