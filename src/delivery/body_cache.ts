/**
 * The bodies of the newest records the spool wrote to disk, kept in memory too, so that the post a
 * moment later need not read them back. Bounded in bytes, oldest out first: a backlog still lives
 * on disk, not here.
 *
 * @module
 */

/** A bounded map of record ids to bodies. */
export interface BodyCache {
  get(id: number): Uint8Array | undefined;
  /** Keeps `body` unless it alone is larger than the bound; evicts the oldest to make room. */
  set(id: number, body: Uint8Array): void;
  delete(id: number): void;
}

/** Creates a cache of at most `limitBytes` bytes of bodies. */
export function createBodyCache(limitBytes: number): BodyCache {
  if (!(limitBytes >= 0)) throw new RangeError(`limitBytes must be >= 0, got ${limitBytes}`);
  const bodies = new Map<number, Uint8Array>();
  let bytes = 0;
  const remove = (id: number) => {
    const body = bodies.get(id);
    if (body === undefined) return;
    bodies.delete(id);
    bytes -= body.length;
  };
  return {
    get: (id) => bodies.get(id),
    set(id, body) {
      remove(id);
      if (body.length > limitBytes) return;
      bodies.set(id, body);
      bytes += body.length;
      // Oldest first: a Map iterates in insertion order.
      for (const old of bodies.keys()) {
        if (bytes <= limitBytes) break;
        remove(old);
      }
    },
    delete: remove,
  };
}
