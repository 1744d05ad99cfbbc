/**
 * The environment contract between the deployer (`infra/` on AWS, `local/`
 * on one machine) and the functions. Every variable a function reads is
 * named here, once; `readRuntimeSettings` validates them and names the
 * variable in every error.
 */
import { ConfigurationError, UndeclaredCapabilityError } from './configuration-error';
import { ENV } from './env-names';
import { WEBSOCKET_LIMITS } from './aws-limits';

export { ENV };

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
  /**
   * The router invokes the worker right after storing a request `queued`,
   * instead of leaving the start to the requests stream (which stays the
   * safety net). See docs/performance.md, "Direct dispatch".
   */
  directDispatch: true,
  /** Requests per second (token bucket refill) and burst, per connection / user / tenant. */
  rateLimitPerConnection: { ratePerSecond: 50, burst: 100 },
  rateLimitPerUser: { ratePerSecond: 100, burst: 200 },
  rateLimitPerTenant: { ratePerSecond: 1000, burst: 2000 },
  /** Longest token lifetime (`exp - iat`) the authorizer accepts: 24 h. */
  maxTokenLifetimeSeconds: 86_400,
  /** The stored token key is re-read at most this often: a rotation reaches every authorizer container within it. */
  tokenKeyRefreshSeconds: 300,
} as const;

/** How often the stored token key may be re-read, in seconds: at least every second, at most hourly. */
export const TOKEN_KEY_REFRESH_RANGE_SECONDS = { min: 1, max: 3600 } as const;

/**
 * The range a maximum token lifetime may be set to, in seconds: at least a
 * minute (a shorter one would refuse tokens over ordinary clock skew), at
 * most a year.
 */
export const TOKEN_LIFETIME_RANGE_SECONDS = { min: 60, max: 31_536_000 } as const;

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
    readonly idempotencyKeys: string;
    readonly progressLog: string;
  };
  readonly managementEndpoint: string;
  /** The results bucket and the lifetime of the URLs signed for it (the `resultsBucket` capability). */
  readonly resultsBucket: { readonly name: string; readonly urlTtlSeconds: number };
  readonly workerFunction: string | undefined;
  readonly syncThresholdMs: number;
  readonly maxRetries: number;
  readonly connectionTtlSeconds: number;
  readonly requestTtlSeconds: number;
  readonly leaseMs: number;
  readonly queueLeaseMs: number;
  readonly cancelPollMs: number;
  /** Whether the router starts queued requests itself (direct dispatch), the stream being the safety net. */
  readonly directDispatch: boolean;
  readonly rateLimits: {
    readonly connection: RateLimitSetting;
    readonly user: RateLimitSetting;
    readonly tenant: RateLimitSetting;
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/** Which variables a function may read (its declaration); absent: every variable (tests, tools). */
export interface DeclaredVariables {
  readonly functionName: string;
  readonly variables: ReadonlySet<string>;
}

/**
 * Variables the Lambda runtime itself sets (`AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`,
 * `_HANDLER`, …): always readable, never declared.
 */
export function isRuntimeProvided(variable: string): boolean {
  return variable.startsWith('AWS_') || variable.startsWith('_') || variable.startsWith('LAMBDA_');
}

/**
 * An environment that refuses to hand out a variable the function does not
 * declare, so code reaching past its declaration fails where it is written
 * instead of reading a value the deployed function will never have.
 */
export function declaredEnvironment(env: Env, declared: DeclaredVariables | undefined): (variable: string) => string | undefined {
  if (!declared) return (variable) => env[variable];
  return (variable) => {
    if (!isRuntimeProvided(variable) && !declared.variables.has(variable)) {
      throw new UndeclaredCapabilityError(declared.functionName, `the variable ${variable}`);
    }
    return env[variable];
  };
}

type Read = (variable: string) => string | undefined;

function configError(variable: string, problem: string): ConfigurationError {
  return new ConfigurationError(`${variable} ${problem}`);
}

function required(read: Read, variable: string): string {
  const value = read(variable);
  if (value === undefined || value.trim() === '') throw configError(variable, 'is not set');
  return value.trim();
}

function integer(read: Read, variable: string, fallback: number, min: number, max: number): number {
  const raw = read(variable);
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw configError(variable, `must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

function boolean(read: Read, variable: string, fallback: boolean): boolean {
  const raw = read(variable);
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim();
  if (value !== 'true' && value !== 'false') throw configError(variable, `must be true or false, got "${raw}"`);
  return value === 'true';
}

/** Parses `"<ratePerSecond>/<burst>"`, e.g. `"50/100"`. */
function rateLimit(read: Read, variable: string, fallback: RateLimitSetting): RateLimitSetting {
  const raw = read(variable);
  if (raw === undefined || raw.trim() === '') return fallback;
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!match || Number(match[1]) <= 0 || Number(match[2]) < 1) {
    throw configError(variable, `must look like "<ratePerSecond>/<burst>" (e.g. "50/100"), got "${raw}"`);
  }
  return { ratePerSecond: Number(match[1]), burst: Number(match[2]) };
}

/**
 * Defines `key` on `target`: read and validated now when the function
 * declares every variable behind it (a misconfiguration fails the cold
 * start), else a getter that throws `UndeclaredCapabilityError` when used.
 */
function setting<T>(target: object, key: string, variables: readonly string[], declared: DeclaredVariables | undefined, value: () => T): void {
  const missing = declared ? variables.find((variable) => !declared.variables.has(variable)) : undefined;
  if (missing === undefined) {
    Object.defineProperty(target, key, { value: value(), enumerable: true });
    return;
  }
  Object.defineProperty(target, key, {
    enumerable: false,
    get: () => {
      throw new UndeclaredCapabilityError(declared!.functionName, `the setting ${key} (${missing})`);
    },
  });
}

/**
 * Reads and validates the settings. With `declared`, only the function's
 * declared variables are read; a setting behind an undeclared one throws
 * when code uses it.
 */
export function readRuntimeSettings(env: Env = process.env, declared?: DeclaredVariables): RuntimeSettings {
  const read = declaredEnvironment(env, declared);
  const tables = {};
  setting(tables, 'connections', [ENV.connectionsTable], declared, () => required(read, ENV.connectionsTable));
  setting(tables, 'requests', [ENV.requestsTable], declared, () => required(read, ENV.requestsTable));
  setting(tables, 'subscriptions', [ENV.subscriptionsTable], declared, () => required(read, ENV.subscriptionsTable));
  setting(tables, 'rateLimits', [ENV.rateLimitsTable], declared, () => read(ENV.rateLimitsTable)?.trim() || undefined);
  setting(tables, 'idempotencyKeys', [ENV.idempotencyKeysTable], declared, () => required(read, ENV.idempotencyKeysTable));
  setting(tables, 'progressLog', [ENV.progressLogTable], declared, () => required(read, ENV.progressLogTable));
  const settings = { tables };
  setting(settings, 'managementEndpoint', [ENV.managementEndpoint], declared, () => required(read, ENV.managementEndpoint));
  setting(settings, 'resultsBucket', [ENV.resultsBucket, ENV.objectUrlTtlSeconds], declared, () => ({
    name: required(read, ENV.resultsBucket),
    // S3 refuses a presigned URL valid for more than 7 days.
    urlTtlSeconds: integer(read, ENV.objectUrlTtlSeconds, 900, 1, 604_800),
  }));
  setting(settings, 'workerFunction', [ENV.workerFunction], declared, () => read(ENV.workerFunction)?.trim() || env.AWS_LAMBDA_FUNCTION_NAME || undefined);
  setting(settings, 'syncThresholdMs', [ENV.syncThresholdMs], declared, () => integer(read, ENV.syncThresholdMs, DEFAULTS.syncThresholdMs, 0, WEBSOCKET_LIMITS.integrationTimeoutSeconds * 1000 - 1));
  setting(settings, 'maxRetries', [ENV.maxRetries], declared, () => integer(read, ENV.maxRetries, DEFAULTS.maxRetries, 0, 20));
  setting(settings, 'connectionTtlSeconds', [ENV.connectionTtlHours], declared, () => integer(read, ENV.connectionTtlHours, DEFAULTS.connectionTtlHours, 1, 24 * 365) * 3600);
  setting(settings, 'requestTtlSeconds', [ENV.requestTtlDays], declared, () => integer(read, ENV.requestTtlDays, DEFAULTS.requestTtlDays, 1, 3650) * 86400);
  setting(settings, 'leaseMs', [ENV.leaseMs], declared, () => integer(read, ENV.leaseMs, DEFAULTS.leaseMs, 1000, 900_000));
  setting(settings, 'queueLeaseMs', [ENV.queueLeaseMs], declared, () => integer(read, ENV.queueLeaseMs, DEFAULTS.queueLeaseMs, 1000, 86_400_000));
  setting(settings, 'cancelPollMs', [ENV.cancelPollMs], declared, () => integer(read, ENV.cancelPollMs, DEFAULTS.cancelPollMs, 50, 60_000));
  setting(settings, 'directDispatch', [ENV.directDispatch], declared, () => boolean(read, ENV.directDispatch, DEFAULTS.directDispatch));
  const rateLimitVariables = [ENV.rateLimitPerConnection, ENV.rateLimitPerUser, ENV.rateLimitPerTenant];
  setting(settings, 'rateLimits', rateLimitVariables, declared, () => ({
    connection: rateLimit(read, ENV.rateLimitPerConnection, DEFAULTS.rateLimitPerConnection),
    user: rateLimit(read, ENV.rateLimitPerUser, DEFAULTS.rateLimitPerUser),
    tenant: rateLimit(read, ENV.rateLimitPerTenant, DEFAULTS.rateLimitPerTenant),
  }));
  return settings as RuntimeSettings;
}
