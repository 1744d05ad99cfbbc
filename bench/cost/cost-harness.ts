/**
 * The real core lifecycle, in this process, on a real DynamoDB Local, with
 * counters where AWS would bill: the router's `routeMessage`, the stream
 * consumer's `claimAndDispatch`, the worker's `runClaimedRequest`, and
 * `$connect`/`$disconnect`. Settings are the functions' defaults
 * (`readRuntimeSettings`), so leases, cancel polls, heartbeats and
 * rate-limit token leases run as deployed. Each job comes from a new
 * connection (its first request leases that connection's tokens).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import * as z from 'zod';
import { defineHandler, pause } from '../../functions/core';
import { TokenVerifier } from '../../functions/core/auth/verify-token';
import { systemClock } from '../../functions/core/clock';
import { HandlerRegistry } from '../../functions/core/handlers/handler-registry';
import { claimAndDispatch } from '../../functions/core/lifecycle/claim-and-dispatch';
import { authorizeConnection, closeConnection, openConnection } from '../../functions/core/lifecycle/connection-lifecycle';
import type { Identity } from '../../functions/core/identity';
import type { StreamerDeps } from '../../functions/core/lifecycle/deps';
import { InMemoryRateLimiter, SharedRateLimiter } from '../../functions/core/lifecycle/rate-limiter';
import { routeMessage } from '../../functions/core/lifecycle/route-message';
import { noMetrics, silentLogger } from '../../functions/core/observability';
import { ENV, readRuntimeSettings } from '../../functions/core/runtime-env';
import { CachedConnectionStore } from '../../functions/core/stores/cached-connection-store';
import { DynamoConnectionStore } from '../../functions/core/stores/connection-store';
import { DynamoRateLimitStore } from '../../functions/core/stores/rate-limit-store';
import { DynamoRequestStore } from '../../functions/core/stores/request-store';
import { DynamoSubscriptionStore } from '../../functions/core/stores/subscription-store';
import { DynamoIdempotencyStore } from '../../functions/core/stores/idempotency-store';
import { DynamoProgressLogStore } from '../../functions/core/stores/progress-log-store';
import { mintDevToken } from '../../local/dev-token';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local';
import { ensureTables, type LocalTable } from '../../local/tables';
import { CountingDispatcher, CountingNotifier, type DynamoCall, DynamoCallCounter, type PostedMessage, postedMessage } from './counting';

const SECRET = 'bench-cost-secret';

/** The job whose cost is counted: `reports` progress reports, `gapMs` apart, then a small result. */
export const PROGRESS_JOB = defineHandler({
  name: 'bench_progress',
  description: 'Reports progress `reports` times, `gapMs` apart (benchmark only).',
  payload: z.object({ reports: z.number().int().min(1).max(10_000), gapMs: z.number().int().min(0).max(10_000) }),
  shouldQueue: () => true,
  async process({ payload, progress, signal }) {
    const began = Date.now();
    for (let i = 1; i <= payload.reports; i++) {
      progress.report(i / payload.reports, `Step ${i} of ${payload.reports}`);
      if (payload.gapMs > 0) await pause(payload.gapMs, signal);
    }
    return { reports: payload.reports, handlerMs: Date.now() - began };
  },
});

export interface LambdaRun {
  /** `processor (direct)`: the invocation the router's direct dispatch starts (claim, then run). */
  readonly fn: 'router' | 'processor (stream)' | 'processor (worker)' | 'processor (direct)' | 'connect' | 'disconnect';
  readonly ms: number;
}

export interface CountedRun {
  readonly dynamo: DynamoCall[];
  readonly posted: PostedMessage[];
  /** The router's replies, sent by API Gateway as the `$default` route response (billed as messages, no PostToConnection). */
  readonly routeResponses: PostedMessage[];
  readonly lambda: LambdaRun[];
  readonly streamRecords: number;
  readonly streamRecordsPassingFilter: number;
  readonly handlerMs: number;
}

export interface JobOptions {
  /**
   * The router starts the job itself (`streamer:directDispatch`); the stream
   * record then reaches a request already claimed (a failed conditional write).
   * Default: off, the stream starts the job.
   */
  readonly directDispatch?: boolean;
}

export interface CostHarness {
  runJob(reports: number, gapMs: number, options?: JobOptions): Promise<CountedRun>;
  connectAndDisconnect(): Promise<CountedRun>;
  stop(): Promise<void>;
}

export async function startCostHarness(): Promise<CostHarness> {
  const db: DynamoDbLocal = await startDynamoDbLocal();
  const awsConfig = { endpoint: db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const client = new DynamoDBClient(awsConfig);
  const streams = new DynamoDBStreamsClient(awsConfig);
  try {
    const tables: LocalTable[] = await ensureTables(client);
    const nameOf = (logical: string): string => tables.find((t) => t.shape?.logicalName === logical)!.name;
    const shortName = (physical: string): string => tables.find((t) => t.name === physical)?.shape?.logicalName ?? physical;
    // The same client options as composeDeps.
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
    const counter = new DynamoCallCounter(doc, shortName);
    const settings = readRuntimeSettings({
      [ENV.connectionsTable]: nameOf('connections'),
      [ENV.requestsTable]: nameOf('requests'),
      [ENV.subscriptionsTable]: nameOf('subscriptions'),
      [ENV.rateLimitsTable]: nameOf('rate-limits'),
      [ENV.idempotencyKeysTable]: nameOf('idempotency-keys'),
      [ENV.progressLogTable]: nameOf('progress-log'),
      [ENV.managementEndpoint]: 'https://example.execute-api.us-east-1.amazonaws.com/prod',
      [ENV.workerFunction]: 'streamer-processor',
      [ENV.resultsBucket]: 'streamer-results',
    });
    const notifier = new CountingNotifier();
    const dispatcher = new CountingDispatcher();
    const deps: StreamerDeps = {
      settings,
      registry: new HandlerRegistry([PROGRESS_JOB]),
      connections: new CachedConnectionStore(new DynamoConnectionStore(doc, settings.tables.connections)),
      requests: new DynamoRequestStore(doc, settings.tables.requests),
      subscriptions: new DynamoSubscriptionStore(doc, settings.tables.subscriptions),
      idempotency: new DynamoIdempotencyStore(doc, settings.tables.idempotencyKeys),
      progressLog: new DynamoProgressLogStore(doc, settings.tables.progressLog),
      notifier,
      // The costed job's results fit in a message: the bucket is never reached.
      objects: {
        put: unreachable, read: unreachable, signGet: unreachable, signPut: unreachable,
      },
      dispatcher,
      verifier: new TokenVerifier({ kind: 'secret', secret: SECRET }),
      // As composeDeps wires it: shared buckets when the rate-limits table is configured (it is on AWS and locally).
      rateLimiter: settings.tables.rateLimits
        ? new SharedRateLimiter(new DynamoRateLimitStore(doc, settings.tables.rateLimits), settings.rateLimits)
        : new InMemoryRateLimiter(settings.rateLimits),
      clock: systemClock,
      newId: ulid,
      logger: silentLogger,
      metrics: noMetrics,
    };
    dispatcher.deps = deps;
    // The router's view with direct dispatch on: the same parts, the one setting changed.
    const directDeps: StreamerDeps = { ...deps, settings: { ...settings, directDispatch: true } };
    const offDeps: StreamerDeps = { ...deps, settings: { ...settings, directDispatch: false } };
    const requestsStream = tables.find((t) => t.shape?.logicalName === 'requests')!.streamArn!;
    const token = mintDevToken({ sub: 'cost', tenant: 'bench', secret: SECRET });
    let sequence = 0;

    const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
      const began = performance.now();
      const value = await work();
      return { value, ms: performance.now() - began };
    };
    const reset = (): void => {
      counter.reset();
      notifier.reset();
      dispatcher.reset();
    };
    const open = async (connectionId: string): Promise<{ ms: number; identity: Identity }> => {
      // The authorizer verifies the token, then connect stores the record: together what a handshake costs.
      const opened = await timed(async () => {
        const authorized = await authorizeConnection(deps, { queryStringParameters: { token } });
        if (!authorized.allowed) throw new Error(`cost harness: connect refused (${authorized.reason})`);
        await openConnection(deps, { connectionId, identity: authorized.identity });
        return authorized.identity;
      });
      return { ms: opened.ms, identity: opened.value };
    };

    return {
      async runJob(reports, gapMs, options = {}) {
        const routerDeps = options.directDispatch ? directDeps : offDeps;
        const connectionId = `cost-${++sequence}`;
        const { identity } = await open(connectionId);
        reset();
        const clientId = `job-${sequence}`;
        const routed = await timed(() =>
          routeMessage(routerDeps, {
            connectionId,
            // What API Gateway hands the router from the $connect authorizer: no connection read.
            identity,
            // As the client SDK sends every request: with an idempotency key (claimed with one conditional put).
            body: JSON.stringify({ id: clientId, action: PROGRESS_JOB.name, payload: { reports, gapMs }, idempotencyKey: `cost-key-${sequence}` }),
            remainingTimeMs: 30_000,
          }),
        );
        const reply = routed.value;
        const routeResponses = reply === undefined ? [] : [postedMessage(connectionId, reply)];
        const ack = (reply?.type === 'ack' ? reply : notifier.messages.find((m) => m.type === 'ack')) as { requestId?: string } | undefined;
        if (!ack?.requestId) throw new Error(`cost harness: no ack (${JSON.stringify(reply ?? notifier.messages)})`);
        // With direct dispatch the router's invoke has started the job; the stream's record arrives after
        // its claim (hundreds of ms on AWS), so the stream consumer's claim is the failed conditional write.
        if (options.directDispatch) await dispatcher.idle();
        // The event source mapping delivers the INSERT record (status queued) to the processor.
        const consumed = await timed(() => claimAndDispatch(deps, [{ requestId: ack.requestId!, sequenceNumber: String(sequence) }]));
        await dispatcher.idle();
        const result = notifier.messages.find((m) => m.type === 'result') as { data?: { handlerMs?: number } } | undefined;
        if (!result) throw new Error(`cost harness: the job did not complete (${JSON.stringify(notifier.messages.at(-1))})`);
        const records = await streamRecordsOf(streams, requestsStream, ack.requestId);
        const run: CountedRun = {
          dynamo: [...counter.calls],
          posted: [...notifier.posted],
          routeResponses,
          lambda: [
            { fn: 'router', ms: routed.ms },
            { fn: 'processor (stream)', ms: consumed.ms },
            ...dispatcher.runs.map((r) => ({
              fn: r.event === 'streamer.claim' ? ('processor (direct)' as const) : ('processor (worker)' as const),
              ms: r.ms ?? Number.NaN,
            })),
          ],
          streamRecords: records.all,
          streamRecordsPassingFilter: records.queued,
          handlerMs: result.data?.handlerMs ?? 0,
        };
        await closeConnection(deps, connectionId);
        return run;
      },

      async connectAndDisconnect() {
        const connectionId = `cost-conn-${++sequence}`;
        reset();
        const { ms: connectMs } = await open(connectionId);
        const closed = await timed(() => closeConnection(deps, connectionId));
        return {
          dynamo: [...counter.calls],
          posted: [...notifier.posted],
          routeResponses: [],
          lambda: [
            { fn: 'connect', ms: connectMs },
            { fn: 'disconnect', ms: closed.ms },
          ],
          streamRecords: 0,
          streamRecordsPassingFilter: 0,
          handlerMs: 0,
        };
      },

      async stop() {
        client.destroy();
        streams.destroy();
        await db.stop();
      },
    };
  } catch (error) {
    client.destroy();
    streams.destroy();
    await db.stop();
    throw error;
  }
}

/** Reads the requests table's stream (as Lambda's poller would) and counts this request's records. */
async function streamRecordsOf(streams: DynamoDBStreamsClient, streamArn: string, requestId: string): Promise<{ all: number; queued: number }> {
  let all = 0;
  let queued = 0;
  const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  for (const shard of description.StreamDescription?.Shards ?? []) {
    let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    // An open shard always hands back a next iterator: stop at the first empty page (bounded).
    for (let page = 0; iterator && page < 1000; page++) {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const records = out.Records ?? [];
      for (const record of records) {
        if (record.dynamodb?.Keys?.request_id?.S !== requestId) continue;
        all++;
        if (record.dynamodb.NewImage?.status?.S === 'queued') queued++;
      }
      if (records.length === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return { all, queued };
}

function unreachable(): never {
  throw new Error('the cost harness has no results bucket: its job returns small results');
}
