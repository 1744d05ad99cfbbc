/**
 * Every custom CloudWatch metric Streamer emits, named once. The core emits
 * them through the `Metrics` seam (Powertools Metrics on AWS, in Embedded
 * Metric Format); `infra/` builds the alarms and the dashboard from the same
 * constants, and the local runtime aggregates the same EMF lines. A test
 * checks that every metric infra reads is one the code emits.
 *
 * Every data point carries the dimension set `{ service }` (Powertools adds
 * `service` = `POWERTOOLS_SERVICE_NAME`, one per stack): that is the set the
 * alarms and the dashboard read. A call's own dimensions (`action`, `path`,
 * `code`) are published as an extra set `{ service, …dimensions }` beside
 * it, never instead of it, or the alarms would watch a metric with no data.
 */

/** CloudWatch namespace of Streamer's custom metrics (`POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = 'Streamer';

/** Custom metric names. Units: `…Ms` metrics are Milliseconds, the others Count. */
export const METRICS = {
  /** A request was accepted (sync or queued). Dimensions: `action`, `path`. */
  requests: 'RequestsAccepted',
  /** Time a handler's `process` ran, per run. Dimensions: `action`. */
  handlerDuration: 'HandlerDurationMs',
  /** Time a queued request waited (created → claimed for processing). Dimensions: `action`, `via`. */
  queueWait: 'QueueWaitMs',
  /**
   * A claim that found the request already claimed, cancelled or ended: a
   * failed conditional write (it consumes write capacity all the same). With
   * direct dispatch on, one per queued request is expected, from whichever
   * path came second. Dimensions: `via`.
   */
  claimsLost: 'ClaimsLost',
  /**
   * The router's direct dispatch (the asynchronous invoke that starts a
   * stored request) failed; the stream starts the request instead.
   * Dimensions: `code` (the error's name, e.g. `AccessDeniedException`, `TooManyRequestsException`).
   */
  directDispatchFailures: 'DirectDispatchFailures',
  /** Progress messages posted to connections (after batching). Dimensions: `action`. */
  progressSent: 'ProgressMessagesSent',
  /** Connections found gone (HTTP 410) and removed. */
  goneConnectionsPruned: 'GoneConnectionsPruned',
  /** Retryable failures that were scheduled for another attempt. Dimensions: `action`, `code`. */
  retries: 'Retries',
  /** Requests that ended in an error (sync `error` reply or stored `failed`). Dimensions: `action`, `code`. */
  failures: 'Failures',
  /** Handshakes accepted (a connection record was written). */
  connectionsOpened: 'ConnectionsOpened',
  /** Connections cleaned up on `$disconnect`. */
  connectionsClosed: 'ConnectionsClosed',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** Every metric name, for tests and for readers of the EMF output. */
export const METRIC_NAMES: readonly MetricName[] = Object.values(METRICS);

/** Dimension names used with the metrics above. */
export const METRIC_DIMENSIONS = {
  /** Added by Powertools to every metric; the value is `POWERTOOLS_SERVICE_NAME`. */
  service: 'service',
  /** The handler's action name. */
  action: 'action',
  /** `sync` (answered inline) or `async` (queued). */
  path: 'path',
  /** A protocol error code (`TIMEOUT`, `INTERNAL_ERROR`, …), or an AWS error's name. */
  code: 'code',
  /** Which path claimed a queued request: `direct` (the router's dispatch) or `stream` (the requests stream). */
  via: 'via',
} as const;

export type MetricDimension = Exclude<(typeof METRIC_DIMENSIONS)[keyof typeof METRIC_DIMENSIONS], 'service'>;
