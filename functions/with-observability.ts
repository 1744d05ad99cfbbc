/**
 * What every entry point wraps its handler in, instead of middy's
 * `injectLambdaContext`/`logMetrics`/`captureLambdaHandler`: the Lambda
 * context and the correlation keys on every log line, a trace subsegment when
 * tracing is on, and the invocation's metrics printed (EMF) when it ends,
 * also when it throws. Keys are reset so no invocation inherits another's.
 */
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { LogFields } from './core/observability';
import type { EmbeddedMetrics } from './powertools-metrics';
import { traceInvocation, type Tracer } from './tracing';

export type LambdaHandler<Event, Result> = (event: Event, context: Context) => Promise<Result>;

export interface Observability {
  readonly logger: PowertoolsLogger;
  readonly metrics: EmbeddedMetrics;
  readonly tracer?: Tracer;
}

export interface InvocationKeys<Event> {
  /** Log keys known from the event alone (`connectionId`, …). Never tokens or payloads. */
  readonly keys?: (event: Event) => LogFields;
  /** The upstream request id (API Gateway's), logged as `correlation_id`. */
  readonly correlationId?: (event: Event) => string | undefined;
}

export function observe<Event, Result>(
  observability: Observability,
  handler: LambdaHandler<Event, Result>,
  invocationKeys: InvocationKeys<Event> = {},
): LambdaHandler<Event, Result> {
  const { logger, metrics, tracer } = observability;
  return async (event, context) => {
    logger.addContext(context);
    const correlationId = invocationKeys.correlationId?.(event);
    if (correlationId) logger.setCorrelationId(correlationId);
    const keys = invocationKeys.keys?.(event);
    if (keys) logger.appendKeys(keys);
    const trace = tracer && traceInvocation(tracer, context.functionName);
    try {
      return await handler(event, context);
    } catch (error) {
      trace?.failed(error);
      throw error;
    } finally {
      trace?.close();
      metrics.publish();
      logger.resetKeys();
    }
  };
}
