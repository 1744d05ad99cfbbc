/**
 * The stack's configuration, read and validated in one place.
 *
 * Every `streamer:*` key is declared once in {@link CONFIG_KEYS}: its type,
 * default, valid range and meaning. `Pulumi.yaml`, `docs/deploy.md` and the
 * functions' own defaults (`functions/core/runtime-env.ts`) are checked
 * against this table by tests, so they cannot drift. A bad value fails the
 * program before any resource is planned, with a message that names the key
 * and what it accepts.
 *
 * @example
 * const config = readStackConfig();
 * config.memoryMb.router; // 256 unless `pulumi config set streamer:routerMemoryMb …`
 */
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { LAMBDA_LIMITS, WEBSOCKET_LIMITS } from '../functions/core/aws-limits';
import { FUNCTION_DEFAULTS } from '../functions/core/cloud-shapes';
import { DEFAULTS, TOKEN_KEY_REFRESH_RANGE_SECONDS, TOKEN_LIFETIME_RANGE_SECONDS, type RateLimitSetting } from '../functions/core/runtime-env';

export const CONFIG_NAMESPACE = 'streamer';

/** What a key holds, as the docs state it. */
export type ConfigValueType = 'integer' | 'number' | 'string' | 'boolean';

/**
 * How a key is declared in `Pulumi.yaml`. Pulumi's project config knows no
 * fractional numbers, so a `number` is declared as a string (and parsed here).
 */
export function pulumiConfigType(key: ConfigKey<unknown>): 'integer' | 'string' | 'boolean' {
  return key.type === 'number' ? 'string' : key.type;
}

type DefaultValue = string | number | boolean;

/** One `streamer:*` setting. */
export interface ConfigKey<T> {
  readonly type: ConfigValueType;
  /** Set with `pulumi config set --secret`; never echoed in errors. */
  readonly secret: boolean;
  /** The value used when the stack sets none, as written in `Pulumi.yaml`; `undefined`: optional, no default. */
  readonly default: DefaultValue | undefined;
  /** What a valid value is, e.g. `an integer in [128, 10240]`: shown in errors and in the docs' range column. */
  readonly expected: string;
  readonly description: string;
  /** Parses the raw config string. */
  readonly schema: z.ZodType<T, string>;
}

interface Rule<T> {
  readonly expected: string;
  readonly schema: z.ZodType<T, string>;
}

function integerIn(min: number, max: number): Rule<number> {
  return {
    expected: `an integer in [${min}, ${max}]`,
    schema: z.string().trim().regex(/^-?\d+$/).transform(Number).pipe(z.number().int().min(min).max(max)),
  };
}

function numberIn(minExclusive: number, max: number): Rule<number> {
  return {
    expected: `a number in (${minExclusive}, ${max}]`,
    schema: z.string().trim().regex(/^\d+(\.\d+)?$/).transform(Number).pipe(z.number().gt(minExclusive).lte(max)),
  };
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T): Rule<T[number]> {
  return { expected: `one of ${values.join(', ')}`, schema: z.string().trim().pipe(z.enum(values)) };
}

function integerOneOf(values: readonly number[]): Rule<number> {
  return {
    expected: `one of ${values.join(', ')}`,
    schema: z.string().trim().regex(/^\d+$/).transform(Number).refine((n) => values.includes(n)),
  };
}

const booleanRule: Rule<boolean> = {
  expected: 'true or false',
  schema: z.string().trim().pipe(z.enum(['true', 'false'])).transform((v) => v === 'true'),
};

/** Same syntax the functions read from `STREAMER_RATE_LIMIT_*` (see `runtime-env.ts`). */
const rateLimitRule: Rule<RateLimitSetting> = {
  expected: '"<ratePerSecond>/<burst>" with a positive rate and a burst ≥ 1, e.g. "50/100"',
  schema: z
    .string()
    .trim()
    .regex(/^(\d+(?:\.\d+)?)\s*\/\s*(\d+)$/)
    .transform((v) => {
      const [rate, burst] = v.split('/').map((part) => Number(part.trim()));
      return { ratePerSecond: rate, burst };
    })
    .refine((limit) => limit.ratePerSecond > 0 && limit.burst >= 1),
};

function textMatching(pattern: RegExp, expected: string): Rule<string> {
  return { expected, schema: z.string().trim().regex(pattern) };
}

const isoInstantRule: Rule<string> = {
  expected: 'an ISO 8601 instant, e.g. 2026-12-03T12:00:00Z',
  schema: z
    .string()
    .trim()
    .refine((v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v) && !Number.isNaN(Date.parse(v)))
    .transform((v) => new Date(v).toISOString()),
};

const httpsUrlRule: Rule<string> = {
  expected: 'an https:// URL',
  schema: z
    .string()
    .trim()
    .refine((v) => {
      try {
        return new URL(v).protocol === 'https:';
      } catch {
        return false;
      }
    }),
};

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash (256 bits). */
const JWT_SECRET_MIN_LENGTH = 32;

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ARCHITECTURES = ['arm64', 'x86_64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const JWT_ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'] as const;
export type JwtAsymmetricAlgorithm = (typeof JWT_ASYMMETRIC_ALGORITHMS)[number];

/** Formats a rate limit the way the functions read it (`STREAMER_RATE_LIMIT_*`). */
export function formatRateLimit(limit: RateLimitSetting): string {
  return `${limit.ratePerSecond}/${limit.burst}`;
}

function withDefault<T>(
  type: ConfigValueType,
  defaultValue: DefaultValue,
  rule: Rule<T>,
  description: string,
): ConfigKey<T> & { readonly default: DefaultValue } {
  return { type, secret: false, default: defaultValue, expected: rule.expected, schema: rule.schema, description };
}

function optional<T>(
  rule: Rule<T>,
  description: string,
  options: { readonly secret?: boolean } = {},
): ConfigKey<T> & { readonly default: undefined } {
  return {
    type: 'string',
    secret: options.secret ?? false,
    default: undefined,
    expected: rule.expected,
    schema: rule.schema,
    description,
  };
}

const memory = (fn: string, defaultMb: number) =>
  withDefault(
    'integer',
    defaultMb,
    integerIn(LAMBDA_LIMITS.minMemoryMb, LAMBDA_LIMITS.maxMemoryMb),
    `Memory of the ${fn} function, in MB (CPU scales with it).`,
  );

/**
 * The router answers `$default` inside API Gateway's integration, which gives
 * up after 29 s whatever the Lambda's own timeout: a longer router budget
 * would only let work outlive the integration it answers.
 */
const MAX_ROUTER_TIMEOUT_SECONDS = WEBSOCKET_LIMITS.integrationTimeoutSeconds;
/** Synchronous handlers run inside the router, so the threshold stays below the longest router budget. */
const MAX_SYNC_THRESHOLD_MS = MAX_ROUTER_TIMEOUT_SECONDS * 1000 - 1;

/** Every `streamer:*` key, its type, default, range and meaning. */
export const CONFIG_KEYS = {
  syncThresholdMs: withDefault(
    'integer',
    DEFAULTS.syncThresholdMs,
    integerIn(0, MAX_SYNC_THRESHOLD_MS),
    'Handlers whose estimated duration is at or below this run synchronously in the router and answer with one `result`; longer ones are queued (`ack`, progress, result). Must be below `routerTimeoutSeconds` × 1000.',
  ),
  authorizerMemoryMb: memory('authorizer', FUNCTION_DEFAULTS.authorizer.memoryMb),
  connectMemoryMb: memory('connect', FUNCTION_DEFAULTS.connect.memoryMb),
  disconnectMemoryMb: memory('disconnect', FUNCTION_DEFAULTS.disconnect.memoryMb),
  routerMemoryMb: memory('router', FUNCTION_DEFAULTS.router.memoryMb),
  processorMemoryMb: memory('processor', FUNCTION_DEFAULTS.processor.memoryMb),
  routerTimeoutSeconds: withDefault(
    'integer',
    FUNCTION_DEFAULTS.router.timeoutSeconds,
    integerIn(1, MAX_ROUTER_TIMEOUT_SECONDS),
    'Timeout of the router function (runs synchronous handlers), in seconds; at most API Gateway’s 29 s integration timeout, which it answers within.',
  ),
  processorTimeoutSeconds: withDefault(
    'integer',
    FUNCTION_DEFAULTS.processor.timeoutSeconds,
    integerIn(1, LAMBDA_LIMITS.maxTimeoutSeconds),
    'Timeout of the processor function (runs queued handlers), in seconds; a longer job is cut at this budget.',
  ),
  connectionTtlHours: withDefault(
    'integer',
    DEFAULTS.connectionTtlHours,
    integerIn(1, 24 * 365),
    'Connection records expire (DynamoDB TTL) this long after they are written.',
  ),
  requestTtlDays: withDefault(
    'integer',
    DEFAULTS.requestTtlDays,
    integerIn(1, 3650),
    'Stored requests (status, result) expire this long after they are created.',
  ),
  maxRetries: withDefault(
    'integer',
    DEFAULTS.maxRetries,
    integerIn(0, 20),
    'Retries of a retryable handler failure (backoff 1 s, 2 s, 4 s …) before the request ends `failed`; handlers may override.',
  ),
  leaseMs: withDefault(
    'integer',
    DEFAULTS.leaseMs,
    integerIn(1000, 900_000),
    'A running request renews its lease every third of this; a run silent this long is taken as crashed and retried by the lease sweeper.',
  ),
  queueLeaseMs: withDefault(
    'integer',
    DEFAULTS.queueLeaseMs,
    integerIn(1000, 86_400_000),
    'A queued request that no worker claimed within this time (a lost stream record or worker invocation) is offered to the stream again.',
  ),
  cancelPollMs: withDefault(
    'integer',
    DEFAULTS.cancelPollMs,
    integerIn(50, 60_000),
    'How often a running request checks whether its client cancelled it, in milliseconds.',
  ),
  directDispatch: withDefault(
    'boolean',
    DEFAULTS.directDispatch,
    booleanRule,
    'The router starts each queued request itself (an asynchronous invoke of the processor right after the `queued` write), so a job does not wait for the requests stream, which stays the safety net; false: the stream starts every job.',
  ),
  logLevel: withDefault('string', 'INFO', oneOf(LOG_LEVELS), 'Log level of every function (`POWERTOOLS_LOG_LEVEL`).'),
  jwtSecret: optional(
    {
      expected: `a string of at least ${JWT_SECRET_MIN_LENGTH} characters`,
      schema: z.string().trim().min(JWT_SECRET_MIN_LENGTH),
    },
    'Shared secret for HS256 tokens. Set it with `--secret`. The program stores it in an SSM SecureString parameter that only `connect` may read; no function’s environment holds it. Exactly one of `jwtSecret`, `jwtSecretParameter`, `jwtPublicKey`, `jwksUrl` must be set.',
    { secret: true },
  ),
  jwtPreviousSecret: optional(
    {
      expected: `a string of at least ${JWT_SECRET_MIN_LENGTH} characters`,
      schema: z.string().trim().min(JWT_SECRET_MIN_LENGTH),
    },
    'During a rotation: the secret before `jwtSecret`, still accepted until `jwtPreviousSecretAcceptedUntil`. Set it with `--secret`; needs `jwtSecret`.',
    { secret: true },
  ),
  jwtPreviousSecretAcceptedUntil: optional(
    isoInstantRule,
    'End of a rotation’s overlap window: tokens signed with `jwtPreviousSecret` are refused from this instant on.',
  ),
  jwtSecretParameter: optional(
    textMatching(
      /^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-/]+|\/?[A-Za-z0-9_.\-/]+)$/,
      'an SSM parameter name or ARN',
    ),
    'An existing SSM SecureString parameter (name or ARN) holding the HS256 secret or a key-set document (docs/deploy.md), kept outside this stack; `connect` is granted `ssm:GetParameter` on it.',
  ),
  tokenKeyKmsKeyArn: optional(
    textMatching(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)'),
    'Customer-managed KMS key that encrypts the token key parameter (the program’s, or `jwtSecretParameter`); `connect` is granted `kms:Decrypt` on it. Unset: the AWS-managed `aws/ssm` key, which needs no grant and costs nothing.',
  ),
  tokenKeyRefreshSeconds: withDefault(
    'integer',
    DEFAULTS.tokenKeyRefreshSeconds,
    integerIn(TOKEN_KEY_REFRESH_RANGE_SECONDS.min, TOKEN_KEY_REFRESH_RANGE_SECONDS.max),
    'How often `connect` re-reads the token key parameter at most (Powertools Parameters’ cache), in seconds: a rotation reaches every warm container within this.',
  ),
  jwtPublicKey: optional(
    textMatching(/^-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----$/, 'a PEM public key (-----BEGIN PUBLIC KEY----- …)'),
    'PEM public key for RS256/ES256 tokens.',
  ),
  jwksUrl: optional(httpsUrlRule, 'JWKS URL of your identity provider, for RS256/ES256 tokens (keys looked up by `kid`).'),
  jwtAlgorithms: optional(
    {
      expected: `a comma-separated list of ${JWT_ASYMMETRIC_ALGORITHMS.join(', ')}`,
      schema: z
        .string()
        .transform((v) => v.split(',').map((alg) => alg.trim()))
        .pipe(z.array(z.enum(JWT_ASYMMETRIC_ALGORITHMS)).min(1)),
    },
    'Algorithms accepted with `jwtPublicKey` or `jwksUrl` (default: RS256, ES256). A `jwtSecret` always means HS256.',
  ),
  jwtIssuer: optional(textMatching(/^\S.*$/, 'a non-empty string'), 'Required `iss` claim, when set.'),
  jwtAudience: optional(textMatching(/^\S.*$/, 'a non-empty string'), 'Required `aud` claim, when set.'),
  maxTokenLifetimeSeconds: withDefault(
    'integer',
    DEFAULTS.maxTokenLifetimeSeconds,
    integerIn(TOKEN_LIFETIME_RANGE_SECONDS.min, TOKEN_LIFETIME_RANGE_SECONDS.max),
    'Longest token lifetime the connect function accepts, in seconds: `exp - iat` (`exp - now` when a token has no `iat`); a longer-lived token is refused with 401.',
  ),
  alarmEmail: optional(
    { expected: 'an email address', schema: z.string().trim().pipe(z.email()) },
    'When set, alarms notify an SNS topic with this email subscribed (confirm the email AWS sends).',
  ),
  stageName: withDefault(
    'string',
    'live',
    textMatching(/^[A-Za-z0-9_-]{1,128}$/, '1–128 letters, digits, "-" or "_"'),
    'API Gateway stage: the last path segment of the WebSocket URL.',
  ),
  tracing: withDefault(
    'boolean',
    false,
    booleanRule,
    'AWS X-Ray tracing for every function (`Active` when true, `PassThrough` otherwise; sets `POWERTOOLS_TRACE_ENABLED`).',
  ),
  logRetentionDays: withDefault(
    'integer',
    14,
    integerOneOf(LOG_RETENTION_DAYS),
    'Retention of the functions’ and the API’s CloudWatch log groups, in days.',
  ),
  rateLimitConnection: withDefault(
    'string',
    formatRateLimit(DEFAULTS.rateLimitPerConnection),
    rateLimitRule,
    'Requests per second and burst allowed per connection; over it a request gets `RATE_LIMITED`.',
  ),
  rateLimitUser: withDefault(
    'string',
    formatRateLimit(DEFAULTS.rateLimitPerUser),
    rateLimitRule,
    'Requests per second and burst allowed per user (across connections).',
  ),
  rateLimitTenant: withDefault(
    'string',
    formatRateLimit(DEFAULTS.rateLimitPerTenant),
    rateLimitRule,
    'Requests per second and burst allowed per tenant.',
  ),
  throttlingRateLimit: withDefault(
    'integer',
    1000,
    integerIn(1, 100_000),
    'API Gateway stage throttling: steady messages per second across all routes.',
  ),
  throttlingBurstLimit: withDefault(
    'integer',
    2000,
    integerIn(1, 100_000),
    'API Gateway stage throttling: burst of messages.',
  ),
  alarmErrorRatePercent: withDefault(
    'number',
    1,
    numberIn(0, 100),
    'Alarm when a function’s errors exceed this percentage of its invocations (5-minute windows), and when the API’s integration errors exceed it.',
  ),
  alarmProcessingTimeMs: withDefault(
    'integer',
    300_000,
    integerIn(1, 3_600_000),
    `Alarm when the p99 handler duration (custom metric) exceeds this, in milliseconds.`,
  ),
  architecture: withDefault('string', 'arm64', oneOf(ARCHITECTURES), 'CPU architecture of every function.'),
  manageApiGatewayAccount: withDefault(
    'boolean',
    true,
    booleanRule,
    'Set the region’s API Gateway CloudWatch Logs role (an account-wide setting WebSocket access logs need). Set false if another stack manages it.',
  ),
  processorReservedConcurrency: optional(
    integerIn(1, 1000),
    'Reserved concurrency of the processor: at most this many jobs run at once, and the account always keeps them (a burst of jobs cannot starve connect and router of Lambda concurrency, nor they it). Unset: the account’s shared pool.',
  ),
  pointInTimeRecovery: withDefault(
    'boolean',
    true,
    booleanRule,
    'Point-in-time recovery (35 days of restores, billed per GB) of the requests table; the short-lived tables (connections, subscriptions, rate limits) never have it.',
  ),
  sourceMaps: withDefault(
    'boolean',
    false,
    booleanRule,
    'Ship each function’s source map and run it with `--enable-source-maps` (stack traces name the TypeScript source; costs cold-start time and a 2–3 MB map per function).',
  ),
  prebuiltBundles: optional(
    textMatching(/^\S(.*\S)?$/, 'a folder path, relative to the project root'),
    'Deploy the bundles in this folder (e.g. a CI artifact of `npm run build`: `dist`) instead of bundling the functions while the program runs; each is checked against the sources’ hash and refused when stale.',
  ),
} as const;

export type ConfigKeyName = keyof typeof CONFIG_KEYS;

type ValueOf<K extends ConfigKey<unknown>> =
  K extends ConfigKey<infer T> ? (K extends { readonly default: DefaultValue } ? T : T | undefined) : never;

/**
 * Every key parsed to its type; keys with a default are present unless their
 * value failed to parse, in which case a problem is recorded and no
 * configuration is returned.
 */
type ParsedValues = { readonly [K in ConfigKeyName]: ValueOf<(typeof CONFIG_KEYS)[K]> };

/** The token verification key: exactly one source. */
export type AuthConfig =
  | {
      readonly source: 'jwtSecret';
      readonly secret: pulumi.Output<string>;
      /** During a rotation: the key before, accepted until the instant given. */
      readonly previous: { readonly secret: pulumi.Output<string>; readonly acceptedUntil: string } | undefined;
    }
  | { readonly source: 'jwtSecretParameter'; readonly parameter: string }
  | { readonly source: 'jwtPublicKey'; readonly publicKey: string }
  | { readonly source: 'jwksUrl'; readonly jwksUrl: string };

export interface StackConfig {
  readonly syncThresholdMs: number;
  readonly memoryMb: {
    readonly authorizer: number;
    readonly connect: number;
    readonly disconnect: number;
    readonly router: number;
    readonly processor: number;
  };
  readonly timeoutSeconds: { readonly router: number; readonly processor: number };
  readonly connectionTtlHours: number;
  readonly requestTtlDays: number;
  readonly maxRetries: number;
  readonly leaseMs: number;
  readonly queueLeaseMs: number;
  readonly cancelPollMs: number;
  readonly directDispatch: boolean;
  readonly logLevel: LogLevel;
  readonly auth: AuthConfig & {
    /** Customer KMS key of the token key parameter; `undefined`: `aws/ssm`. */
    readonly kmsKeyArn: string | undefined;
    readonly refreshSeconds: number;
    readonly algorithms: readonly JwtAsymmetricAlgorithm[] | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly maxLifetimeSeconds: number;
  };
  readonly alarmEmail: string | undefined;
  readonly stageName: string;
  readonly tracing: boolean;
  readonly logRetentionDays: number;
  readonly rateLimits: { readonly connection: RateLimitSetting; readonly user: RateLimitSetting; readonly tenant: RateLimitSetting };
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly alarms: { readonly errorRatePercent: number; readonly processingTimeMs: number };
  readonly architecture: Architecture;
  readonly manageApiGatewayAccount: boolean;
  readonly processorReservedConcurrency: number | undefined;
  readonly pointInTimeRecovery: boolean;
  readonly sourceMaps: boolean;
  readonly prebuiltBundles: string | undefined;
}

/** Thrown when the stack configuration is invalid; lists every problem, each naming its key. */
export class StackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Streamer stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

export function fullKey(name: string): string {
  return `${CONFIG_NAMESPACE}:${name}`;
}

function isConfigKeyName(name: string): name is ConfigKeyName {
  return Object.prototype.hasOwnProperty.call(CONFIG_KEYS, name);
}

function parseValues(raw: Readonly<Record<string, string | undefined>>, problems: string[]): ParsedValues {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(CONFIG_KEYS) as ConfigKeyName[]) {
    const key: ConfigKey<unknown> = CONFIG_KEYS[name];
    const given = raw[name];
    // Blank means unset: `Pulumi.yaml` declares optional text keys with an empty default.
    const text = given !== undefined && given.trim() !== '' ? given : key.default === undefined ? undefined : String(key.default);
    if (text === undefined) continue;
    const result = key.schema.safeParse(text);
    if (result.success) {
      values[name] = result.data;
    } else {
      const got = key.secret ? `a value of ${text.trim().length} characters` : `"${text}"`;
      problems.push(`${fullKey(name)} must be ${key.expected}, got ${got}`);
    }
  }
  return values as ParsedValues;
}

function unknownKeyProblems(raw: Readonly<Record<string, string | undefined>>): string[] {
  const known = Object.keys(CONFIG_KEYS);
  return Object.keys(raw)
    .filter((name) => !isConfigKeyName(name))
    .map((name) => {
      const near = known.find((k) => k.toLowerCase() === name.toLowerCase());
      return `${fullKey(name)} is not a Streamer setting${near ? ` (did you mean ${fullKey(near)}?)` : ''}; see docs/deploy.md`;
    });
}

function authConfig(values: ParsedValues, problems: string[]): StackConfig['auth'] | undefined {
  const sources = (['jwtSecret', 'jwtSecretParameter', 'jwtPublicKey', 'jwksUrl'] as const).filter((name) => values[name] !== undefined);
  if (sources.length !== 1) {
    const found = sources.length === 0 ? 'none is set' : `got ${sources.map(fullKey).join(' and ')}`;
    problems.push(
      `exactly one of ${fullKey('jwtSecret')}, ${fullKey('jwtSecretParameter')}, ${fullKey('jwtPublicKey')}, ${fullKey('jwksUrl')} must be set (the key that verifies client tokens); ${found}. ` +
        `For example: pulumi config set --secret ${fullKey('jwtSecret')} "$(openssl rand -base64 48)"`,
    );
    return undefined;
  }
  if (values.jwtSecret !== undefined && values.jwtAlgorithms !== undefined) {
    problems.push(
      `${fullKey('jwtAlgorithms')} applies only with ${fullKey('jwtPublicKey')} or ${fullKey('jwksUrl')}; a ${fullKey('jwtSecret')} always means HS256`,
    );
  }
  const rotating = values.jwtPreviousSecret !== undefined || values.jwtPreviousSecretAcceptedUntil !== undefined;
  if (rotating && (values.jwtPreviousSecret === undefined || values.jwtPreviousSecretAcceptedUntil === undefined || values.jwtSecret === undefined)) {
    problems.push(
      `a rotation sets ${fullKey('jwtPreviousSecret')} and ${fullKey('jwtPreviousSecretAcceptedUntil')} together, beside ${fullKey('jwtSecret')} (the new key)`,
    );
  }
  if (values.tokenKeyKmsKeyArn !== undefined && values.jwtSecret === undefined && values.jwtSecretParameter === undefined) {
    problems.push(`${fullKey('tokenKeyKmsKeyArn')} applies only with ${fullKey('jwtSecret')} or ${fullKey('jwtSecretParameter')} (the stored HS256 key)`);
  }
  const common = {
    kmsKeyArn: values.tokenKeyKmsKeyArn,
    refreshSeconds: values.tokenKeyRefreshSeconds,
    algorithms: values.jwtAlgorithms,
    issuer: values.jwtIssuer,
    audience: values.jwtAudience,
    maxLifetimeSeconds: values.maxTokenLifetimeSeconds,
  };
  if (values.jwtSecret !== undefined) {
    const previous =
      values.jwtPreviousSecret !== undefined && values.jwtPreviousSecretAcceptedUntil !== undefined
        ? { secret: pulumi.secret(values.jwtPreviousSecret), acceptedUntil: values.jwtPreviousSecretAcceptedUntil }
        : undefined;
    return { source: 'jwtSecret', secret: pulumi.secret(values.jwtSecret), previous, ...common };
  }
  if (values.jwtSecretParameter !== undefined) return { source: 'jwtSecretParameter', parameter: values.jwtSecretParameter, ...common };
  if (values.jwtPublicKey !== undefined) return { source: 'jwtPublicKey', publicKey: values.jwtPublicKey, ...common };
  return { source: 'jwksUrl', jwksUrl: values.jwksUrl!, ...common };
}

/**
 * Validates raw config values (keys without the `streamer:` prefix) and
 * returns the typed configuration, or throws a {@link StackConfigError}
 * listing every problem.
 */
export function parseStackConfig(raw: Readonly<Record<string, string | undefined>>): StackConfig {
  const problems = unknownKeyProblems(raw);
  const values = parseValues(raw, problems);
  const auth = authConfig(values, problems);
  const routerBudgetMs = values.routerTimeoutSeconds * 1000;
  // Either may be missing after a parse problem; NaN comparisons are false then.
  if (values.syncThresholdMs >= routerBudgetMs) {
    problems.push(
      `${fullKey('syncThresholdMs')} (${values.syncThresholdMs}) must be below ${fullKey('routerTimeoutSeconds')} × 1000 ` +
        `(${routerBudgetMs}): synchronous handlers run inside the router`,
    );
  }
  if (problems.length > 0 || auth === undefined) throw new StackConfigError(problems);
  return {
    syncThresholdMs: values.syncThresholdMs,
    memoryMb: {
      authorizer: values.authorizerMemoryMb,
      connect: values.connectMemoryMb,
      disconnect: values.disconnectMemoryMb,
      router: values.routerMemoryMb,
      processor: values.processorMemoryMb,
    },
    timeoutSeconds: { router: values.routerTimeoutSeconds, processor: values.processorTimeoutSeconds },
    connectionTtlHours: values.connectionTtlHours,
    requestTtlDays: values.requestTtlDays,
    maxRetries: values.maxRetries,
    leaseMs: values.leaseMs,
    queueLeaseMs: values.queueLeaseMs,
    cancelPollMs: values.cancelPollMs,
    directDispatch: values.directDispatch,
    logLevel: values.logLevel,
    auth,
    alarmEmail: values.alarmEmail,
    stageName: values.stageName,
    tracing: values.tracing,
    logRetentionDays: values.logRetentionDays,
    rateLimits: { connection: values.rateLimitConnection, user: values.rateLimitUser, tenant: values.rateLimitTenant },
    throttling: { rateLimit: values.throttlingRateLimit, burstLimit: values.throttlingBurstLimit },
    alarms: { errorRatePercent: values.alarmErrorRatePercent, processingTimeMs: values.alarmProcessingTimeMs },
    architecture: values.architecture,
    manageApiGatewayAccount: values.manageApiGatewayAccount,
    processorReservedConcurrency: values.processorReservedConcurrency,
    pointInTimeRecovery: values.pointInTimeRecovery,
    sourceMaps: values.sourceMaps,
    prebuiltBundles: values.prebuiltBundles,
  };
}

/** Reads every `streamer:*` key of the current stack (project defaults from `Pulumi.yaml` included) and validates it. */
export function readStackConfig(): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  return parseStackConfig(raw);
}

