/**
 * What a collector declares about each metric it can emit: the Mackerel name, with the parts taken
 * from the host in angle brackets (`disk.<device>.reads.delta`), the unit Mackerel graphs it in,
 * one sentence for the README, and for a `custom.*` metric the graph it is drawn in.
 *
 * The graph definitions posted at start ({@linkcode graphDefsOf}), the README's tables of metrics
 * (`scripts/readme_metrics.ts`) and the test that every emitted name is declared all read these, so
 * a metric's name is written in its collector's code and its declaration, nowhere else.
 *
 * @module
 */
import type { GraphDef, GraphDefMetric } from "../mackerel/api_types.ts";

/** A unit of Mackerel's graphs. */
export type GraphUnit =
  | "float"
  | "integer"
  | "percentage"
  | "milliseconds"
  | "bytes"
  | "bytes/sec"
  | "iops";

/** One metric a collector can emit. */
export interface MetricDeclaration {
  /**
   * The Mackerel name; a part taken from the host (a device, an interface) is written in angle
   * brackets and stands for one sanitized name part (`[A-Za-z0-9_-]+`).
   */
  readonly name: string;
  readonly unit: GraphUnit;
  /** One short sentence: what the number is, and where it comes from when that helps. */
  readonly description: string;
  /**
   * `custom.*` only: the title of the graph that draws it. The graph is the name less its last
   * part, a host part drawn as `#` (one graph per device): see {@linkcode graphDefsOf}.
   */
  readonly graph?: string;
  /** `custom.*` only: its line's label in the graph; the name's last part by default. */
  readonly label?: string;
}

const PLACEHOLDER = /<[^<>.]+>/g;

/** `metrics` with `graph` set to `title`: the lines of one graph, declared together. */
export function inGraph(
  title: string,
  metrics: readonly Omit<MetricDeclaration, "graph">[],
): MetricDeclaration[] {
  return metrics.map((metric) => ({ ...metric, graph: title }));
}

/** The pattern of the concrete names `template` stands for (`disk.<device>.reads.delta`). */
export function templatePattern(template: string): RegExp {
  const parts = template.split(PLACEHOLDER).map((part) =>
    part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  );
  return new RegExp(`^${parts.join("[A-Za-z0-9_-]+")}$`);
}

/** Whether the concrete metric `name` is one that `template` stands for. */
export function matchesTemplate(name: string, template: string): boolean {
  return templatePattern(template).test(name);
}

/**
 * The graph definitions of the declarations that name a graph, in the order of their first line:
 * `custom.inode.count.<device>.used` is drawn as `custom.inode.count.#.used` in the graph
 * `custom.inode.count.#`. Every line of one graph must share its title and unit.
 *
 * @throws {RangeError} naming the metric when a line's title or unit differs from its graph's.
 */
export function graphDefsOf(metrics: readonly MetricDeclaration[]): GraphDef[] {
  const graphs = new Map<string, GraphDef & { readonly metrics: GraphDefMetric[] }>();
  for (const metric of metrics) {
    if (metric.graph === undefined) continue;
    const name = metric.name.replaceAll(PLACEHOLDER, "#");
    const cut = name.lastIndexOf(".");
    const graphName = name.slice(0, cut);
    let graph = graphs.get(graphName);
    if (graph === undefined) {
      graph = { name: graphName, displayName: metric.graph, unit: metric.unit, metrics: [] };
      graphs.set(graphName, graph);
    } else if (graph.displayName !== metric.graph || graph.unit !== metric.unit) {
      throw new RangeError(
        `metric ${metric.name}: graph ${graphName} is "${graph.displayName}" in ${graph.unit}, ` +
          `not "${metric.graph}" in ${metric.unit}`,
      );
    }
    graph.metrics.push({
      name,
      displayName: metric.label ?? name.slice(cut + 1),
      isStacked: false,
    });
  }
  return [...graphs.values()];
}
