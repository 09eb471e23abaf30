/**
 * What a payload refused item by item means. When the API answers 400 and splitting finds items
 * it refuses one by one, those items are bad - if the API takes other items. When it refuses every
 * single one and takes nothing else, the fault is the request's path, not the data (a broken proxy,
 * an API fault answering 400 to all): dropping would lose a whole outage's data, so the items are
 * kept (as records of their own, marked suspect) and retried like any transient failure. They are
 * judged bad only once the API has taken other items since they were first refused; until then a
 * split of a suspect record stops at whole records (a few requests a minute, not hundreds).
 *
 * One judge per kind of data (per API path): a proxy may break one path and not another.
 *
 * @module
 */
/** Tells bad items from a refusal of everything. */
export interface RefusalJudge {
  /** The API took items of this kind. */
  delivered(): void;
  /**
   * Items of the records `ids` were refused one by one; `tookOthers` when the same split delivered
   * other items. True when they are bad items, to drop: the API takes others now, or has taken
   * others since these records were first suspected. False: keep them (a refusal of everything).
   */
  refusedAreBad(ids: readonly number[], tookOthers: boolean): boolean;
  /** Marks a record kept after a refusal of everything, since the oldest of `from` was. */
  suspect(id: number, from: readonly number[]): void;
  /** Whether any of the records is suspect and the API has taken nothing since: split records only. */
  suspecting(ids: readonly number[]): boolean;
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
  const since = (ids: readonly number[]) =>
    Math.min(...ids.map((id) => suspects.get(id) ?? Infinity));
  return {
    delivered() {
      lastDelivery = ++seq;
    },
    refusedAreBad(ids, tookOthers) {
      return tookOthers || lastDelivery > since(ids);
    },
    suspect(id, from) {
      suspects.set(id, Math.min(++seq, since(from)));
    },
    suspecting(ids) {
      const first = since(ids);
      return first !== Infinity && lastDelivery < first;
    },
    forget(ids) {
      for (const id of ids) suspects.delete(id);
    },
  };
}
