/**
 * What a payload refused item by item means. When the API answers 400 and splitting finds items
 * it refuses one by one, those items are bad - if the API takes other items. When it refuses every
 * single one and has taken nothing since, the fault is the request's path, not the data (a broken
 * proxy, an API fault answering 400 to all): dropping would lose a whole outage's data, so the
 * items are kept and retried like any transient failure, and while that is suspected a split
 * stops at whole records until the API takes something again (a few requests a minute, not
 * hundreds).
 *
 * One judge per kind of data (per API path): a proxy may break one path and not another.
 *
 * @module
 */
import type { Clock } from "../async/clock.ts";

/** Tells bad items from a refusal of everything. */
export interface RefusalJudge {
  /** The API took items of this kind. */
  delivered(): void;
  /**
   * Items were refused one by one; `tookOthers` when the same split delivered other items. True
   * when they are bad items, to drop; false when they are to be kept (a refusal of everything).
   */
  refusedAreBad(tookOthers: boolean): boolean;
  /** A refusal of everything is suspected and nothing was taken since: split records only. */
  readonly suspecting: boolean;
  /** Since when a refusal of everything is suspected. */
  readonly suspectedSince?: number;
}

/** Creates a judge; `clock` stamps the suspicion. */
export function createRefusalJudge(clock: Pick<Clock, "now">): RefusalJudge {
  let suspectedSince: number | undefined;
  /** The API took something after the suspicion began. */
  let tookSince = false;
  return {
    delivered() {
      if (suspectedSince !== undefined) tookSince = true;
    },
    refusedAreBad(tookOthers) {
      if (tookOthers || tookSince) {
        suspectedSince = undefined;
        tookSince = false;
        return true;
      }
      suspectedSince ??= clock.now();
      return false;
    },
    get suspecting() {
      return suspectedSince !== undefined && !tookSince;
    },
    get suspectedSince() {
      return suspectedSince;
    },
  };
}
