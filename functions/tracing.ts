/**
 * X-Ray tracing with Powertools Tracer, loaded only when the stack turns it
 * on (`streamer:tracing` → `POWERTOOLS_TRACE_ENABLED=true`). The Tracer
 * brings aws-xray-sdk-core (about 125 KiB minified, and async hooks that
 * slow every await), so the build ships it beside each function bundle
 * (`dist/<fn>/node_modules/…`, see scripts/build.mjs) instead of inside it:
 * a function with tracing off never reads it.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { InstrumentClient } from './core/observability';

export type { Tracer };

const ENABLED = /^(1|true|yes|on)$/i;

export function loadTracer(serviceName: string, env: Readonly<Record<string, string | undefined>> = process.env): Tracer | undefined {
  if (!ENABLED.test(env.POWERTOOLS_TRACE_ENABLED?.trim() ?? '')) return undefined;
  // A require (not an import) so the bundler leaves the module out and Node resolves it only now.
  const { Tracer: PowertoolsTracer } = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
  return new PowertoolsTracer({ serviceName });
}

/** Every AWS SDK call becomes a subsegment of the invocation's trace. */
export function tracedClients(tracer: Tracer): InstrumentClient {
  return (client) => tracer.captureAWSv3Client(client);
}

/**
 * Opens the handler's subsegment (annotated with cold start and service) and
 * returns what closes it. Responses are not recorded: they may carry user data.
 */
export function traceInvocation(tracer: Tracer, handlerName: string): { failed(error: unknown): void; close(): void } {
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment(`## ${handlerName}`);
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  return {
    failed: (error) => tracer.addErrorAsMetadata(error instanceof Error ? error : new Error(String(error))),
    close: () => {
      if (!segment || !subsegment) return;
      subsegment.close();
      tracer.setSegment(segment);
    },
  };
}
