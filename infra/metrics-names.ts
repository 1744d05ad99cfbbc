/**
 * Every custom CloudWatch metric the alarms and the dashboard read, named
 * once. The functions emit exactly these names (through Powertools Metrics,
 * namespace `POWERTOOLS_METRICS_NAMESPACE`), and tests check both sides.
 *
 * Alarms read each metric with the dimension set `{ service }` only:
 * Powertools adds `service` (= `POWERTOOLS_SERVICE_NAME`, one per stack) to
 * every metric by default. A per-action breakdown must be emitted as an
 * additional dimension set, never instead of `{ service }`, or the alarms
 * would watch a metric that has no data.
 */

/** CloudWatch namespace of Streamer's custom metrics (`POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = 'Streamer';

/** Custom metric names. Units: `…Ms` metrics are Milliseconds, the others Count. */
export const METRICS = {
  /** A request was accepted (sync or queued). */
  requests: 'RequestsAccepted',
  /** Time a handler's `process` ran, per run. */
  handlerDuration: 'HandlerDurationMs',
  /** Time a queued request waited before a worker started it. */
  queueWait: 'QueueWaitMs',
  /** Progress messages posted to connections (after batching). */
  progressSent: 'ProgressMessagesSent',
  /** Connections found gone (HTTP 410) and removed. */
  goneConnectionsPruned: 'GoneConnectionsPruned',
  /** Retryable failures that were scheduled for another attempt. */
  retries: 'Retries',
  /** Requests that ended `failed`. */
  failures: 'Failures',
  connectionsOpened: 'ConnectionsOpened',
  connectionsClosed: 'ConnectionsClosed',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** Dimension names used with the metrics above. */
export const METRIC_DIMENSIONS = {
  /** Added by Powertools to every metric; the value is `POWERTOOLS_SERVICE_NAME`. */
  service: 'service',
  /** Optional extra dimension set: the handler's action name. */
  action: 'action',
} as const;
