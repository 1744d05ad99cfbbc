/**
 * Runs the core lifecycle against the real DynamoDB Local. Only what is AWS
 * itself is faked: the management API (a recording notifier) and Lambda's
 * async invoke (an in-process dispatcher). Stream delivery is driven by the
 * test, which is how redelivery and crashes are staged.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { TokenVerifier } from '../../functions/core/auth/verify-token';
import { systemClock } from '../../functions/core/clock';
import type { WorkDispatcher, WorkerEvent } from '../../functions/core/dispatcher';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { HandlerRegistry } from '../../functions/core/handlers/handler-registry';
import { claimAndDispatch } from '../../functions/core/lifecycle/claim-and-dispatch';
import { claimAndRunDirectly } from '../../functions/core/lifecycle/direct-dispatch';
import { MemoryObjectStore } from '../support/memory-object-store';
import { encodeForDelivery } from '../../functions/core/notify/encode-for-delivery';
import type { ObjectStore } from '../../functions/core/stores/object-store';
import type { StreamerDeps } from '../../functions/core/lifecycle/deps';
import { InMemoryRateLimiter } from '../../functions/core/lifecycle/rate-limiter';
import { type IncomingFrame, routeMessage } from '../../functions/core/lifecycle/route-message';
import { runClaimedRequest } from '../../functions/core/lifecycle/run-claimed-request';
import type { Notifier, SendOutcome } from '../../functions/core/notify/notifier';
import { silentLogger, type Metrics } from '../../functions/core/observability';
import type { MetricName } from '../../functions/core/metric-names';
import type { ServerMessage } from '../../functions/core/protocol/messages';
import { DEFAULTS, type RuntimeSettings } from '../../functions/core/runtime-env';
import { tenantUserKey } from '../../functions/core/identity-key';
import { DynamoConnectionStore } from '../../functions/core/stores/connection-store';
import { DynamoRequestStore } from '../../functions/core/stores/request-store';
import { DynamoSubscriptionStore } from '../../functions/core/stores/subscription-store';
import { DynamoIdempotencyStore } from '../../functions/core/stores/idempotency-store';
import { DynamoProgressLogStore } from '../../functions/core/stores/progress-log-store';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { ensureTables, localTableName } from '../../local/tables';
import { ALL_TABLES } from '../../functions/core/cloud-shapes';

export class RecordingNotifier implements Notifier {
  /** Every message a connection received, in order: posted, or returned by the router as its route response. */
  readonly sent: Array<{ connectionId: string; message: ServerMessage; via?: 'route-response' }> = [];
  readonly gone = new Set<string>();

  /** With a bucket, messages go through the same encoder as the deployed notifier's. */
  constructor(private readonly objects?: ObjectStore) {}

  async send(connectionId: string, message: ServerMessage): Promise<SendOutcome> {
    if (this.gone.has(connectionId)) return 'gone';
    this.sent.push({ connectionId, message: await encodeForDelivery(message, { objects: this.objects }) });
    return 'sent';
  }

  to(connectionId: string): ServerMessage[] {
    return this.sent.filter((s) => s.connectionId === connectionId).map((s) => s.message);
  }

  finals(requestId: string): ServerMessage[] {
    return this.sent
      .map((s) => s.message)
      .filter((m) => (m.type === 'result' || m.type === 'error') && 'requestId' in m && m.requestId === requestId);
  }
}

/** Every metric data point the core emitted, as the EMF lines would carry them. */
export class RecordingMetrics implements Metrics {
  readonly points: Array<{ name: MetricName; value: number; dimensions: Readonly<Record<string, string>> }> = [];

  add(name: MetricName, value: number, _unit: string, dimensions: Readonly<Record<string, string>> = {}): void {
    this.points.push({ name, value, dimensions });
  }

  /** The points of one metric whose dimensions include these. */
  of(name: MetricName, dimensions: Readonly<Record<string, string>> = {}): Array<{ value: number; dimensions: Readonly<Record<string, string>> }> {
    return this.points.filter((p) => p.name === name && Object.entries(dimensions).every(([key, value]) => p.dimensions[key] === value));
  }
}

/**
 * Routes one frame as API Gateway's two-way `$default` route does: the
 * router's reply (its return value) reaches the connection after whatever it posted.
 */
export async function routeFrame(notifier: RecordingNotifier, deps: StreamerDeps, frame: IncomingFrame): Promise<ServerMessage | undefined> {
  const reply = await routeMessage(deps, frame);
  if (reply !== undefined) notifier.sent.push({ connectionId: frame.connectionId, message: reply, via: 'route-response' });
  return reply;
}

/**
 * Runs each dispatched event in this process, like Lambda's async invoke: a
 * claimed run (`streamer.run`, from the stream consumer) or a direct
 * dispatch (`streamer.claim`, from the router); `runs` keeps their promises.
 */
export class InProcessDispatcher implements WorkDispatcher {
  readonly runs: Promise<void>[] = [];
  readonly events: WorkerEvent[] = [];
  deps!: StreamerDeps;
  /** When false, dispatched runs are recorded but never start (a lost invoke or a crash before start). */
  start = true;
  /** When set, a dispatch fails with it (a throttled or denied invoke), after being recorded. */
  failWith: Error | undefined;

  async dispatch(event: WorkerEvent): Promise<void> {
    this.events.push(event);
    if (this.failWith) throw this.failWith;
    if (!this.start) return;
    this.runs.push(event.type === 'streamer.claim' ? claimAndRunDirectly(this.deps, event, () => 60_000) : runClaimedRequest(this.deps, event, () => 60_000));
  }

  async idle(): Promise<void> {
    for (let seen = 0; seen < this.runs.length; seen = this.runs.length) await Promise.all(this.runs.slice(seen));
  }
}

export interface Harness {
  readonly deps: StreamerDeps;
  /** The document client on DynamoDB Local, for stores a test builds itself. */
  readonly db: DynamoDBDocumentClient;
  /** Physical name of a table (`connections`, `requests`, `subscriptions`, `rate-limits`). */
  tableName(logicalName: string): string;
  readonly notifier: RecordingNotifier;
  readonly objects: MemoryObjectStore;
  readonly dispatcher: InProcessDispatcher;
  readonly metrics: RecordingMetrics;
  connect(connectionId: string, userId?: string, tenantId?: string, permissions?: string[]): Promise<void>;
  send(connectionId: string, frame: object | string): Promise<ServerMessage[]>;
  /** Delivers stream records for these requests (as the event source mapping would), then waits for the runs. */
  deliver(...requestIds: string[]): Promise<void>;
  /** Moves a request's lease into the past, as if its holder stopped renewing it long ago. */
  expireLease(requestId: string): Promise<void>;
  stop(): Promise<void>;
}

let db: DynamoDbLocal | undefined;
let tablesReady: Promise<void> | undefined;

export async function startHarness(handlers: AnyHandler[], overrides: Partial<RuntimeSettings> = {}): Promise<Harness> {
  db ??= await startDynamoDbLocal();
  const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  tablesReady ??= ensureTables(client).then(() => undefined);
  await tablesReady;
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const table = (name: string) => localTableName(ALL_TABLES.find((t) => t.logicalName === name)!);
  const settings: RuntimeSettings = {
    tables: {
      connections: table('connections'),
      requests: table('requests'),
      subscriptions: table('subscriptions'),
      rateLimits: undefined,
      idempotencyKeys: table('idempotency-keys'),
      progressLog: table('progress-log'),
    },
    managementEndpoint: 'http://unused',
    resultsBucket: { name: 'results', urlTtlSeconds: 900 },
    workerFunction: 'worker',
    syncThresholdMs: DEFAULTS.syncThresholdMs,
    maxRetries: 3,
    connectionTtlSeconds: 3600,
    requestTtlSeconds: 3600,
    leaseMs: 1500,
    queueLeaseMs: 300_000,
    cancelPollMs: 50,
    // The stream drives every run unless a test turns direct dispatch on (tests/lifecycle/direct-dispatch.test.ts).
    directDispatch: false,
    rateLimits: { connection: { ratePerSecond: 1000, burst: 1000 }, user: { ratePerSecond: 1000, burst: 1000 }, tenant: { ratePerSecond: 1000, burst: 1000 } },
    ...overrides,
  };
  const objects = new MemoryObjectStore();
  const notifier = new RecordingNotifier(objects);
  const dispatcher = new InProcessDispatcher();
  const metrics = new RecordingMetrics();
  const connections = new DynamoConnectionStore(doc, settings.tables.connections);
  const deps: StreamerDeps = {
    settings,
    registry: new HandlerRegistry(handlers),
    connections,
    requests: new DynamoRequestStore(doc, settings.tables.requests),
    subscriptions: new DynamoSubscriptionStore(doc, settings.tables.subscriptions),
    idempotency: new DynamoIdempotencyStore(doc, settings.tables.idempotencyKeys),
    progressLog: new DynamoProgressLogStore(doc, settings.tables.progressLog),
    notifier,
    objects,
    dispatcher,
    verifier: new TokenVerifier({ kind: 'secret', secret: 'unused' }),
    rateLimiter: new InMemoryRateLimiter(settings.rateLimits),
    clock: systemClock,
    newId: ulid,
    logger: silentLogger,
    metrics,
  };
  dispatcher.deps = deps;

  return {
    deps,
    db: doc,
    tableName: table,
    notifier,
    objects,
    dispatcher,
    metrics,
    async connect(connectionId, userId = 'alice', tenantId = 'acme', permissions = []) {
      const now = Date.now();
      await connections.put({
        connection_id: connectionId,
        user_id: userId,
        tenant_id: tenantId,
        tenant_user: tenantUserKey(tenantId, userId),
        permissions,
        connected_at: now,
        last_ping: now,
        ttl: Math.floor(now / 1000) + 3600,
      });
    },
    async send(connectionId, frame) {
      const before = notifier.to(connectionId).length;
      await routeFrame(notifier, deps, { connectionId, body: typeof frame === 'string' ? frame : JSON.stringify(frame), remainingTimeMs: 30_000 });
      return notifier.to(connectionId).slice(before);
    },
    async deliver(...requestIds) {
      await claimAndDispatch(deps, requestIds.map((requestId, i) => ({ requestId, sequenceNumber: String(i) })));
      await dispatcher.idle();
    },
    async expireLease(requestId) {
      await doc.send(
        new UpdateCommand({
          TableName: settings.tables.requests,
          Key: { request_id: requestId },
          UpdateExpression: 'SET lease_expires_at = :past',
          ExpressionAttributeValues: { ':past': Date.now() - 1000 },
        }),
      );
    },
    async stop() {
      await dispatcher.idle();
      client.destroy();
    },
  };
}

export async function stopDynamoDb(): Promise<void> {
  await db?.stop();
  db = undefined;
  tablesReady = undefined;
}
