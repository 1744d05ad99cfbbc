/**
 * The logging, metrics and tracing seams of the core. Entry points plug in
 * Powertools implementations (`functions/streamer-runtime.ts`); tests plug in
 * fakes. Fields never carry tokens or payloads.
 */
import type { MetricDimension, MetricName } from './metric-names';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * Fields every later line of this invocation carries (`action`,
   * `tenantId`, `requestId`…): the correlation keys. The entry point clears
   * them when the invocation ends.
   */
  appendKeys(fields: LogFields): void;
}

export type MetricUnit = 'Count' | 'Milliseconds';

export interface Metrics {
  /**
   * Records one data point. `dimensions` add a breakdown (by action, path,
   * error code) beside the service-wide series the alarms read.
   */
  add(name: MetricName, value: number, unit: MetricUnit, dimensions?: Readonly<Partial<Record<MetricDimension, string>>>): void;
}

/**
 * Wraps an AWS SDK client so its calls are traced (Powertools Tracer's
 * `captureAWSv3Client` when tracing is on); returns the same client.
 */
export type InstrumentClient = <Client>(client: Client) => Client;

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  appendKeys: () => undefined,
};
export const noMetrics: Metrics = { add: () => undefined };
export const uninstrumented: InstrumentClient = (client) => client;
