/**
 * What CloudWatch does with the functions' Embedded Metric Format lines,
 * done locally: every EMF line the functions print becomes data points, one
 * series per namespace, metric and dimension set, summed and counted, with
 * p50/p95/p99 over the most recent values. Served as JSON
 * (`GET /_local/metrics`) and as Prometheus text (`GET /metrics`), so tests
 * and benchmarks read the same numbers the dashboard shows on AWS.
 */

/** Values kept per series for percentiles; count and sum stay exact beyond it. */
const RECENT_VALUES = 10_000;

export interface MetricSeriesSummary {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string;
  /** The dimension set, as `{ service, action, … }`. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

interface Series {
  readonly namespace: string;
  readonly name: string;
  unit: string;
  readonly dimensions: Record<string, string>;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** The latest `RECENT_VALUES` values, as a ring: `next` is where the next one goes once it is full. */
  readonly recent: number[];
  next: number;
}

interface EmfDirective {
  readonly Namespace: string;
  readonly Dimensions: readonly (readonly string[])[];
  readonly Metrics: readonly { readonly Name: string; readonly Unit?: string }[];
}

/** The `_aws` directives of a parsed log line, or undefined when it is not EMF. */
export function emfDirectives(line: unknown): readonly EmfDirective[] | undefined {
  const metadata = (line as { _aws?: { CloudWatchMetrics?: unknown } } | null)?._aws;
  const directives = metadata?.CloudWatchMetrics;
  if (!Array.isArray(directives)) return undefined;
  return directives.filter(
    (d): d is EmfDirective => typeof d?.Namespace === 'string' && Array.isArray(d.Dimensions) && Array.isArray(d.Metrics),
  );
}

export class EmfMetrics {
  private readonly series = new Map<string, Series>();

  /** Records the data points of one EMF line; false when the line is not EMF. */
  record(line: Record<string, unknown>): boolean {
    const directives = emfDirectives(line);
    if (!directives) return false;
    for (const directive of directives) {
      for (const dimensionSet of directive.Dimensions) {
        const dimensions: Record<string, string> = {};
        for (const key of dimensionSet) {
          if (typeof line[key] === 'string') dimensions[key] = line[key] as string;
        }
        for (const metric of directive.Metrics) {
          const raw = line[metric.Name];
          const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
          if (values.length > 0) this.add(directive.Namespace, metric.Name, metric.Unit ?? 'None', dimensions, values);
        }
      }
    }
    return true;
  }

  /** Every series, optionally only those of one metric name. */
  summaries(name?: string): MetricSeriesSummary[] {
    return [...this.series.values()]
      .filter((s) => name === undefined || s.name === name)
      .map((s) => {
        const sorted = [...s.recent].sort((a, b) => a - b);
        return {
          namespace: s.namespace,
          name: s.name,
          unit: s.unit,
          dimensions: { ...s.dimensions },
          count: s.count,
          sum: s.sum,
          min: s.min,
          max: s.max,
          p50: percentile(sorted, 0.5),
          p95: percentile(sorted, 0.95),
          p99: percentile(sorted, 0.99),
        };
      });
  }

  /** Prometheus text exposition: Count metrics as counters, the others as summaries with quantiles. */
  prometheus(): string {
    const byMetric = new Map<string, MetricSeriesSummary[]>();
    for (const summary of this.summaries()) {
      const key = promName(`${summary.namespace}_${summary.name}`);
      byMetric.set(key, [...(byMetric.get(key) ?? []), summary]);
    }
    const lines: string[] = [];
    for (const [metric, all] of byMetric) {
      const counter = all.every((s) => s.unit === 'Count');
      lines.push(`# HELP ${metric} ${all[0].name} (${all[0].unit}) from the functions' EMF output`);
      lines.push(`# TYPE ${metric}${counter ? '_total counter' : ' summary'}`);
      for (const s of all) {
        if (counter) {
          lines.push(`${metric}_total${labels(s.dimensions)} ${s.sum}`);
          continue;
        }
        for (const [q, value] of [['0.5', s.p50], ['0.95', s.p95], ['0.99', s.p99]] as const) {
          lines.push(`${metric}${labels({ ...s.dimensions, quantile: q })} ${value}`);
        }
        lines.push(`${metric}_sum${labels(s.dimensions)} ${s.sum}`);
        lines.push(`${metric}_count${labels(s.dimensions)} ${s.count}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  reset(): void {
    this.series.clear();
  }

  private add(namespace: string, name: string, unit: string, dimensions: Record<string, string>, values: readonly number[]): void {
    const key = JSON.stringify([namespace, name, Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b))]);
    let series = this.series.get(key);
    if (!series) {
      series = { namespace, name, unit, dimensions, count: 0, sum: 0, min: Infinity, max: -Infinity, recent: [], next: 0 };
      this.series.set(key, series);
    }
    for (const value of values) {
      series.count += 1;
      series.sum += value;
      series.min = Math.min(series.min, value);
      series.max = Math.max(series.max, value);
      // A ring, not push-and-splice: dropping the oldest of 10,000 values moved them all on every data point.
      if (series.recent.length < RECENT_VALUES) series.recent.push(value);
      else series.recent[series.next] = value;
      series.next = (series.next + 1) % RECENT_VALUES;
    }
  }
}

/** Nearest rank, as CloudWatch's percentile statistics. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function promName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

function labels(values: Readonly<Record<string, string>>): string {
  const entries = Object.entries(values);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${promName(k)}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}
