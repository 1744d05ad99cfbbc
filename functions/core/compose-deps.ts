/**
 * The composition root: builds, once per container, exactly the parts the
 * function declares (`function-declarations.ts`): the stores of its tables,
 * the notifier when it may post to connections, the dispatcher when it may
 * invoke the worker, the verifier when it holds the token key. A part it does
 * not declare is a stand-in that throws `UndeclaredCapabilityError` when
 * used, so nothing reaches past the function's environment and role.
 * Endpoints come from the AWS SDK's own configuration (`AWS_ENDPOINT_URL_*`),
 * so the same code talks to AWS or to the local runtime.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { deliveryText } from './notify/encode-for-delivery';
import type { ObjectStore } from './stores/object-store';
import { ulid } from 'ulid';
import type { StoredTokenKeys } from './auth/stored-token-keys';
import { readAuthSettings, TokenVerifier } from './auth/verify-token';
import { systemClock } from './clock';
import type { WorkDispatcher } from './dispatcher';
import type { HandlerRegistry } from './handlers/handler-registry';
import type { StreamerDeps } from './lifecycle/deps';
import { SharedRateLimiter } from './lifecycle/rate-limiter';
import { DynamoRateLimitStore } from './stores/rate-limit-store';
import { ApiGatewayNotifier } from './notify/notifier';
import { noMetrics, uninstrumented, type InstrumentClient, type Logger, type Metrics } from './observability';
import { readRuntimeSettings } from './runtime-env';
import { ConfigurationError, UndeclaredCapabilityError } from './configuration-error';
import { ENV } from './env-names';
import { declaredEnv, hasCapability, tablesOf, type CapabilityKind, type FunctionName, type TableName } from './function-declarations';
import { CachedConnectionStore } from './stores/cached-connection-store';
import { DynamoConnectionStore } from './stores/connection-store';
import { DynamoIdempotencyStore } from './stores/idempotency-store';
import { DynamoProgressLogStore } from './stores/progress-log-store';
import { DynamoRequestStore } from './stores/request-store';
import { DynamoSubscriptionStore } from './stores/subscription-store';
import { METRICS } from './metric-names';

export interface ComposeOptions {
  /** The function being composed: its declaration decides what is built. */
  readonly functionName: FunctionName;
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
  /**
   * Builds the results bucket's store. Only the router and the processor
   * pass one (`s3ObjectStore`), so the other bundles leave the S3 client out.
   */
  readonly objectStore?: (bucket: string, urlTtlSeconds: number, instrumentClient: InstrumentClient) => ObjectStore;
  /**
   * Builds the reader of the stored HS256 key set. Only the authorizer passes one
   * (`ssmTokenKeys`), so the other bundles leave the SSM client out.
   */
  readonly tokenKeys?: (parameterName: string, refreshSeconds: number, instrumentClient: InstrumentClient) => StoredTokenKeys;
}

/**
 * A stand-in for a part the function does not declare: any use throws.
 * (`then` answers undefined so that awaiting the object itself stays harmless.)
 */
function undeclared<T extends object>(functionName: FunctionName, what: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      if (property === 'then' || typeof property === 'symbol') return undefined;
      throw new UndeclaredCapabilityError(functionName, what);
    },
  });
}

export function composeDeps(options: ComposeOptions): StreamerDeps {
  const fn = options.functionName;
  const env = options.env ?? process.env;
  const settings = readRuntimeSettings(env, { functionName: fn, variables: declaredEnv(fn) });
  const instrument = options.instrumentClient ?? uninstrumented;
  const metrics = options.metrics ?? noMetrics;
  const tables = new Set<TableName>(tablesOf(fn));
  const declares = (kind: CapabilityKind): boolean => hasCapability(fn, kind);
  const part = <T extends object>(declared: boolean, what: string, build: () => T): T => (declared ? build() : undeclared<T>(fn, what));

  // The document client shares the base client's middleware stack, so instrumenting the base traces both.
  const db =
    tables.size > 0
      ? DynamoDBDocumentClient.from(instrument(new DynamoDBClient({})), {
          marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
        })
      : undefined;
  const connections = part(tables.has('connections'), 'the connections table', () =>
    new CachedConnectionStore(new DynamoConnectionStore(db!, settings.tables.connections)));
  const subscriptions = part(tables.has('subscriptions'), 'the subscriptions table', () =>
    new DynamoSubscriptionStore(db!, settings.tables.subscriptions));
  const objects = part<ObjectStore>(declares('resultsBucket') && options.objectStore !== undefined, 'the results bucket', () =>
    options.objectStore!(settings.resultsBucket.name, settings.resultsBucket.urlTtlSeconds, instrument));
  const notifier = part(declares('managementApi'), 'the @connections management API', () =>
    new ApiGatewayNotifier(
      instrument(new ApiGatewayManagementApiClient({ endpoint: settings.managementEndpoint })),
      async (connectionId) => {
        await Promise.all([connections.delete(connectionId), subscriptions.removeAllFor(connectionId)]);
        metrics.add(METRICS.goneConnectionsPruned, 1, 'Count');
      },
      options.logger,
      // Every message leaves through the one encoder: a result over the limit goes by reference, progress is truncated by rule.
      (message) => deliveryText(message, { objects, logger: options.logger }),
    ));
  const dispatcher = part(declares('workerDispatch') && options.dispatcher !== undefined, 'the worker dispatch', () =>
    options.dispatcher!(settings.workerFunction ?? missingWorkerFunction(), instrument));
  return {
    settings,
    registry: options.registry,
    connections,
    requests: part(tables.has('requests'), 'the requests table', () => new DynamoRequestStore(db!, settings.tables.requests)),
    subscriptions,
    idempotency: part(tables.has('idempotency-keys'), 'the idempotency-keys table', () =>
      new DynamoIdempotencyStore(db!, settings.tables.idempotencyKeys)),
    progressLog: part(tables.has('progress-log'), 'the progress-log table', () => new DynamoProgressLogStore(db!, settings.tables.progressLog)),
    notifier,
    objects,
    dispatcher,
    verifier: part(declares('tokenKey'), 'the token key', () => {
      const auth = readAuthSettings(env);
      if (auth.kind !== 'secretParameter') return new TokenVerifier(auth);
      if (options.tokenKeys === undefined) throw new ConfigurationError(`${ENV.jwtSecretParameter} is set, but this entry point reads no stored token key`);
      return new TokenVerifier(auth, { storedKeys: options.tokenKeys(auth.parameterName, auth.refreshSeconds, instrument) });
    }),
    rateLimiter: tables.has('rate-limits')
      ? new SharedRateLimiter(new DynamoRateLimitStore(db!, settings.tables.rateLimits!), settings.rateLimits)
      : undeclared(fn, 'the rate-limits table'),
    clock: systemClock,
    newId: ulid,
    logger: options.logger,
    metrics,
  };
}

function missingWorkerFunction(): never {
  throw new ConfigurationError(`${ENV.workerFunction} is not set (the function the processor dispatches claimed requests to)`);
}
