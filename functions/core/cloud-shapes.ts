/**
 * The one source of truth for Streamer's cloud shapes.
 *
 * `infra/` deploys exactly these tables and this event source mapping, and
 * `local/` creates and emulates exactly the same ones, so the local runtime
 * cannot drift from what runs on AWS. Functions read only the names they
 * query (index names, attribute names); table names reach them through the
 * environment (see `runtime-env.ts`). The AWS quotas these shapes live
 * within are in `aws-limits.ts`.
 */

import { FUNCTION_DECLARATIONS, FUNCTION_NAMES, type FunctionName } from './function-declarations';

export type KeyAttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyAttributeType;
}

export interface GlobalIndexShape {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** `ALL` keeps every attribute; `KEYS_ONLY` keeps only keys. */
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableShape {
  /** Logical name: Pulumi derives the physical name from it, the local runtime prefixes it. */
  readonly logicalName: 'connections' | 'requests' | 'subscriptions' | 'rate-limits' | 'idempotency-keys' | 'progress-log';
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexShape[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes expired items. */
  readonly ttlAttribute: string;
  /** The processor reads only the new image (its filter and its claim): a wider view only makes records bigger. */
  readonly stream?: 'NEW_IMAGE';
}

/** Number of partitions the lease index spreads running requests over (avoids one hot GSI key). */
export const LEASE_SHARDS = 8;

export const CONNECTIONS_TABLE: TableShape = {
  logicalName: 'connections',
  partitionKey: { name: 'connection_id', type: 'S' },
  globalIndexes: [
    // `tenant_user` is `tenantUserKey(tenant_id, user_id)` (`identity-key.ts`): user ids are only unique
    // within a tenant, and each part is escaped so that no two identities share a key.
    { name: 'by_user', partitionKey: { name: 'tenant_user', type: 'S' }, projection: 'KEYS_ONLY' },
    { name: 'by_tenant', partitionKey: { name: 'tenant_id', type: 'S' }, projection: 'KEYS_ONLY' },
  ],
  ttlAttribute: 'ttl',
};

export const REQUESTS_TABLE: TableShape = {
  logicalName: 'requests',
  partitionKey: { name: 'request_id', type: 'S' },
  globalIndexes: [
    // No index by connection: nothing queries a connection's requests (a client asks by request id,
    // and a gone connection's subscriptions go through subscriptions.by_connection).
    {
      // Sparse: only requests that are `processing` carry `lease_shard`, so the
      // sweeper finds expired leases (crashed runs) without scanning the table.
      name: 'by_lease',
      partitionKey: { name: 'lease_shard', type: 'S' },
      sortKey: { name: 'lease_expires_at', type: 'N' },
      projection: 'KEYS_ONLY',
    },
  ],
  ttlAttribute: 'ttl',
  stream: 'NEW_IMAGE',
};

export const SUBSCRIPTIONS_TABLE: TableShape = {
  logicalName: 'subscriptions',
  partitionKey: { name: 'request_id', type: 'S' },
  sortKey: { name: 'connection_id', type: 'S' },
  globalIndexes: [
    {
      name: 'by_connection',
      partitionKey: { name: 'connection_id', type: 'S' },
      sortKey: { name: 'request_id', type: 'S' },
      projection: 'KEYS_ONLY',
    },
  ],
  ttlAttribute: 'ttl',
};

/** Token buckets for per-user and per-tenant rate limits, shared by every router instance. */
export const RATE_LIMITS_TABLE: TableShape = {
  logicalName: 'rate-limits',
  partitionKey: { name: 'bucket_key', type: 'S' },
  globalIndexes: [],
  ttlAttribute: 'ttl',
};

/**
 * One item per idempotency key a client sent with an async request: the key
 * is `idempotencyRecordKey(tenant, user, key)` (`identity-key.ts`), so keys of
 * different users or tenants never meet. Written with a conditional put
 * before the request, expiring with it.
 */
export const IDEMPOTENCY_KEYS_TABLE: TableShape = {
  logicalName: 'idempotency-keys',
  partitionKey: { name: 'idempotency_key', type: 'S' },
  globalIndexes: [],
  ttlAttribute: 'ttl',
};

/**
 * Each request's progress messages by sequence number, for `subscribe` with
 * `afterSeq` to replay what a client missed. Bounded per request
 * (`PROGRESS_LOG_LIMITS`), expiring with the request.
 */
export const PROGRESS_LOG_TABLE: TableShape = {
  logicalName: 'progress-log',
  partitionKey: { name: 'request_id', type: 'S' },
  sortKey: { name: 'seq', type: 'N' },
  globalIndexes: [],
  ttlAttribute: 'ttl',
};

export const ALL_TABLES: readonly TableShape[] = [
  CONNECTIONS_TABLE,
  REQUESTS_TABLE,
  SUBSCRIPTIONS_TABLE,
  RATE_LIMITS_TABLE,
  IDEMPOTENCY_KEYS_TABLE,
  PROGRESS_LOG_TABLE,
];

/**
 * A Lambda event filter pattern (the subset of EventBridge pattern syntax that
 * event source mappings accept: nested objects whose leaves are lists of
 * allowed values).
 */
export type FilterPattern = { readonly [key: string]: FilterPattern | readonly (string | number | boolean)[] };

export interface StreamMappingShape {
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeSeconds: number;
  readonly parallelizationFactor: number;
  readonly functionResponseTypes: readonly 'ReportBatchItemFailures'[];
  /** Records matching none of these patterns never reach the processor. */
  readonly filterPatterns: readonly FilterPattern[];
}

/**
 * The requests stream → processor mapping. Only records whose new image is
 * `queued` pass: new requests (INSERT), and requests put back in the queue
 * (MODIFY) by a retry, a continuation or the lease sweeper. Progress and
 * terminal writes never wake the processor.
 */
export const REQUEST_STREAM_MAPPING: StreamMappingShape = {
  batchSize: 25,
  maximumBatchingWindowSeconds: 0,
  startingPosition: 'LATEST',
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 5,
  maximumRecordAgeSeconds: 3600,
  parallelizationFactor: 4,
  functionResponseTypes: ['ReportBatchItemFailures'],
  filterPatterns: [
    // DynamoDB mappings filter on the record's `dynamodb` key only (AWS's filtering docs), so the
    // event name is not matched: a REMOVE has no NewImage, so only INSERT and MODIFY can pass.
    { dynamodb: { NewImage: { status: { S: ['queued'] } } } },
  ],
};

/** How often the lease sweeper runs (an EventBridge schedule on AWS, a timer locally). */
export const SWEEP_SCHEDULE_MINUTES = 1;

export type { FunctionName } from './function-declarations';

export interface FunctionShape {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

/**
 * Default memory and timeout of each function (from its declaration): the
 * stack config's defaults on AWS (router and processor are tunable there).
 */
export const FUNCTION_DEFAULTS: Readonly<Record<FunctionName, FunctionShape>> = Object.fromEntries(
  FUNCTION_NAMES.map((fn) => [fn, { memoryMb: FUNCTION_DECLARATIONS[fn].memoryMb, timeoutSeconds: FUNCTION_DECLARATIONS[fn].timeoutSeconds }]),
) as Record<FunctionName, FunctionShape>;
