/**
 * What a Mackerel host id looks like. Ids come from the API (create, find) and from the id file,
 * and end up in URL paths, in the id file and in every posted point, so anything else - a
 * megabyte of garbage from a broken proxy, a file overwritten by mistake - is refused first.
 *
 * @module
 */

/** Longest id accepted: real ids are 11 characters; the bound only stops garbage. */
export const MAX_HOST_ID_LENGTH = 128;

const HOST_ID = /^[A-Za-z0-9_-]+$/;

/** Whether `id` can be a Mackerel host id: 1-128 ASCII letters, digits, `-` or `_`. */
export function isHostId(id: unknown): id is string {
  return typeof id === "string" && id.length > 0 && id.length <= MAX_HOST_ID_LENGTH &&
    HOST_ID.test(id);
}

/** A short, printable rendering of a value that is not a host id, for an error line. */
export function describeBadHostId(id: unknown): string {
  if (typeof id !== "string") return `a ${id === null ? "null" : typeof id}`;
  const shown = JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}\u2026` : id);
  return `${shown} (${id.length} characters)`;
}
