/**
 * The logging and metrics seams of the core. Entry points plug in
 * Powertools implementations; tests and the local runtime read the same
 * calls. Fields never carry tokens or payloads.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type MetricUnit = 'Count' | 'Milliseconds';

export interface Metrics {
  add(name: string, value: number, unit: MetricUnit, dimensions?: Record<string, string>): void;
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
export const noMetrics: Metrics = { add: () => undefined };
