/**
 * Local filesystems and their usage, as `df -Pkl` lists them, without spawning df.
 *
 * Upstream runs `df -Pkl` every minute for the filesystem metrics, the disk collector's
 * `use_mountpoint` renaming and the host spec (docs/upstream.md, "Filesystems", "Host spec parts").
 * We read the mount table and call statfs per mount point instead, applying df's own rules: remote
 * and dummy filesystems are left out (`-l`, no `-a`), filesystems with no blocks are hidden, bind
 * mounts of one device are folded into the entry nearest the root, sizes are KiB rounded up. statfs
 * can hang forever on a dead mount (docs/architecture.md, "Known traps"): it is asked synchronously
 * only of a filesystem that answers from the kernel's memory and lies behind no mount that could
 * hang its path, and every other mount is asked asynchronously under a deadline of its own.
 *
 * Watching a host from a container (`-rootfs`), the mount points are the host's and statfs looks at
 * them under the rootfs; see {@linkcode hostMounts} for which mount table says what the host has.
 *
 * @module
 */
import {
  openStatfsSync,
  statfs as libcStatfs,
  StatfsUnavailable,
} from "../platform/linux/statfs.ts";
import { DeadlineError, withDeadline } from "../async/abort.ts";
import { errorMessage, logger } from "../log.ts";
import { describeReadError, type Source, watchesFromOutside } from "./source.ts";

const log = logger("util.filesystem");

/** One filesystem as a `df -Pk` line shows it. */
export interface FilesystemUsage {
  /** Device as df shows it, e.g. `/dev/vda`, `tmpfs`, `overlay`. */
  readonly name: string;
  readonly mount: string;
  readonly type: string;
  readonly kbSize: number;
  readonly kbUsed: number;
  readonly kbAvailable: number;
  /** Integer percentage, rounded up like df's `Capacity` column. */
  readonly percentUsed: number;
  /** Inodes in total and free, when statfs reported them (`df -i`); the inodes collector's. */
  readonly inodes?: { readonly total: number; readonly free: number };
}

/** One line of `/proc/mounts`, with octal escapes decoded. */
export interface MountEntry {
  readonly device: string;
  readonly mount: string;
  readonly type: string;
  readonly options: string;
}

/** The statfs fields we use; `platform/linux/statfs.ts` returns a superset. */
export interface StatFsLike {
  readonly bsize: number;
  /** Fragment size, df's unit. */
  readonly frsize?: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  /** Inodes in total. */
  readonly files?: number;
  /** Inodes free. */
  readonly ffree?: number;
}

/** Options of {@linkcode listFilesystems}. */
export interface ListFilesystemsOptions {
  readonly source: Source;
  /** Deadline of each mount point's statfs, in milliseconds. */
  readonly timeoutMs?: number;
  /** statfs(2) of a path off the agent's thread; the C library's through FFI by default. */
  readonly statfs?: (path: string) => Promise<StatFsLike>;
  /**
   * statfs(2) on this thread, for the mounts {@linkcode answersFromMemory} trusts; the C library's
   * (`openStatfsSync`) by default, unless `statfs` is given alone: then every mount is asked through it.
   */
  readonly statfsSync?: (path: string) => StatFsLike;
  /** st_dev of a path, to fold bind mounts as df does; `Deno.stat` by default. */
  readonly deviceOf?: (path: string) => Promise<number>;
}

/** Default deadline of one statfs call; upstream gives the whole `df` run 15 s. */
export const DEFAULT_STATFS_TIMEOUT_MS = 5000;

// df -l: gnulib's ME_REMOTE types, plus network filesystems whose device names may lack a colon.
// deno-fmt-ignore
const REMOTE_TYPES: ReadonlySet<string> = new Set([
  "nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "fuse.sshfs", "ceph", "fuse.ceph", "glusterfs",
  "fuse.glusterfs", "9p", "afs", "auristorfs", "coda", "acfs", "fhgfs", "beegfs", "gpfs", "ibrix",
  "lustre", "ocfs2", "vxfs", "davfs", "fuse.davfs2", "fuse.rclone", "fuse.s3fs",
]);

// df without -a: gnulib's ME_DUMMY types. Never statfs them: autofs would trigger a mount.
// deno-fmt-ignore
const DUMMY_TYPES: ReadonlySet<string> = new Set([
  "autofs", "proc", "subfs", "debugfs", "devpts", "fusectl", "fuse.portal", "mqueue", "rpc_pipefs",
  "sysfs", "devfs", "kernfs", "ignore", "rootfs",
]);

// Kernel filesystems whose statfs is simple_statfs, which always reports 0 blocks: df lists them
// only to hide them, so they are not asked (on a systemd host, a third of the mount table).
// deno-fmt-ignore
const NO_BLOCKS_TYPES: ReadonlySet<string> = new Set([
  "cgroup", "cgroup2", "securityfs", "pstore", "bpf", "tracefs", "configfs", "binfmt_misc", "nsfs",
  "selinuxfs", "ramfs",
]);

// Filesystems whose statfs the kernel answers from memory (counters in the superblock): no server,
// no daemon and no disk read stand behind it, barring project quotas (below). overlay answers with
// the filesystem of its upper (or first lower) directory, which must then be one of these too.
// deno-fmt-ignore
const MEMORY_STATFS_TYPES: ReadonlySet<string> = new Set([
  "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "devtmpfs", "hugetlbfs", "squashfs", "overlay",
]);

// ext4 and xfs read a project's quota (from disk) when the mount point's directory carries one.
const PROJECT_QUOTA_OPTION = /(^|,)(prjquota|pquota|pqnoenforce)(,|$)/;

/** Parses `/proc/mounts` text; lines with fewer than three fields are skipped. */
export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3) continue;
    entries.push({
      device: decodeOctalEscapes(fields[0]),
      mount: decodeOctalEscapes(fields[1]),
      type: fields[2],
      options: fields[3] ?? "",
    });
  }
  return entries;
}

/** The kernel writes space, tab, newline and backslash in mount paths as `\040`-style escapes. */
function decodeOctalEscapes(field: string): string {
  return field.replace(
    /\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
  );
}

/** True for what `df -l` leaves out: gnulib counts a device name with `:` (host:/path) as remote. */
function isRemote(entry: MountEntry): boolean {
  return entry.device.includes(":") || entry.device === "-" || REMOTE_TYPES.has(entry.type) ||
    (entry.device.startsWith("//") && /^(smbfs|smb3|cifs)$/.test(entry.type));
}

/** True for what df hides without `-a`; a `none` mount counts unless it is a bind mount. */
function isDummy(entry: MountEntry): boolean {
  return DUMMY_TYPES.has(entry.type) || (entry.type === "none" && !entry.options.includes("bind"));
}

/**
 * Upstream's post-df drop rules (docs/upstream.md, "Filesystems"): docker's devicemapper thin
 * devices.
 */
function isDockerDevicemapper(entry: { readonly name: string; readonly mount: string }): boolean {
  return entry.name.startsWith("/dev/mapper/docker-") ||
    (entry.name.startsWith("/dev/dm-") && entry.mount.includes("devicemapper/mnt"));
}

/**
 * Whether looking up `mount` may wait on a server or a daemon: a remote or FUSE filesystem (lookups
 * revalidate their names there) or an automount point.
 */
function mayHangLookups(entry: MountEntry): boolean {
  return isRemote(entry) || entry.type === "autofs" || entry.type === "fuse" ||
    entry.type === "fuseblk" || entry.type.startsWith("fuse.");
}

/** The entries of a mount table by mount point, each point's in the table's order. */
type MountIndex = ReadonlyMap<string, readonly MountEntry[]>;

function indexMounts(table: readonly MountEntry[]): MountIndex {
  const index = new Map<string, MountEntry[]>();
  for (const entry of table) {
    const at = index.get(entry.mount);
    if (at) at.push(entry);
    else index.set(entry.mount, [entry]);
  }
  return index;
}

/**
 * The entries whose mount point holds `path` (itself included), nearest the root first: found by
 * walking `path`'s ancestors, so a table of thousands of mounts costs its depth, not its length.
 */
function mountsHolding(index: MountIndex, path: string): MountEntry[] {
  const held = [...index.get("/") ?? []];
  for (let slash = path.indexOf("/", 1); slash !== -1; slash = path.indexOf("/", slash + 1)) {
    held.push(...index.get(path.slice(0, slash)) ?? []);
  }
  if (path !== "/") held.push(...index.get(path) ?? []);
  return held;
}

/** The directory an overlay answers statfs for: its upper one, else its first lower one. */
function overlayStatfsDir(options: string): string | undefined {
  const dirs = new Map<string, string>();
  for (const option of options.split(",")) {
    const eq = option.indexOf("=");
    if (eq > 0) dirs.set(option.slice(0, eq), option.slice(eq + 1));
  }
  const dir = dirs.get("upperdir") ?? dirs.get("lowerdir")?.split(":")[0];
  return dir?.startsWith("/") ? dir : undefined;
}

/**
 * Tells, over the whole mount table `table`, whether a statfs of an entry answers from the kernel's
 * memory and cannot hang: its type keeps its counters in memory, no project quota is read, and no
 * mount on its path (nor, for an overlay, on the path of the directory it answers for) may hang a
 * lookup. Only such mounts are asked on the agent's own thread: one call of a few microseconds,
 * where an asynchronous one costs a thread of the runtime's pool, two wake-ups and a deadline.
 * Watching from outside (`-rootfs`) nothing is trusted: the path from here crosses mounts the
 * table does not list.
 */
export function answersFromMemory(table: readonly MountEntry[]): (entry: MountEntry) => boolean {
  const index = indexMounts(table);
  const trusted = (entry: MountEntry): boolean => {
    if (!MEMORY_STATFS_TYPES.has(entry.type) || PROJECT_QUOTA_OPTION.test(entry.options)) {
      return false;
    }
    if (mountsHolding(index, entry.mount).some(mayHangLookups)) return false;
    if (entry.type !== "overlay") return true;
    const dir = overlayStatfsDir(entry.options);
    const under = dir === undefined ? undefined : mountsHolding(index, dir).at(-1);
    return under !== undefined && under.type !== "overlay" && trusted(under);
  };
  return trusted;
}

/** The last mount table's text and what it trusts: the table rarely changes between rounds. */
let lastTrust:
  | { readonly table: string; readonly trusted: (entry: MountEntry) => boolean }
  | undefined;

/** {@linkcode answersFromMemory} of the table `text` parses to, made again only when it changed. */
function trustOf(text: string, entries: readonly MountEntry[]): (entry: MountEntry) => boolean {
  if (lastTrust?.table !== text) lastTrust = { table: text, trusted: answersFromMemory(entries) };
  return lastTrust.trusted;
}

/** Lists local filesystems with their usage, as `df -Pkl` would after upstream's drop rules. */
export async function listFilesystems(options: ListFilesystemsOptions): Promise<FilesystemUsage[]> {
  const statfs = options.statfs ?? libcStatfs;
  const statfsSync = options.statfsSync ?? (options.statfs ? undefined : await openStatfsSync());
  const deviceOf = options.deviceOf ?? (async (path: string) => (await Deno.stat(path)).dev);
  const timeoutMs = options.timeoutMs ?? DEFAULT_STATFS_TIMEOUT_MS;

  const { source } = options;
  const table = await readMounts(source);
  const entries = parseMounts(table);
  // Overmounts are resolved first: statfs of a mount point answers for the mount on top.
  const candidates = lastPerMountPoint(
    hostMounts(entries, source)
      .filter((m) => !isRemote(m) && !isDummy(m)),
  ).filter((m) => !NO_BLOCKS_TYPES.has(m.type));
  const trusted = statfsSync === undefined || watchesFromOutside(source)
    ? () => false
    : trustOf(table, entries);
  const devices = knownDevices(options, table, deviceOf);
  const now = new Map<HostMount, Promise<Probed | undefined>>();
  for (const entry of candidates) {
    if (trusted(entry)) now.set(entry, askNow(entry, statfsSync!, devices));
  }
  const later = candidates.filter((entry) => !now.has(entry));
  const probed = await probeInTurn(later, { statfs, deviceOf: devices, timeoutMs });
  const asked = new Map(later.map((entry, i) => [entry, probed[i]]));
  // In the table's order, as df lists them.
  const shown = (await Promise.all(candidates.map((entry) => now.get(entry) ?? asked.get(entry))))
    .filter((p): p is Probed => p !== undefined);
  return foldSameDevice(shown).filter((usage) => !isDockerDevicemapper(usage));
}

/** The st_dev of each mount point found while the mount table read the same, by listing options. */
const devices = new WeakMap<object, { table: string; byPath: Map<string, number> }>();

/**
 * `deviceOf` answered from what earlier listings with these `options` found, as long as the mount
 * table is the same text: one stat per mount point per change of the table, not per round. st_dev
 * only tells which entries share a device, and a table that reads the same (same devices at the
 * same places) keeps that relation; any mount or unmount changes the text and asks again.
 */
function knownDevices(
  options: object,
  table: string,
  deviceOf: (path: string) => Promise<number>,
): (path: string) => Promise<number> {
  let known = devices.get(options);
  if (known?.table !== table) devices.set(options, known = { table, byPath: new Map() });
  const { byPath } = known;
  return async (path) => {
    const cached = byPath.get(path);
    if (cached !== undefined) return cached;
    const dev = await deviceOf(path);
    byPath.set(path, dev);
    return dev;
  };
}

/**
 * The mount table: `<procfs>/mounts`, which is the reading process's own. Watching from outside, the
 * table of pid 1 comes first: with the host's /proc (or `--pid=host`) that is the host's init, whose
 * table lists the host's mounts, while our own lists the container's.
 */
async function readMounts(source: Source): Promise<string> {
  const tables = watchesFromOutside(source)
    ? ["1/mounts", "mounts", "self/mounts"]
    : ["mounts", "self/mounts"];
  let first: unknown;
  for (const table of tables) {
    try {
      return await source.readProc(table);
    } catch (error) {
      first ??= error;
    }
  }
  throw new Error(describeReadError(source.procPath(tables[0]), first));
}

/** A mount entry named by its path on the host, with where statfs finds it from here. */
interface HostMount extends MountEntry {
  /** The mount point as this process sees it (`mount` under the rootfs when watching from outside). */
  readonly at: string;
}

/**
 * Names every entry by its path on the host. Watching from outside, a table that has mounts under
 * the rootfs is one of a namespace that sees the host's `/` there (our own, or pid 1's when that is
 * the container's init): only those entries are the host's, and the rootfs is cut off their paths.
 * A table with nothing under the rootfs is the host's own: its paths are looked up under the rootfs.
 */
function hostMounts(entries: readonly MountEntry[], source: Source): HostMount[] {
  if (!watchesFromOutside(source)) return entries.map((entry) => ({ ...entry, at: entry.mount }));
  const { rootfs } = source;
  const under = entries.filter((e) => e.mount === rootfs || e.mount.startsWith(`${rootfs}/`));
  if (under.length === 0) {
    return entries.map((entry) => ({ ...entry, at: source.rootPath(entry.mount) }));
  }
  return under.map((entry) => ({
    ...entry,
    mount: entry.mount.slice(rootfs.length) || "/",
    at: entry.mount,
  }));
}

/**
 * An overmounted entry is hidden by the later one on the same mount point, as statfs sees it; the
 * survivor keeps the first one's place in the list, as in df's output.
 */
function lastPerMountPoint(entries: readonly HostMount[]): HostMount[] {
  const byMount = new Map<string, HostMount>();
  for (const entry of entries) byMount.set(entry.mount, entry);
  return [...byMount.values()];
}

interface Probed {
  readonly usage: FilesystemUsage;
  /** st_dev, or undefined when stat failed (then the entry is never folded). */
  readonly dev: number | undefined;
}

/**
 * Measures a mount point that answers from memory, on this thread; `undefined` when it is hidden
 * or failed. Its st_dev comes from the listing's cache (a stat per change of the mount table).
 */
async function askNow(
  entry: HostMount,
  statfsSync: (path: string) => StatFsLike,
  deviceOf: (path: string) => Promise<number>,
): Promise<Probed | undefined> {
  let usage: FilesystemUsage | undefined;
  try {
    usage = toUsage(entry, statfsSync(entry.at));
  } catch (error) {
    skipFailed(entry, error);
    return undefined;
  }
  return usage && { usage, dev: await deviceOf(entry.at).catch(() => undefined) };
}

/** Whether the agent said that statfs cannot be called here (said once: it will not change). */
let saidUnavailable = false;

/**
 * Logs a mount skipped because its statfs failed: a mount that went away meanwhile is routine (a
 * DEBUG line), statfs that cannot be called at all is one WARNING for the agent's life.
 */
function skipFailed(entry: HostMount, error: unknown): void {
  if (error instanceof StatfsUnavailable) {
    if (!saidUnavailable) log.warn(`${error.message}; filesystems are not measured`);
    saidUnavailable = true;
    return;
  }
  const reason = errorMessage(error);
  log.debug(`statfs of ${entry.mount} (${entry.device}) failed; skipped: ${reason}`);
}

interface ProbeArgs {
  readonly entry: HostMount;
  readonly statfs: (path: string) => Promise<StatFsLike>;
  readonly deviceOf: (path: string) => Promise<number>;
  readonly timeoutMs: number;
}

/** statfs calls still running after their deadline, per statfs function, by mount point. */
const unanswered = new WeakMap<object, Map<string, Promise<unknown>>>();

const TIMED_OUT = Symbol("timed out");

/**
 * Measures the mount points one after another. Each statfs and stat is an asynchronous call, run
 * by the runtime on its blocking-thread pool, whose threads end after 10 s idle: at the real pace
 * every round finds the pool empty, and probing all mounts at once would start a thread per mount
 * (with its stack, and its exit 10 s later) every minute; in turn, one thread serves them all.
 * Once a mount does not answer within its deadline the rest are probed at once, as before, so a
 * hung mount holds the others back by one deadline at most.
 */
async function probeInTurn(
  entries: readonly HostMount[],
  args: Omit<ProbeArgs, "entry">,
): Promise<(Probed | undefined)[]> {
  const results: (Probed | undefined)[] = [];
  for (const [i, entry] of entries.entries()) {
    const result = await probe({ ...args, entry });
    if (result !== TIMED_OUT) {
      results.push(result);
      continue;
    }
    const rest = await Promise.all(entries.slice(i + 1).map((e) => probe({ ...args, entry: e })));
    return [...results, undefined, ...rest.map((r) => r === TIMED_OUT ? undefined : r)];
  }
  return results;
}

/**
 * Measures one mount point: `undefined` when it is hidden or failed, {@linkcode TIMED_OUT} when it
 * did not answer in time.
 */
async function probe(args: ProbeArgs): Promise<Probed | undefined | typeof TIMED_OUT> {
  const { entry, statfs, deviceOf, timeoutMs } = args;
  let pending = unanswered.get(statfs);
  if (!pending) unanswered.set(statfs, pending = new Map());
  // A hung statfs cannot be cancelled; asking again every minute would pile up blocked threads.
  if (pending.has(entry.at)) {
    log.debug(`statfs of ${entry.mount} (${entry.device}) still has not answered; skipped`);
    return undefined;
  }
  // st_dev only for what df shows: it folds bind mounts, and a hidden filesystem has nothing to fold.
  const attempt = statfs(entry.at).then(async (stats): Promise<Probed | undefined> => {
    const usage = toUsage(entry, stats);
    return usage && { usage, dev: await deviceOf(entry.at).catch(() => undefined) };
  });
  try {
    return await withDeadline(() => attempt, { ms: timeoutMs });
  } catch (error) {
    if (error instanceof DeadlineError) {
      pending.set(entry.at, attempt);
      const settle = () => pending.delete(entry.at);
      attempt.then(settle, settle);
      log.warn(
        `statfs of ${entry.mount} (${entry.device}, ${entry.type}) did not answer within ` +
          `${timeoutMs} ms; skipped until it does`,
      );
      return TIMED_OUT;
    }
    skipFailed(entry, error);
    return undefined;
  }
}

/** df's arithmetic: KiB rounded up, capacity = ceil(used × 100 / (used + available)) in blocks. */
function toUsage(entry: MountEntry, stats: StatFsLike): FilesystemUsage | undefined {
  const unit = stats.frsize || stats.bsize;
  // df hides filesystems without blocks (proc-like ones that are not on the dummy list).
  if (!(stats.blocks > 0) || !(unit > 0)) return undefined;
  const used = Math.max(0, stats.blocks - stats.bfree);
  const available = Math.max(0, stats.bavail);
  const total = used + available;
  // df prints "-" here, a line upstream's parser rejects; so the filesystem is not listed.
  if (total === 0) return undefined;
  const u100 = used * 100;
  const percentUsed = (u100 - (u100 % total)) / total + (u100 % total === 0 ? 0 : 1);
  const kb = (blocks: number) => Math.ceil((blocks * unit) / 1024);
  const usage: FilesystemUsage = {
    name: entry.device,
    mount: entry.mount,
    type: entry.type,
    kbSize: kb(stats.blocks),
    kbUsed: kb(used),
    kbAvailable: kb(available),
    percentUsed,
  };
  const { files, ffree } = stats;
  return typeof files === "number" && typeof ffree === "number"
    ? { ...usage, inodes: { total: files, free: ffree } }
    : usage;
}

/**
 * Keeps one entry per st_dev, as df does: a device name with `/` beats one without, then the
 * mount point nearest the root wins; the survivor takes the slot where the device first appeared.
 */
function foldSameDevice(probed: readonly Probed[]): FilesystemUsage[] {
  const kept: FilesystemUsage[] = [];
  const slotOfDev = new Map<number, number>();
  for (const { usage, dev } of probed) {
    const slot = dev === undefined ? undefined : slotOfDev.get(dev);
    if (slot === undefined) {
      if (dev !== undefined) slotOfDev.set(dev, kept.length);
      kept.push(usage);
      continue;
    }
    const seen = kept[slot];
    const realDevice = usage.name.includes("/") && !seen.name.includes("/");
    if (realDevice || usage.mount.length < seen.mount.length) kept[slot] = usage;
  }
  return kept;
}
