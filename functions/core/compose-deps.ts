/**
 * The composition root: builds the real stores, notifier, dispatcher and
 * verifier from the environment, once per container. Endpoints come from the
 * AWS SDK's own configuration (`AWS_ENDPOINT_URL_*`), so the same code talks
 * to AWS or to the local runtime.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { readAuthSettings, TokenVerifier } from './auth/verify-token';
import { systemClock } from './clock';
import type { WorkDispatcher } from './dispatcher';
import type { HandlerRegistry } from './handlers/handler-registry';
import type { StreamerDeps } from './lifecycle/deps';
import { InMemoryRateLimiter, SharedRateLimiter } from './lifecycle/rate-limiter';
import { DynamoRateLimitStore } from './stores/rate-limit-store';
import { ApiGatewayNotifier } from './notify/notifier';
import { noMetrics, uninstrumented, type InstrumentClient, type Logger, type Metrics } from './observability';
import { readRuntimeSettings } from './runtime-env';
import { CachedConnectionStore } from './stores/cached-connection-store';
import { DynamoConnectionStore } from './stores/connection-store';
import { DynamoRequestStore } from './stores/request-store';
import { DynamoSubscriptionStore } from './stores/subscription-store';
import { METRICS } from './metric-names';

export interface ComposeOptions {
  readonly registry: HandlerRegistry;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Wraps each AWS SDK client (tracing); the clients are used as they are when absent. */
  readonly instrumentClient?: InstrumentClient;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Builds the dispatcher for the worker function. Only the processor passes
   * one (`lambdaWorkDispatcher`), so the other bundles leave the Lambda client out.
   */
  readonly dispatcher?: (workerFunction: string, instrumentClient: InstrumentClient) => WorkDispatcher;
}

const unavailableDispatcher: WorkDispatcher = {
  dispatch: async () => {
    throw new Error('No worker function configured (STREAMER_WORKER_FUNCTION)');
  },
};

export function composeDeps(options: ComposeOptions): StreamerDeps {
  const env = options.env ?? process.env;
  const settings = readRuntimeSettings(env);
  const instrument = options.instrumentClient ?? uninstrumented;
  const metrics = options.metrics ?? noMetrics;
  // The document client shares the base client's middleware stack, so instrumenting the base traces both.
  const db = DynamoDBDocumentClient.from(instrument(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const connections = new CachedConnectionStore(new DynamoConnectionStore(db, settings.tables.connections));
  const subscriptions = new DynamoSubscriptionStore(db, settings.tables.subscriptions);
  const management = instrument(new ApiGatewayManagementApiClient({ endpoint: settings.managementEndpoint }));
  const notifier = new ApiGatewayNotifier(
    management,
    async (connectionId) => {
      await Promise.all([connections.delete(connectionId), subscriptions.removeAllFor(connectionId)]);
      metrics.add(METRICS.goneConnectionsPruned, 1, 'Count');
    },
    options.logger,
  );
  return {
    settings,
    registry: options.registry,
    connections,
    requests: new DynamoRequestStore(db, settings.tables.requests),
    subscriptions,
    notifier,
    dispatcher: settings.workerFunction && options.dispatcher ? options.dispatcher(settings.workerFunction, instrument) : unavailableDispatcher,
    verifier: new TokenVerifier(readAuthSettings(env)),
    rateLimiter: settings.tables.rateLimits
      ? new SharedRateLimiter(new DynamoRateLimitStore(db, settings.tables.rateLimits), settings.rateLimits)
      : new InMemoryRateLimiter(settings.rateLimits),
    clock: systemClock,
    newId: ulid,
    logger: options.logger,
    metrics,
  };
}
