/**
 * The environment contract between the deployer (`infra/` on AWS, `local/`
 * on one machine) and the functions. Every variable a function reads is
 * named here, once; `readRuntimeSettings` validates them and names the
 * variable in every error.
 */
import { WEBSOCKET_LIMITS } from './aws-limits';
import { StreamerError } from './errors';

export const ENV = {
  connectionsTable: 'STREAMER_CONNECTIONS_TABLE',
  requestsTable: 'STREAMER_REQUESTS_TABLE',
  subscriptionsTable: 'STREAMER_SUBSCRIPTIONS_TABLE',
  rateLimitsTable: 'STREAMER_RATE_LIMITS_TABLE',
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` on AWS. */
  managementEndpoint: 'STREAMER_MANAGEMENT_ENDPOINT',
  /** Function the stream consumer invokes asynchronously to run a claimed request (defaults to itself). */
  workerFunction: 'STREAMER_WORKER_FUNCTION',
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
  jwtSecret: 'STREAMER_JWT_SECRET',
  jwtPublicKey: 'STREAMER_JWT_PUBLIC_KEY',
  jwksUrl: 'STREAMER_JWKS_URL',
  jwtAlgorithms: 'STREAMER_JWT_ALGORITHMS',
  jwtIssuer: 'STREAMER_JWT_ISSUER',
  jwtAudience: 'STREAMER_JWT_AUDIENCE',
} as const;

/** Defaults shared by the Pulumi config schema, the functions and the local runtime. */
export const DEFAULTS = {
  syncThresholdMs: 5000,
  maxRetries: 3,
  connectionTtlHours: 24,
  requestTtlDays: 7,
  /** A running request renews its lease every third of this; a lease older than this means the run died. */
  leaseMs: 30_000,
  /** A queued request nobody claimed within this time (a lost stream record) is offered to the stream again. */
  queueLeaseMs: 300_000,
  cancelPollMs: 1000,
  /** Requests per second (token bucket refill) and burst, per connection / user / tenant. */
  rateLimitPerConnection: { ratePerSecond: 50, burst: 100 },
  rateLimitPerUser: { ratePerSecond: 100, burst: 200 },
  rateLimitPerTenant: { ratePerSecond: 1000, burst: 2000 },
} as const;

export interface RateLimitSetting {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface RuntimeSettings {
  readonly tables: {
    readonly connections: string;
    readonly requests: string;
    readonly subscriptions: string;
    readonly rateLimits: string | undefined;
  };
  readonly managementEndpoint: string;
  readonly workerFunction: string | undefined;
  readonly syncThresholdMs: number;
  readonly maxRetries: number;
  readonly connectionTtlSeconds: number;
  readonly requestTtlSeconds: number;
  readonly leaseMs: number;
  readonly queueLeaseMs: number;
  readonly cancelPollMs: number;
  readonly rateLimits: {
    readonly connection: RateLimitSetting;
    readonly user: RateLimitSetting;
    readonly tenant: RateLimitSetting;
  };
}

type Env = Readonly<Record<string, string | undefined>>;

function configError(variable: string, problem: string): StreamerError {
  return new StreamerError('INTERNAL_ERROR', `Streamer is misconfigured: ${variable} ${problem}`);
}

function required(env: Env, variable: string): string {
  const value = env[variable];
  if (value === undefined || value.trim() === '') throw configError(variable, 'is not set');
  return value.trim();
}

function integer(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw configError(variable, `must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

/** Parses `"<ratePerSecond>/<burst>"`, e.g. `"50/100"`. */
function rateLimit(env: Env, variable: string, fallback: RateLimitSetting): RateLimitSetting {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!match || Number(match[1]) <= 0 || Number(match[2]) < 1) {
    throw configError(variable, `must look like "<ratePerSecond>/<burst>" (e.g. "50/100"), got "${raw}"`);
  }
  return { ratePerSecond: Number(match[1]), burst: Number(match[2]) };
}

export function readRuntimeSettings(env: Env = process.env): RuntimeSettings {
  return {
    tables: {
      connections: required(env, ENV.connectionsTable),
      requests: required(env, ENV.requestsTable),
      subscriptions: required(env, ENV.subscriptionsTable),
      rateLimits: env[ENV.rateLimitsTable]?.trim() || undefined,
    },
    managementEndpoint: required(env, ENV.managementEndpoint),
    workerFunction: env[ENV.workerFunction]?.trim() || env.AWS_LAMBDA_FUNCTION_NAME || undefined,
    syncThresholdMs: integer(env, ENV.syncThresholdMs, DEFAULTS.syncThresholdMs, 0, WEBSOCKET_LIMITS.integrationTimeoutSeconds * 1000 - 1),
    maxRetries: integer(env, ENV.maxRetries, DEFAULTS.maxRetries, 0, 20),
    connectionTtlSeconds: integer(env, ENV.connectionTtlHours, DEFAULTS.connectionTtlHours, 1, 24 * 365) * 3600,
    requestTtlSeconds: integer(env, ENV.requestTtlDays, DEFAULTS.requestTtlDays, 1, 3650) * 86400,
    leaseMs: integer(env, ENV.leaseMs, DEFAULTS.leaseMs, 1000, 900_000),
    queueLeaseMs: integer(env, ENV.queueLeaseMs, DEFAULTS.queueLeaseMs, 1000, 86_400_000),
    cancelPollMs: integer(env, ENV.cancelPollMs, DEFAULTS.cancelPollMs, 50, 60_000),
    rateLimits: {
      connection: rateLimit(env, ENV.rateLimitPerConnection, DEFAULTS.rateLimitPerConnection),
      user: rateLimit(env, ENV.rateLimitPerUser, DEFAULTS.rateLimitPerUser),
      tenant: rateLimit(env, ENV.rateLimitPerTenant, DEFAULTS.rateLimitPerTenant),
    },
  };
}
