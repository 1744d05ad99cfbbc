/**
 * What each Lambda function needs, declared once.
 *
 * A function's declaration lists the capabilities it uses (which tables and
 * indexes with which DynamoDB actions, the `@connections` API, the worker
 * dispatch, the token key, the requests stream) and the settings it reads,
 * plus its memory and timeout. Everything else follows from it:
 *
 * - `infra/functions.ts` renders the function's environment and its IAM
 *   role from it, and nothing else;
 * - `composeDeps` builds only what the function declares (only the
 *   authorizer constructs a token verifier), and reading a variable that is not declared
 *   fails loudly (`UndeclaredCapabilityError`);
 * - the local runtime runs the rendered deployment, with each function's
 *   role checked on every AWS call, so a capability used but not declared
 *   fails locally exactly as on AWS.
 *
 * As with SST's `link`, one list makes both the environment and the grants.
 */
import { WEBSOCKET_LIMITS } from './aws-limits';
import { ENV } from './env-names';
import type { TableShape } from './cloud-shapes';

export type TableName = TableShape['logicalName'];

/** DynamoDB item and query actions the stores call (the IAM action is `dynamodb:<name>`). */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'BatchWriteItem';

/** Management API methods on `@connections/{id}`: post to, read, and close a connection. */
export type ConnectionMethod = 'POST' | 'GET' | 'DELETE';

/** Reads and writes on one table and (separately, as IAM grants them) its indexes. */
export interface TableCapability {
  readonly kind: 'table';
  readonly table: TableName;
  readonly actions: readonly TableAction[];
  /** Queries on global secondary indexes, by index name. */
  readonly indexes?: Readonly<Record<string, readonly 'Query'[]>>;
  /** Why the function touches this table: becomes the IAM statement's Sid. */
  readonly purpose: string;
}

/** `execute-api:ManageConnections` on the WebSocket API's `@connections`. */
export interface ManagementApiCapability {
  readonly kind: 'managementApi';
  readonly methods: readonly ConnectionMethod[];
}

/**
 * Invokes the worker function (the processor) asynchronously: the stream
 * consumer to run a request it claimed, the router to start a request it
 * just stored (direct dispatch, `streamer:directDispatch`).
 */
export interface WorkerDispatchCapability {
  readonly kind: 'workerDispatch';
}

/**
 * Verifies client tokens: the key source, algorithms, issuer and audience; an
 * HS256 key is read from its SSM SecureString parameter (`ssm:GetParameter`
 * on that parameter, `kms:Decrypt` when a customer key encrypts it).
 */
export interface TokenKeyCapability {
  readonly kind: 'tokenKey';
}

/** Consumes the requests table's stream through an event source mapping, with a dead-letter queue. */
export interface RequestsStreamCapability {
  readonly kind: 'requestsStream';
}

/**
 * What a function does with the results bucket (`cloud-shapes.ts`,
 * `RESULTS_BUCKET`): each access is one IAM grant on one key prefix.
 *
 * - `writeResults`: stores a result too large for a message (`s3:PutObject` on `results/*`);
 * - `readResults`: signs the short-lived GET URLs clients fetch those results with
 *   (a presigned URL acts with its signer's rights: `s3:GetObject` on `results/*`);
 * - `signUploads`: signs the PUT URLs clients upload inputs with (`s3:PutObject` on `uploads/*`);
 * - `readUploads`: reads an uploaded input for a handler (`s3:GetObject` on `uploads/*`).
 */
export type ResultsBucketAccess = 'writeResults' | 'readResults' | 'signUploads' | 'readUploads';

/** Objects in the results bucket: large results and uploaded inputs. */
export interface ResultsBucketCapability {
  readonly kind: 'resultsBucket';
  readonly access: readonly ResultsBucketAccess[];
}

export type Capability =
  | TableCapability
  | ResultsBucketCapability
  | ManagementApiCapability
  | WorkerDispatchCapability
  | TokenKeyCapability
  | RequestsStreamCapability;

export type CapabilityKind = Capability['kind'];

/** Tunables a function reads from its environment (each one variable, see `SETTING_ENV`). */
export type SettingName =
  | 'syncThresholdMs'
  | 'maxRetries'
  | 'connectionTtlHours'
  | 'requestTtlDays'
  | 'leaseMs'
  | 'queueLeaseMs'
  | 'cancelPollMs'
  | 'directDispatch'
  | 'rateLimits';

/** The variables behind each setting. */
export const SETTING_ENV: Readonly<Record<SettingName, readonly string[]>> = {
  syncThresholdMs: [ENV.syncThresholdMs],
  maxRetries: [ENV.maxRetries],
  connectionTtlHours: [ENV.connectionTtlHours],
  requestTtlDays: [ENV.requestTtlDays],
  leaseMs: [ENV.leaseMs],
  queueLeaseMs: [ENV.queueLeaseMs],
  cancelPollMs: [ENV.cancelPollMs],
  directDispatch: [ENV.directDispatch],
  rateLimits: [ENV.rateLimitPerConnection, ENV.rateLimitPerUser, ENV.rateLimitPerTenant],
};

/** The variable that carries each table's physical name. */
export const TABLE_ENV: Readonly<Record<TableName, string>> = {
  connections: ENV.connectionsTable,
  requests: ENV.requestsTable,
  subscriptions: ENV.subscriptionsTable,
  'rate-limits': ENV.rateLimitsTable,
  'idempotency-keys': ENV.idempotencyKeysTable,
  'progress-log': ENV.progressLogTable,
};

/** The results bucket's name and how long the URLs a function signs for it stay valid. */
export const RESULTS_BUCKET_ENV: readonly string[] = [ENV.resultsBucket, ENV.objectUrlTtlSeconds];

/**
 * Token settings: the key source (exactly one is set: the secret store's
 * parameter, a public key, a JWKS URL), the optional checks and the longest
 * lifetime. The HS256 secret itself is read from the parameter, never from here.
 */
export const TOKEN_KEY_ENV: readonly string[] = [
  ENV.jwtSecretParameter,
  ENV.tokenKeyRefreshSeconds,
  ENV.jwtPublicKey,
  ENV.jwksUrl,
  ENV.jwtAlgorithms,
  ENV.jwtIssuer,
  ENV.jwtAudience,
  ENV.jwtMaxLifetimeSeconds,
];

/** Variables every function reads (Powertools and Node options), set by the deployer for all. */
export const COMMON_ENV: readonly string[] = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_TRACE_ENABLED',
];

/** Lambda's asynchronous invocation settings for a function (`FunctionEventInvokeConfig`). */
export interface AsyncInvokeConfig {
  /** Lambda retries a failed asynchronous invocation this many times (its default is 2). */
  readonly maximumRetryAttempts: 0 | 1 | 2;
  /** Events older than this are discarded instead of run (Lambda's default is 6 hours). */
  readonly maximumEventAgeSeconds: number;
}

export interface FunctionDeclaration {
  /** One line for the function's description and the docs. */
  readonly summary: string;
  readonly capabilities: readonly Capability[];
  readonly settings: readonly SettingName[];
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Whether stack config may change memory / timeout (`<fn>MemoryMb`, `<fn>TimeoutSeconds`). */
  readonly tunable: { readonly memory: boolean; readonly timeout: boolean };
  /** Set for functions invoked asynchronously; Lambda's defaults apply otherwise. */
  readonly asyncInvoke?: AsyncInvokeConfig;
}

const table = (name: TableName, purpose: string, actions: readonly TableAction[], indexes?: TableCapability['indexes']): TableCapability => ({
  kind: 'table',
  table: name,
  purpose,
  actions,
  ...(indexes && { indexes }),
});

export const FUNCTION_DECLARATIONS = {
  authorizer: {
    summary: "Verifies the client token: the $connect route's Lambda REQUEST authorizer",
    // The only function that holds the token key: API Gateway hands the identity it returns to every later route.
    capabilities: [{ kind: 'tokenKey' }],
    settings: [],
    memoryMb: 256,
    timeoutSeconds: 10,
    tunable: { memory: true, timeout: false },
  },
  connect: {
    summary: "Stores the connection with the identity the authorizer returned ($connect)",
    capabilities: [table('connections', 'WriteConnection', ['PutItem'])],
    settings: ['connectionTtlHours'],
    memoryMb: 256,
    timeoutSeconds: 10,
    tunable: { memory: true, timeout: false },
  },
  disconnect: {
    summary: 'Forgets the connection and its subscriptions ($disconnect)',
    capabilities: [
      table('connections', 'RemoveConnection', ['DeleteItem']),
      table('subscriptions', 'RemoveSubscriptions', ['BatchWriteItem'], { by_connection: ['Query'] }),
    ],
    settings: [],
    memoryMb: 256,
    timeoutSeconds: 10,
    tunable: { memory: true, timeout: false },
  },
  router: {
    summary: 'Routes every client frame: built-in actions, sync handlers, queued requests ($default)',
    capabilities: [
      // GetItem: the identity of a connection opened before the authorizer existed (its events carry no
      // authorizer context); DeleteItem and the indexes: pruning gone connections, broadcasts.
      table('connections', 'Connections', ['GetItem', 'DeleteItem'], { by_user: ['Query'], by_tenant: ['Query'] }),
      table('requests', 'Requests', ['PutItem', 'GetItem', 'UpdateItem']),
      table('subscriptions', 'Subscriptions', ['PutItem', 'DeleteItem', 'UpdateItem', 'BatchWriteItem'], { by_connection: ['Query'] }),
      table('rate-limits', 'RateLimits', ['UpdateItem']),
      // An idempotency key is claimed with a conditional put; a repeated key reads which request it started.
      table('idempotency-keys', 'IdempotencyKeys', ['PutItem', 'GetItem']),
      // `subscribe` with `afterSeq` replays the progress a client missed.
      table('progress-log', 'ProgressLogReplay', ['Query']),
      { kind: 'managementApi', methods: ['POST'] },
      // Sync results and `status` replies over the message limit; upload URLs; uploads for sync handlers.
      { kind: 'resultsBucket', access: ['writeResults', 'readResults', 'signUploads', 'readUploads'] },
      // Direct dispatch: a stored `queued` request is started at once (`streamer.claim`), the stream being the safety net.
      // Granted whatever the switch says, so turning it on or off changes one variable and never the role.
      { kind: 'workerDispatch' },
    ],
    settings: ['syncThresholdMs', 'maxRetries', 'requestTtlDays', 'queueLeaseMs', 'directDispatch', 'rateLimits'],
    memoryMb: 256,
    // API Gateway's integration timeout: a sync request is answered within the $default integration.
    timeoutSeconds: WEBSOCKET_LIMITS.integrationTimeoutSeconds,
    tunable: { memory: true, timeout: true },
  },
  processor: {
    summary: 'Claims queued requests from the stream, runs them, and recovers expired leases',
    capabilities: [
      { kind: 'requestsStream' },
      { kind: 'workerDispatch' },
      table('requests', 'Requests', ['GetItem', 'UpdateItem'], { by_lease: ['Query'] }),
      table('connections', 'Connections', ['DeleteItem'], { by_user: ['Query'], by_tenant: ['Query'] }),
      table('subscriptions', 'Subscribers', ['Query', 'UpdateItem', 'BatchWriteItem'], { by_connection: ['Query'] }),
      // Every progress message is logged (put; the oldest beyond the bound deleted); a new run reads the last seq.
      table('progress-log', 'ProgressLog', ['PutItem', 'DeleteItem', 'Query']),
      { kind: 'managementApi', methods: ['POST'] },
      // Async results over the message limit (and their URLs); uploads for queued handlers.
      { kind: 'resultsBucket', access: ['writeResults', 'readResults', 'readUploads'] },
    ],
    settings: ['maxRetries', 'requestTtlDays', 'leaseMs', 'queueLeaseMs', 'cancelPollMs'],
    memoryMb: 512,
    timeoutSeconds: 900,
    tunable: { memory: true, timeout: true },
    // The lease sweeper re-queues a run whose invocation was lost; Lambda's own retries would
    // start a second run of the same event beside the recovered one.
    asyncInvoke: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 3600 },
  },
} as const satisfies Record<string, FunctionDeclaration>;

export type FunctionName = keyof typeof FUNCTION_DECLARATIONS;

/** The functions, in the order they meet a client. */
export const FUNCTION_NAMES = Object.keys(FUNCTION_DECLARATIONS) as FunctionName[];

export function declarationOf(fn: FunctionName): FunctionDeclaration {
  return FUNCTION_DECLARATIONS[fn];
}

export function capabilitiesOf<K extends CapabilityKind>(fn: FunctionName, kind: K): Extract<Capability, { kind: K }>[] {
  return declarationOf(fn).capabilities.filter((c): c is Extract<Capability, { kind: K }> => c.kind === kind);
}

export function hasCapability(fn: FunctionName, kind: CapabilityKind): boolean {
  return capabilitiesOf(fn, kind).length > 0;
}

/** The tables a function declares, each once. */
export function tablesOf(fn: FunctionName): TableName[] {
  return [...new Set(capabilitiesOf(fn, 'table').map((c) => c.table))];
}

/** The Streamer variables a capability's code reads. */
export function capabilityEnv(capability: Capability): readonly string[] {
  switch (capability.kind) {
    case 'table':
      return [TABLE_ENV[capability.table]];
    case 'managementApi':
      return [ENV.managementEndpoint];
    case 'workerDispatch':
      return [ENV.workerFunction];
    case 'tokenKey':
      return TOKEN_KEY_ENV;
    case 'requestsStream':
      return [];
    case 'resultsBucket':
      return RESULTS_BUCKET_ENV;
  }
}

/** Every variable a function may read: its capabilities', its settings' and the common ones. */
export function declaredEnv(fn: FunctionName): ReadonlySet<string> {
  const declaration = declarationOf(fn);
  return new Set([
    ...COMMON_ENV,
    ...declaration.capabilities.flatMap(capabilityEnv),
    ...declaration.settings.flatMap((setting) => SETTING_ENV[setting]),
  ]);
}
