/**
 * The core's `Metrics` on Powertools Metrics, in CloudWatch Embedded Metric
 * Format. Data points are buffered per dimension combination and printed at
 * the end of the invocation (`publish`), one EMF line per combination. A
 * line with dimensions carries two dimension sets: `{ service }`, the
 * service-wide series the alarms and the dashboard read, and
 * `{ service, …dimensions }`, the breakdown (metric-names.ts).
 */
import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { MetricDimension, MetricName } from './core/metric-names';
import type { Metrics, MetricUnit } from './core/observability';

export interface EmbeddedMetricsOptions {
  readonly namespace: string;
  readonly serviceName: string;
}

type Dimensions = Readonly<Partial<Record<MetricDimension, string>>>;

interface Series {
  readonly dimensions: Record<string, string>;
  readonly buffer: PowertoolsMetrics;
}

export class EmbeddedMetrics implements Metrics {
  /** One Powertools buffer per dimension combination; combinations are few (actions × paths × error codes). */
  private readonly series = new Map<string, Series>();

  constructor(private readonly options: EmbeddedMetricsOptions) {}

  add(name: MetricName, value: number, unit: MetricUnit, dimensions: Dimensions = {}): void {
    // Sorted, and without empty values (EMF drops a dimension with an empty value).
    const entries = Object.entries(dimensions)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
      .sort(([a], [b]) => a.localeCompare(b));
    const key = JSON.stringify(entries);
    let series = this.series.get(key);
    if (!series) {
      series = { dimensions: Object.fromEntries(entries), buffer: new PowertoolsMetrics(this.options) };
      this.series.set(key, series);
    }
    series.buffer.addMetric(name, unit, value);
  }

  /** Prints what this invocation recorded as EMF lines and empties the buffers. Call once per invocation, also after a failure. */
  publish(): void {
    for (const { dimensions, buffer } of this.series.values()) {
      if (!buffer.hasStoredMetrics()) continue;
      if (Object.keys(dimensions).length > 0) {
        // An empty extra set publishes the default `{ service }` set beside the breakdown.
        buffer.addDimensions({});
        buffer.addDimensions(dimensions);
      }
      buffer.publishStoredMetrics();
    }
  }
}
