/**
 * What a payload refused item by item means. When the API answers 400 and splitting finds items
 * it refuses one by one, those items are bad - if the API takes other items. When it refuses every
 * single one and takes nothing else, the fault is the request's path, not the data (a broken proxy,
 * an API fault answering 400 to all): dropping would lose a whole outage's data, so the items are
 * kept (as records of their own, marked suspect) and retried like any transient failure. They are
 * judged bad only once the API has taken other items since they were first refused.
 *
 * Splits are careful where a refusal of everything is likely: for records already suspect, and,
 * once such an episode has been seen, for every refusal until the API is found refusing bad items
 * again. A careful split stops at whole records until the API takes one of them (a few requests,
 * not one per item); a bad item is still found, as soon as a record beside it is taken.
 *
 * One judge per kind of data (per API path): a proxy may break one path and not another.
 *
 * @module
 */

/** Tells bad items from a refusal of everything. */
export interface RefusalJudge {
  /** The API took items of this kind: an episode of refusing everything is over. */
  delivered(): void;
  /**
   * Items of the records `ids` were refused one by one (or whole, in a careful split);
   * `tookOthers` when the same split delivered other items. True when they are bad items, to drop:
   * the API takes others now, or has taken others since these records were first suspected. False:
   * keep them (a refusal of everything), and the episode has begun if it had not.
   */
  refusedAreBad(ids: readonly number[], tookOthers: boolean): boolean;
  /** Marks a record kept after a refusal of everything, since the oldest of `from` was. */
  suspect(id: number, from: readonly number[]): void;
  /** Whether a split of these records should stop at whole records until one is taken. */
  careful(ids: readonly number[]): boolean;
  /** Whether an episode of refusing everything is under way (its ERROR was said). */
  readonly refusingEverything: boolean;
  /** Forgets records that left the spool. */
  forget(ids: readonly number[]): void;
}

/** Creates a judge. */
export function createRefusalJudge(): RefusalJudge {
  /** Order of events: what happened after what, even within one millisecond. */
  let seq = 0;
  /** Suspect records and when (in `seq`) their items were first refused. */
  const suspects = new Map<number, number>();
  let lastDelivery = -Infinity;
  /** An episode is under way: nothing taken since everything was refused. */
  let episode = false;
  /** An episode was seen, and no refusal since has turned out to be of bad items. */
  let seen = false;
  const since = (ids: readonly number[]) =>
    Math.min(...ids.map((id) => suspects.get(id) ?? Infinity));
  return {
    delivered() {
      lastDelivery = ++seq;
      episode = false;
    },
    refusedAreBad(ids, tookOthers) {
      if (tookOthers || lastDelivery > since(ids)) {
        seen = false;
        return true;
      }
      episode = true;
      seen = true;
      return false;
    },
    suspect(id, from) {
      suspects.set(id, Math.min(++seq, since(from)));
    },
    careful(ids) {
      const first = since(ids);
      return seen || (first !== Infinity && lastDelivery < first);
    },
    get refusingEverything() {
      return episode;
    },
    forget(ids) {
      for (const id of ids) suspects.delete(id);
    },
  };
}
