/**
 * The custom metrics the alarms and the dashboard read: the one definition
 * lives with the code that emits them (`functions/core/metric-names.ts`).
 */
export { METRIC_DIMENSIONS, METRIC_NAMES, METRICS, METRICS_NAMESPACE, type MetricName } from '../functions/core/metric-names';
