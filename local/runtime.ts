/**
 * The local runtime: the AWS services Streamer uses, emulated on one machine
 * around the very function bundles that deploy to Lambda.
 *
 *   HTTP + WebSocket on one port   API Gateway WebSocket API (routes, limits),
 *                                  the @connections management API,
 *                                  the Lambda Invoke API, local-only extras
 *   DynamoDB Local (Java)          the tables of ALL_TABLES, with streams and TTL
 *   stream poller + mapping        the requests stream → processor event source mapping
 *   schedule                       the EventBridge lease-sweep rule
 *   TTL sweeper                    DynamoDB's expiry, which DynamoDB Local lacks
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { REQUEST_STREAM_MAPPING, REQUESTS_TABLE, WEBSOCKET_LIMITS } from '../functions/core/cloud-shapes';
import { handleConnectionsApi, isConnectionsPath } from './connections-api';
import { DeadLetterFile } from './dead-letters';
import { EmfMetrics } from './emf-metrics';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { StreamEventSourceMapping } from './event-source-mapping';
import { functionEnvironment } from './function-environment';
import { createFunctionOutput } from './function-output';
import { functionArn, interimFunctionSpecs, physicalFunctionName } from './interim-function-specs';
import { LambdaContainers } from './lambda-containers';
import { sendJson } from './http-responses';
import { handleInvokeApi, isInvokePath } from './lambda-invoke-api';
import type { LocalRuntimeOptions } from './local-config';
import { handleLocalEndpoint } from './local-endpoints';
import { createLogger, describeError, type Logger } from './log';
import { Schedule } from './schedule';
import { DynamoDbStreamPoller } from './stream-poller';
import { ensureTables, type LocalTable } from './tables';
import { TtlSweeper } from './ttl-sweeper';
import { WebSocketGateway } from './websocket-gateway';

export interface RunningLocalRuntime {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly dynamodbEndpoint: string;
  readonly tables: readonly LocalTable[];
  /** The functions' metrics, aggregated from their EMF output (`GET /metrics`). */
  readonly metrics: EmfMetrics;
  /** Milliseconds from `bootLocalRuntime` to ready. */
  readonly startupMs: number;
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
    const [listening, starting] = await Promise.allSettled([
      listen(server, options.port, options.host),
      startDynamoDbLocal({ persistDir: options.persistDir, log: log.child('dynamodb') }),
    ]);
    if (starting.status === 'fulfilled') stops.push(['DynamoDB Local', () => starting.value.stop()]);
    if (listening.status === 'fulfilled') stops.push(['HTTP server', () => closeServer(server)]);
    if (listening.status === 'rejected') throw listening.reason;
    if (starting.status === 'rejected') throw starting.reason;
    const port = listening.value;
    const dynamodb: DynamoDbLocal = starting.value;

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

    const tables = await ensureTables(dynamodbClient);
    const environment = functionEnvironment({ tables, httpEndpoint: httpUrl, dynamodbEndpoint: dynamodb.endpoint, region: options.region });
    const metrics = new EmfMetrics();
    // Each function runs in its own containers with exactly its spec's environment; this process's stays its own.
    const functions = new LambdaContainers({
      functions: interimFunctionSpecs({ functionsDir: options.functionsDir, region: options.region, environment, asyncRetry: options.asyncRetry }),
      localConcurrencyCap: options.asyncConcurrency,
      log: log.child('lambda'),
      onOutput: createFunctionOutput({ metrics, format: options.functionLogFormat }),
    });
    functions.start();
    stops.push(['functions', () => functions.stop()]);

    const gateway = new WebSocketGateway({
      functions,
      routes: { connect: physicalFunctionName('connect'), default: physicalFunctionName('router'), disconnect: physicalFunctionName('disconnect') },
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
      if (isConnectionsPath(url.pathname)) {
        return handleConnectionsApi(gateway, request, response, url.pathname, WEBSOCKET_LIMITS.maxFrameBytes);
      }
      if (isInvokePath(url.pathname)) return handleInvokeApi(functions, request, response, url.pathname, options.region);
      const context = { gateway, deadLetters, metrics, dashboardDir: options.dashboardDir, wsUrl: () => wsUrl };
      if (handleLocalEndpoint(context, request, response, url)) return;
      sendJson(response, 404, { message: 'Not Found' });
    };
    server.on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
    stops.push(['WebSocket gateway', () => gateway.close()]);

    const requestsTable = tables.find((table) => table.shape === REQUESTS_TABLE);
    if (!requestsTable?.streamArn) throw new Error(`${REQUESTS_TABLE.logicalName} table has no stream in DynamoDB Local`);
    const ttl = new TtlSweeper({ client: dynamodbClient, tables, intervalMs: options.ttlSweepMs, log: log.child('ttl') });
    const processorArn = functionArn('processor', options.region);
    const mapping = new StreamEventSourceMapping({
      mapping: REQUEST_STREAM_MAPPING,
      functionArn: processorArn,
      invoke: (event) => functions.invoke(processorArn, event),
      deadLetters,
      retryDelayMs: (retry) => Math.min(5000, options.streamRetryMs * 2 ** (retry - 1)),
      log: log.child('streams'),
    });
    const poller = new DynamoDbStreamPoller({
      client: streamsClient,
      streamArn: requestsTable.streamArn,
      region: options.region,
      startingPosition: REQUEST_STREAM_MAPPING.startingPosition,
      consumer: mapping,
      pollIntervalMs: options.streamPollMs,
      wasDeletedByTtl: (keys) => ttl.wasDeletedByTtl(requestsTable.name, keys),
      log: log.child('streams'),
    });
    await poller.start();
    stops.push(['event source mapping', () => mapping.stop()]);
    stops.push(['stream poller', () => poller.stop()]);

    const schedule = new Schedule(options.sweepIntervalMs, (event) => functions.invokeAsync(processorArn, event), options.region);
    schedule.start();
    stops.push(['schedule', () => schedule.stop()]);
    ttl.start();
    stops.push(['TTL sweeper', () => ttl.stop()]);

    let stopping: Promise<void> | undefined;
    return {
      port,
      httpUrl,
      wsUrl,
      dynamodbEndpoint: dynamodb.endpoint,
      tables,
      metrics,
      startupMs: Date.now() - started,
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
