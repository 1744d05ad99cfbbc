/**
 * The local runtime: the deployment that `pulumi up` would create, rendered
 * by synth into a manifest (`dist/deployment.json`), run on one machine.
 * Everything it runs comes from the manifest: the tables, each function's
 * code, handler, exact environment, memory, timeout and role, the routes,
 * the stream mapping and the schedules. What it cannot emulate it names at
 * start-up.
 *
 *   HTTP + WebSocket on one port   API Gateway WebSocket API (routes, limits),
 *                                  the @connections management API,
 *                                  the Lambda Invoke API, local-only extras
 *   DynamoDB front (IAM-checked)   every call signed and authorized, then
 *   DynamoDB Local (Java)          the real engine, with streams; TTL swept here
 *   S3 (IAM-checked, in memory)    the manifest's buckets: objects, presigned URLs, CORS, lifecycle
 *   Lambda containers              one worker thread per concurrent invocation
 *   stream poller + mapping        the manifest's event source mapping
 *   schedule                       the manifest's EventBridge rules
 *
 * Every AWS call a function makes is checked against its role's policies
 * (`local-iam.ts`): a grant missing from the stack fails here as on AWS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { WEBSOCKET_LIMITS } from '../functions/core/aws-limits';
import { handleConnectionsApi, isConnectionsPath } from './connections-api';
import { DeadLetterFile, type DeadLetterSink } from './dead-letters';
import { deploymentFromManifest, type LocalDeployment, readManifest, routeTarget } from './deployment';
import { devJwtSecret, usesDevelopmentSecret } from './dev-token';
import { answerClientError } from './http-client-errors';
import { startDynamoDbGateway } from './dynamodb-gateway';
import { type DynamoDbLocalLostError, SupervisedDynamoDbLocal } from './dynamodb-local-supervisor';
import { EmfMetrics } from './emf-metrics';
import { StreamEventSourceMapping } from './event-source-mapping';
import { containerEnvironment } from './function-environment';
import { createFunctionOutput } from './function-output';
import { sendJson } from './http-responses';
import { reloadOnCodeChange } from './code-reloader';
import { LambdaContainers, type LambdaFunctionSpec } from './lambda-containers';
import { handleInvokeApi, isInvokePath } from './lambda-invoke-api';
import type { LocalRuntimeOptions } from './local-config';
import { handleLocalEndpoint } from './local-endpoints';
import { LocalIam } from './local-iam';
import { createLogger, describeError, type Logger } from './log';
import { startS3Api, type RunningS3Api } from './s3-api';
import { startParameterStore, type RunningParameterStore } from './parameter-store';
import { Schedule } from './schedule';
import { DynamoDbStreamPoller } from './stream-poller';
import { ensureDeployedTables, type LocalTable } from './tables';
import { TtlSweeper } from './ttl-sweeper';
import { WebSocketGateway } from './websocket-gateway';

/** The actions Lambda's stream poller performs with the function's role (checked when the mapping starts, as AWS does). */
const STREAM_POLLER_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];

/** Thrown when the deployment cannot run as rendered (AWS would refuse it too). */
export class DeploymentNotRunnableError extends Error {
  override readonly name = 'DeploymentNotRunnableError';
}

export interface RunningLocalRuntime {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly dynamodbEndpoint: string;
  readonly tables: readonly LocalTable[];
  /** What runs: the manifest's deployment. */
  readonly deployment: LocalDeployment;
  readonly iam: LocalIam;
  /** The emulated S3 (the manifest's buckets): its endpoint and objects. */
  readonly s3: RunningS3Api;
  /** SSM Parameter Store (the token key), as the functions reach it. */
  readonly parameters: RunningParameterStore;
  /** The functions' metrics, aggregated from their EMF output (`GET /metrics`). */
  readonly metrics: EmfMetrics;
  /** Milliseconds from `bootLocalRuntime` to ready. */
  readonly startupMs: number;
  /**
   * Settles (never rejects) when the runtime can no longer serve: DynamoDB
   * Local died with its tables in memory, or could not be restarted. The
   * cause is already logged; the owner should stop the runtime (`npm start`
   * exits non-zero).
   */
  readonly lost: Promise<DynamoDbLocalLostError>;
  stop(): Promise<void>;
}

export async function bootLocalRuntime(options: LocalRuntimeOptions, log: Logger = createLogger(options.logLevel)): Promise<RunningLocalRuntime> {
  const started = Date.now();
  // Shutdown steps, run in reverse order of start-up.
  const stops: Array<[string, () => Promise<void> | void]> = [];
  const stopAll = async (): Promise<void> => {
    for (const [name, stop] of stops.splice(0).reverse()) {
      const began = Date.now();
      try {
        await stop();
        log.debug(`stopped ${name} in ${Date.now() - began} ms`);
      } catch (error) {
        log.warn(`stopping ${name} failed: ${describeError(error)}`);
      }
    }
  };

  try {
    // The port must be known before the functions' environment is set (it names the endpoints),
    // so listen first and answer 503 until everything is wired.
    let handleRequest: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) =>
      sendJson(response, 503, { message: 'Streamer local runtime is starting' });
    const server = createServer((request, response) => handleRequest(request, response));
    server.on('clientError', answerClientError);
    const [listening, starting] = await Promise.allSettled([
      listen(server, options.port, options.host),
      SupervisedDynamoDbLocal.start({ persistDir: options.persistDir, log: log.child('dynamodb') }),
    ]);
    if (starting.status === 'fulfilled') stops.push(['DynamoDB Local', () => starting.value.stop()]);
    if (listening.status === 'fulfilled') stops.push(['HTTP server', () => closeServer(server)]);
    if (listening.status === 'rejected') throw listening.reason;
    if (starting.status === 'rejected') throw starting.reason;
    const port = listening.value;
    const dynamodb = starting.value;

    const httpUrl = `http://${options.host}:${port}`;
    const wsUrl = `ws://${options.host}:${port}`;
    const awsConfig = {
      region: options.region,
      endpoint: dynamodb.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    const dynamodbClient = new DynamoDBClient(awsConfig);
    const streamsClient = new DynamoDBStreamsClient(awsConfig);
    stops.push(['AWS clients', () => {
      dynamodbClient.destroy();
      streamsClient.destroy();
    }]);

    const deployment = deploymentFromManifest(readManifest(options.manifestFile), options.projectDir);
    if (deployment.notEmulated.length > 0) log.warn(`not emulated locally: ${summarizeByType(deployment.notEmulated)}`);
    if (!deployment.api.twoWayRoutes.includes('$default')) {
      log.warn('the $default route has no route response: as on AWS, what the router returns is dropped, so clients hear only what it posts');
    }
    const tables = await ensureDeployedTables(dynamodbClient, deployment.tables);
    const iam = new LocalIam(deployment, log.child('iam'), options.iamUsageFile);
    const dynamodbFront = await startDynamoDbGateway({
      iam,
      upstream: dynamodb.endpoint,
      region: deployment.region,
      accountId: deployment.accountId,
      host: options.host,
      upstreamUnavailability: () => dynamodb.unavailability(),
      log: log.child('dynamodb'),
    });
    stops.push(['DynamoDB front', () => dynamodbFront.stop()]);
    const s3 = await startS3Api({ iam, buckets: deployment.buckets, host: options.host, lifecycleSweepMs: options.ttlSweepMs, log: log.child('s3') });
    stops.push(['S3', () => s3.stop()]);
    const secrets = { 'streamer:jwtSecret': devJwtSecret(process.env) };
    const parameters = await startParameterStore({
      deployment,
      iam,
      secrets,
      developmentSecret: devJwtSecret(process.env),
      host: options.host,
      log: log.child('ssm'),
    });
    stops.push(['SSM Parameter Store', () => parameters.stop()]);

    const metrics = new EmfMetrics();
    // Each function runs in its own containers with exactly its environment; this process's stays its own.
    const functions = new LambdaContainers({
      functions: functionSpecs(deployment, options, {
        iam,
        dynamodbEndpoint: dynamodbFront.endpoint,
        s3Endpoint: s3.endpoint,
        ssmEndpoint: parameters.endpoint,
        httpEndpoint: httpUrl,
        secrets,
      }),
      localConcurrencyCap: options.asyncConcurrency,
      containerNiceness: options.containerNiceness,
      log: log.child('lambda'),
      onOutput: createFunctionOutput({ metrics, format: options.functionLogFormat }),
    });
    functions.start();
    stops.push(['functions', () => functions.stop()]);
    if (options.reloadFunctions) {
      const reloader = reloadOnCodeChange(functions, deployment.functions.map((fn) => functions.specOf(fn.name)!), log.child('reload'));
      stops.push(['code reloader', () => reloader.stop()]);
    }

    const routeFunction = (routeKey: string): string => {
      const target = routeTarget(deployment, routeKey);
      if (!target) throw new DeploymentNotRunnableError(`the deployment has no ${routeKey} route`);
      return target.name;
    };
    const connectAuthorizer = deployment.api.routeAuthorizers.$connect;
    const gateway = new WebSocketGateway({
      functions,
      routes: { connect: routeFunction('$connect'), default: routeFunction('$default'), disconnect: routeFunction('$disconnect') },
      api: { id: deployment.api.id, stage: deployment.api.stage, region: deployment.region, accountId: deployment.accountId },
      ...(connectAuthorizer && { connectAuthorizer: { functionName: connectAuthorizer.functionName, identitySources: connectAuthorizer.identitySources } }),
      defaultRouteResponse: deployment.api.twoWayRoutes.includes('$default'),
      limits: {
        maxFrameBytes: WEBSOCKET_LIMITS.maxFrameBytes,
        idleTimeoutMs: options.idleTimeoutMs,
        maxConnectionDurationMs: options.maxConnectionDurationMs,
      },
      log: log.child('gateway'),
    });

    const deadLetters = new DeadLetterFile(join(options.dataDir, 'dead-letters.jsonl'));
    if (!options.persistDir) deadLetters.reset();

    handleRequest = (request, response) => {
      route(request, response).catch((error: unknown) => {
        log.error(`${request.method} ${request.url} failed: ${describeError(error)}`);
        if (!response.headersSent) sendJson(response, 500, { message: 'Internal server error' });
        else response.destroy();
      });
    };
    const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
      const url = new URL(request.url ?? '/', httpUrl);
      if (isConnectionsPath(url.pathname)) return handleConnectionsApi(gateway, request, response, url.pathname, { iam, api: deployment.api, region: deployment.region, accountId: deployment.accountId });
      if (isInvokePath(url.pathname)) return handleInvokeApi(functions, request, response, url.pathname, { iam, region: deployment.region, accountId: deployment.accountId });
      const context = {
        gateway,
        deadLetters,
        metrics,
        dashboardDir: options.dashboardDir,
        wsUrl: () => wsUrl,
        httpUrl,
        devTokens: usesDevelopmentSecret(process.env),
        parameters,
        unavailability: () => dynamodb.unavailability(),
        functionStats: () => Object.fromEntries(deployment.functions.map((fn) => [fn.name, functions.stats(fn.name)!])),
        dynamodbCalls: () => dynamodbFront.calls(),
      };
      if (handleLocalEndpoint(context, request, response, url)) return;
      sendJson(response, 404, { message: 'Not Found' });
    };
    server.on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
    stops.push(['WebSocket gateway', () => gateway.close()]);

    const ttl = new TtlSweeper({ client: dynamodbClient, tables, intervalMs: options.ttlSweepMs, log: log.child('ttl') });
    for (const mappingSpec of deployment.streamMappings) {
      const table = tables.find((candidate) => candidate.name === mappingSpec.tableName);
      if (!table?.streamArn) throw new DeploymentNotRunnableError(`table ${mappingSpec.tableName} has no stream in DynamoDB Local`);
      const target = functions.specOf(mappingSpec.functionName);
      if (!target) throw new DeploymentNotRunnableError(`the stream mapping targets unknown function ${mappingSpec.functionName}`);
      assertPollerMayRead(iam, mappingSpec.functionName, mappingSpec.eventSourceArn);
      assertFilterPatternsAccepted(mappingSpec.filterPatterns);
      const mapping = new StreamEventSourceMapping({
        mapping: mappingSpec,
        functionArn: target.arn,
        invoke: (event) => functions.invoke(target.arn, event),
        deadLetters: deadLetterSink(deadLetters, iam, mappingSpec.functionName, mappingSpec.onFailureDestinationArn, log),
        retryDelayMs: (retry) => Math.min(5000, options.streamRetryMs * 2 ** (retry - 1)),
        log: log.child('streams'),
      });
      const poller = new DynamoDbStreamPoller({
        client: streamsClient,
        streamArn: table.streamArn,
        eventSourceArn: mappingSpec.eventSourceArn,
        region: deployment.region,
        startingPosition: mappingSpec.startingPosition,
        consumer: mapping,
        pollIntervalMs: options.streamPollMs,
        wasDeletedByTtl: (keys) => ttl.wasDeletedByTtl(table.name, keys),
        sourceUnavailability: () => dynamodb.unavailability(),
        log: log.child('streams'),
      });
      await poller.start();
      stops.push(['event source mapping', () => mapping.stop()]);
      stops.push(['stream poller', () => poller.stop()]);
    }

    for (const rule of deployment.schedules) {
      const target = functions.specOf(rule.functionName)!;
      // EventBridge invokes through the function's resource policy, not a role: no IAM check applies here.
      const schedule = new Schedule(
        options.sweepIntervalMs ?? rule.intervalMs,
        (event) => functions.invokeAsync(target.arn, event),
        { name: rule.ruleName, region: deployment.region, accountId: deployment.accountId },
      );
      schedule.start();
      stops.push([`schedule ${rule.ruleName}`, () => schedule.stop()]);
    }
    ttl.start();
    stops.push(['TTL sweeper', () => ttl.stop()]);

    let stopping: Promise<void> | undefined;
    return {
      port,
      httpUrl,
      wsUrl,
      dynamodbEndpoint: dynamodb.endpoint,
      tables,
      deployment,
      iam,
      s3,
      parameters,
      metrics,
      startupMs: Date.now() - started,
      lost: dynamodb.lost,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface SpecContext {
  readonly iam: LocalIam;
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly ssmEndpoint: string;
  readonly httpEndpoint: string;
  readonly secrets: Readonly<Record<string, string>>;
}

/** Each deployed function as a container spec: its code, its exact environment, its limits. */
function functionSpecs(deployment: LocalDeployment, options: LocalRuntimeOptions, context: SpecContext): LambdaFunctionSpec[] {
  return deployment.functions.map((fn) => ({
    name: fn.name,
    arn: fn.arn,
    // A test may swap the code (fixture bundles) but never the environment or the role.
    codeDir: options.functionsDir ? join(options.functionsDir, fn.codeDir.split(/[\\/]/).at(-1)!) : fn.codeDir,
    handler: fn.handler,
    environment: containerEnvironment(fn, { deployment, credentials: context.iam.credentialsFor(fn.name), ...context }),
    memoryMb: fn.memoryMb,
    timeoutSeconds: fn.timeoutSeconds,
    ...(fn.reservedConcurrency !== undefined && { reservedConcurrency: fn.reservedConcurrency }),
    asyncRetry: { ...options.asyncRetry, maximumRetryAttempts: Math.min(options.asyncRetry.maximumRetryAttempts, fn.asyncInvoke.maximumRetryAttempts) },
  }));
}

/** AWS checks, when a mapping is created, that the function's role may read the stream; so does this. */
function assertPollerMayRead(iam: LocalIam, functionName: string, streamArn: string): void {
  for (const action of STREAM_POLLER_ACTIONS) {
    if (!iam.allows(functionName, action, streamArn)) {
      throw new DeploymentNotRunnableError(
        `InvalidParameterValueException: Cannot access stream ${streamArn}. Please ensure the role can perform the ${action} action on your stream.`,
      );
    }
  }
}

/** AWS documents that DynamoDB mappings filter on the record's `dynamodb` key only. */
function assertFilterPatternsAccepted(patterns: readonly Readonly<Record<string, unknown>>[]): void {
  for (const pattern of patterns) {
    const other = Object.keys(pattern).filter((key) => key !== 'dynamodb');
    if (other.length > 0) {
      throw new DeploymentNotRunnableError(
        `InvalidParameterValueException: the stream filter ${JSON.stringify(pattern)} matches on ${other.join(', ')}; DynamoDB event source mappings filter on the dynamodb key only`,
      );
    }
  }
}

/** Failed batches go to the mapping's destination with the function's role (`sqs:SendMessage`), kept locally in a file. */
function deadLetterSink(file: DeadLetterFile, iam: LocalIam, functionName: string, destinationArn: string | undefined, log: Logger): DeadLetterSink {
  return {
    record: (entry) => {
      if (destinationArn && !iam.allows(functionName, 'sqs:SendMessage', destinationArn)) {
        log.error(`a failed stream batch could not be sent to ${destinationArn}: the role may not sqs:SendMessage; it is lost, as on AWS`);
        return;
      }
      file.record(entry);
    },
  };
}

/** `aws:cloudwatch/metricAlarm:MetricAlarm a`, `… b` → `MetricAlarm ×2 (a, b)`: one readable line at start-up. */
function summarizeByType(resources: readonly string[]): string {
  const byType = new Map<string, string[]>();
  for (const entry of resources) {
    const [type, name] = entry.split(' ') as [string, string];
    const short = type.split(':').at(-1)!;
    byType.set(short, [...(byType.get(short) ?? []), name]);
  }
  return [...byType].map(([type, names]) => `${type} ×${names.length}`).join(', ') + ' (see local/README.md)';
}
