/**
 * One filesystem listing per round, shared by the collectors that need one (disk with
 * `use_mountpoint`, filesystem, inodes): the mount table is read and each mount statfs'd once per
 * round, not once per collector.
 *
 * @module
 */
import {
  type FilesystemUsage,
  listFilesystems,
  type ListFilesystemsOptions,
} from "../host/filesystems.ts";

/** The filesystems of the round scheduled at `timeMs`; every call for one round shares one listing. */
export type RoundFilesystems = (timeMs: number) => Promise<FilesystemUsage[]>;

/**
 * Creates a {@linkcode RoundFilesystems} over {@linkcode listFilesystems}. Only the latest round's
 * listing is kept; a call for another round starts a new one.
 *
 * One lister for the agent's life: {@linkcode listFilesystems} remembers a mount whose statfs never
 * answered by the statfs function that asked, and does not ask it again while it hangs.
 */
export function createRoundFilesystems(options: ListFilesystemsOptions): RoundFilesystems {
  let latest: { readonly timeMs: number; readonly listing: Promise<FilesystemUsage[]> } | undefined;
  return (timeMs) => {
    if (latest?.timeMs !== timeMs) latest = { timeMs, listing: listFilesystems(options) };
    return latest.listing;
  };
}
