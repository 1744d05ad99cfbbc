/**
 * What every entry point shares: the application's registry wired into the
 * core, composed once per Lambda container (warm invocations reuse clients
 * and caches), and Powertools observability: the logger (JSON, level from
 * `POWERTOOLS_LOG_LEVEL`), metrics (EMF, namespace from
 * `POWERTOOLS_METRICS_NAMESPACE`) and, when enabled, the tracer.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { composeDeps, type ComposeOptions } from './core/compose-deps';
import type { FunctionName } from './core/function-declarations';
import type { StreamerDeps } from './core/lifecycle/deps';
import { METRICS_NAMESPACE } from './core/metric-names';
import type { Logger } from './core/observability';
import { HandlerRegistry } from './core/handlers/handler-registry';
import { EmbeddedMetrics } from './powertools-metrics';
import { loadTracer, tracedClients } from './tracing';
import { observe, type InvocationKeys, type LambdaHandler } from './with-observability';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME?.trim() || 'streamer';
const powertoolsLogger = new PowertoolsLogger({ serviceName });
const metrics = new EmbeddedMetrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE?.trim() || METRICS_NAMESPACE, serviceName });
const tracer = loadTracer(serviceName);

export const logger: Logger = {
  debug: (message, fields) => powertoolsLogger.debug(message, fields ?? {}),
  info: (message, fields) => powertoolsLogger.info(message, fields ?? {}),
  warn: (message, fields) => powertoolsLogger.warn(message, fields ?? {}),
  error: (message, fields) => powertoolsLogger.error(message, fields ?? {}),
  appendKeys: (fields) => powertoolsLogger.appendKeys(fields),
};

/** Wraps an entry point's handler: Lambda context and correlation keys in logs, metrics flushed, traced when enabled. */
export function withObservability<Event, Result>(handler: LambdaHandler<Event, Result>, keys?: InvocationKeys<Event>): LambdaHandler<Event, Result> {
  return observe({ logger: powertoolsLogger, metrics, tracer }, handler, keys);
}

let deps: StreamerDeps | undefined;

/**
 * The container's dependencies, exactly what `functionName` declares. Only the
 * entry points that run handlers (router, processor) pass the application's
 * registry, so connect's and disconnect's bundles leave the handlers out: a
 * handler edit changes only the code that runs it (a smaller cold start, and
 * `synth --diff` shows just those functions); a
 * misconfiguration throws here (a `ConfigurationError` naming the variable),
 * which fails the invocation so that the function's error alarm sees it.
 */
export function streamerDeps(
  functionName: FunctionName,
  options: Partial<Pick<ComposeOptions, 'registry'>> & Pick<ComposeOptions, 'dispatcher' | 'objectStore' | 'tokenKeys'> = {},
): StreamerDeps {
  deps ??= composeDeps({ functionName, logger, metrics, instrumentClient: tracer && tracedClients(tracer), ...options, registry: options.registry ?? new HandlerRegistry() });
  return deps;
}
