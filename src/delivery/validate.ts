/**
 * The last check of points before they are kept: a point the API would refuse (a name it does not
 * accept, a value that is not a finite number) is dropped here, with one WARNING per distinct
 * name, so that it can never make a whole post fail. Plugins check their own output earlier and
 * name the plugin; this catches everything else.
 *
 * @module
 */
import { logger } from "../log.ts";
import { isValidMetricName } from "../mackerel/metric_name.ts";
import type { MetricPoint } from "../mackerel/types.ts";

/** Distinct invalid names remembered (to warn once each); beyond it the memory starts over. */
const MAX_REMEMBERED = 1_000;

/** A filter that keeps the points the API accepts. */
export type PointFilter = (points: readonly MetricPoint[]) => readonly MetricPoint[];

/** Creates a filter that warns once per distinct invalid name. */
export function createPointFilter(): PointFilter {
  const log = logger("command");
  const warned = new Set<string>();
  return (points) => {
    let kept: MetricPoint[] | undefined;
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      const problem = !isValidMetricName(p.name)
        ? "its name is not one Mackerel accepts"
        : !Number.isFinite(p.value)
        ? `its value ${p.value} is not a finite number`
        : undefined;
      if (problem === undefined) {
        kept?.push(p);
        continue;
      }
      kept ??= points.slice(0, i);
      const key = `${p.name}\0${problem}`;
      if (warned.has(key)) continue;
      if (warned.size >= MAX_REMEMBERED) warned.clear();
      warned.add(key);
      log.warn(`Dropped metric ${JSON.stringify(p.name)}: ${problem} (said once per name)`);
    }
    return kept ?? points;
  };
}
