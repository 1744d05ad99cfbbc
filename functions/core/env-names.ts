/**
 * The name of every environment variable a Streamer function reads, once.
 * The deployer (`infra/` on AWS, the local runtime on one machine) sets them
 * from each function's declaration (`function-declarations.ts`).
 */
export const ENV = {
  connectionsTable: 'STREAMER_CONNECTIONS_TABLE',
  requestsTable: 'STREAMER_REQUESTS_TABLE',
  subscriptionsTable: 'STREAMER_SUBSCRIPTIONS_TABLE',
  rateLimitsTable: 'STREAMER_RATE_LIMITS_TABLE',
  idempotencyKeysTable: 'STREAMER_IDEMPOTENCY_KEYS_TABLE',
  progressLogTable: 'STREAMER_PROGRESS_LOG_TABLE',
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` on AWS. */
  managementEndpoint: 'STREAMER_MANAGEMENT_ENDPOINT',
  /** The worker function (the processor): the stream consumer and the router's direct dispatch invoke it asynchronously. */
  workerFunction: 'STREAMER_WORKER_FUNCTION',
  /** `true`: the router starts each request it stores `queued` by invoking the worker itself (direct dispatch). */
  directDispatch: 'STREAMER_DIRECT_DISPATCH',
  /** The results bucket (large results, uploads): its physical name. */
  resultsBucket: 'STREAMER_RESULTS_BUCKET',
  /** Lifetime of the presigned URLs a function signs for the results bucket, in seconds. */
  objectUrlTtlSeconds: 'STREAMER_OBJECT_URL_TTL_SECONDS',
  syncThresholdMs: 'STREAMER_SYNC_THRESHOLD_MS',
  maxRetries: 'STREAMER_MAX_RETRIES',
  connectionTtlHours: 'STREAMER_CONNECTION_TTL_HOURS',
  requestTtlDays: 'STREAMER_REQUEST_TTL_DAYS',
  leaseMs: 'STREAMER_LEASE_MS',
  queueLeaseMs: 'STREAMER_QUEUE_LEASE_MS',
  cancelPollMs: 'STREAMER_CANCEL_POLL_MS',
  rateLimitPerConnection: 'STREAMER_RATE_LIMIT_CONNECTION',
  rateLimitPerUser: 'STREAMER_RATE_LIMIT_USER',
  rateLimitPerTenant: 'STREAMER_RATE_LIMIT_TENANT',
  /** The SSM SecureString parameter holding the HS256 key set (never the key itself). */
  jwtSecretParameter: 'STREAMER_JWT_SECRET_PARAMETER',
  /** How often connect re-reads that parameter at most, in seconds. */
  tokenKeyRefreshSeconds: 'STREAMER_TOKEN_KEY_REFRESH_SECONDS',
  jwtPublicKey: 'STREAMER_JWT_PUBLIC_KEY',
  jwksUrl: 'STREAMER_JWKS_URL',
  jwtAlgorithms: 'STREAMER_JWT_ALGORITHMS',
  jwtIssuer: 'STREAMER_JWT_ISSUER',
  jwtAudience: 'STREAMER_JWT_AUDIENCE',
  /** Longest accepted token lifetime (`exp - iat`), in seconds. */
  jwtMaxLifetimeSeconds: 'STREAMER_JWT_MAX_LIFETIME_SECONDS',
} as const;
