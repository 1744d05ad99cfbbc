import * as fs from 'node:fs';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as yaml from 'js-yaml';
import { LAMBDA_LIMITS, WEBSOCKET_LIMITS } from '../../functions/core/aws-limits';
import { readAuthSettings } from '../../functions/core/auth/verify-token';
import { DEFAULTS, ENV, readRuntimeSettings } from '../../functions/core/runtime-env';
import { CONFIG_KEYS, parseStackConfig, pulumiConfigType, StackConfigError, type ConfigKeyName } from '../../infra/config';
import { TEST_JWT_SECRET } from './pulumi-program';

const ROOT = path.join(__dirname, '..', '..');

const valid = { jwtSecret: TEST_JWT_SECRET };

/** A minimal environment the functions accept, plus one variable under test. */
function functionsEnv(variable: string, value: string): Record<string, string> {
  return {
    [ENV.connectionsTable]: 'connections',
    [ENV.requestsTable]: 'requests',
    [ENV.subscriptionsTable]: 'subscriptions',
    [ENV.idempotencyKeysTable]: 'idempotency-keys',
    [ENV.progressLogTable]: 'progress-log',
    [ENV.managementEndpoint]: 'https://api.example/live',
    [variable]: value,
  };
}

function problemsOf(raw: Record<string, string | undefined>): readonly string[] {
  try {
    parseStackConfig(raw);
  } catch (error) {
    if (error instanceof StackConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('stack configuration', () => {
  it('applies every documented default when the stack sets only a token key', () => {
    const config = parseStackConfig(valid);
    expect(config).toMatchObject({
      syncThresholdMs: 5000,
      memoryMb: { connect: 256, disconnect: 256, router: 256, processor: 512 },
      timeoutSeconds: { router: 29, processor: 900 },
      connectionTtlHours: 24,
      requestTtlDays: 7,
      maxRetries: 3,
      logLevel: 'INFO',
      alarmEmail: undefined,
      stageName: 'live',
      tracing: false,
      logRetentionDays: 14,
      rateLimits: {
        connection: { ratePerSecond: 50, burst: 100 },
        user: { ratePerSecond: 100, burst: 200 },
        tenant: { ratePerSecond: 1000, burst: 2000 },
      },
      throttling: { rateLimit: 1000, burstLimit: 2000 },
      alarms: { errorRatePercent: 1, processingTimeMs: 300_000 },
      architecture: 'arm64',
      manageApiGatewayAccount: true,
    });
    expect(config.auth.source).toBe('jwtSecret');
  });

  it('takes the defaults it shares with the functions from runtime-env', () => {
    const config = parseStackConfig(valid);
    expect(config.syncThresholdMs).toBe(DEFAULTS.syncThresholdMs);
    expect(config.maxRetries).toBe(DEFAULTS.maxRetries);
    expect(config.connectionTtlHours).toBe(DEFAULTS.connectionTtlHours);
    expect(config.requestTtlDays).toBe(DEFAULTS.requestTtlDays);
    expect(config.rateLimits).toEqual({
      connection: DEFAULTS.rateLimitPerConnection,
      user: DEFAULTS.rateLimitPerUser,
      tenant: DEFAULTS.rateLimitPerTenant,
    });
  });

  it.each([
    ['syncThresholdMs', ENV.syncThresholdMs, 0, 28_999],
    ['maxRetries', ENV.maxRetries, 0, 20],
    ['connectionTtlHours', ENV.connectionTtlHours, 1, 24 * 365],
    ['requestTtlDays', ENV.requestTtlDays, 1, 3650],
  ] as const)('accepts for %s exactly the range the functions accept in %s', (key, variable, min, max) => {
    const functionsAccept = (value: number) => {
      try {
        readRuntimeSettings(functionsEnv(variable, String(value)));
        return true;
      } catch {
        return false;
      }
    };
    const stackAccepts = (value: number) => CONFIG_KEYS[key].schema.safeParse(String(value)).success;
    for (const value of [min - 1, min, max, max + 1]) {
      expect({ value, stack: stackAccepts(value) }).toEqual({ value, stack: functionsAccept(value) });
    }
  });

  it('accepts for maxTokenLifetimeSeconds exactly the range, and has the default, the connect function reads', () => {
    const functionsAccept = (value: number) => {
      try {
        return readAuthSettings({ [ENV.jwtSecretParameter]: '/streamer-dev/token-key', [ENV.jwtMaxLifetimeSeconds]: String(value) }).maxLifetimeSeconds === value;
      } catch {
        return false;
      }
    };
    const stackAccepts = (value: number) => CONFIG_KEYS.maxTokenLifetimeSeconds.schema.safeParse(String(value)).success;
    for (const value of [59, 60, 86_400, 31_536_000, 31_536_001]) {
      expect({ value, stack: stackAccepts(value) }).toEqual({ value, stack: functionsAccept(value) });
    }
    expect(parseStackConfig(valid).auth.maxLifetimeSeconds).toBe(DEFAULTS.maxTokenLifetimeSeconds);
    expect(readAuthSettings({ [ENV.jwtSecretParameter]: '/streamer-dev/token-key' }).maxLifetimeSeconds).toBe(DEFAULTS.maxTokenLifetimeSeconds);
  });

  it.each(['50/100', '2.5/10', ' 7 / 9 ', '1000', '0/10', '5/0', 'a/b'])('parses the rate limit %j as the functions do', (value) => {
    let functions: unknown;
    try {
      functions = readRuntimeSettings(functionsEnv(ENV.rateLimitPerUser, value)).rateLimits.user;
    } catch {
      functions = 'refused';
    }
    const parsed = CONFIG_KEYS.rateLimitUser.schema.safeParse(value);
    expect(parsed.success ? parsed.data : 'refused').toEqual(functions);
  });

  it('reads set values with their types', () => {
    const config = parseStackConfig({
      ...valid,
      routerMemoryMb: '1024',
      tracing: 'true',
      architecture: 'x86_64',
      rateLimitUser: '2.5/10',
      alarmErrorRatePercent: '0.5',
      alarmEmail: 'ops@example.com',
      logLevel: 'DEBUG',
    });
    expect(config.memoryMb.router).toBe(1024);
    expect(config.tracing).toBe(true);
    expect(config.architecture).toBe('x86_64');
    expect(config.rateLimits.user).toEqual({ ratePerSecond: 2.5, burst: 10 });
    expect(config.alarms.errorRatePercent).toBe(0.5);
    expect(config.alarmEmail).toBe('ops@example.com');
    expect(config.logLevel).toBe('DEBUG');
  });

  it('treats an empty value as unset, as Pulumi.yaml declares optional keys with an empty default', () => {
    const config = parseStackConfig({ ...valid, jwksUrl: '', jwtPublicKey: '', alarmEmail: '', jwtIssuer: '' });
    expect(config.auth.source).toBe('jwtSecret');
    expect(config.alarmEmail).toBeUndefined();
    expect(config.auth.issuer).toBeUndefined();
  });

  it.each([
    ['routerMemoryMb', '64', 'streamer:routerMemoryMb must be an integer in [128, 10240], got "64"'],
    ['processorMemoryMb', 'lots', 'streamer:processorMemoryMb must be an integer in [128, 10240], got "lots"'],
    ['connectMemoryMb', '256.5', 'streamer:connectMemoryMb must be an integer in [128, 10240], got "256.5"'],
    ['processorTimeoutSeconds', '901', 'streamer:processorTimeoutSeconds must be an integer in [1, 900], got "901"'],
    ['routerTimeoutSeconds', '30', 'streamer:routerTimeoutSeconds must be an integer in [1, 29], got "30"'],
    ['syncThresholdMs', '29000', 'streamer:syncThresholdMs must be an integer in [0, 28999], got "29000"'],
    ['routerMemoryMb', '10241', 'streamer:routerMemoryMb must be an integer in [128, 10240], got "10241"'],
    ['maxRetries', '-1', 'streamer:maxRetries must be an integer in [0, 20], got "-1"'],
    ['logRetentionDays', '10', 'streamer:logRetentionDays must be one of 1, 3, 5, 7, 14, 30'],
    ['logLevel', 'LOUD', 'streamer:logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT, got "LOUD"'],
    ['architecture', 'arm', 'streamer:architecture must be one of arm64, x86_64, got "arm"'],
    ['tracing', 'yes', 'streamer:tracing must be true or false, got "yes"'],
    ['rateLimitTenant', '1000', 'streamer:rateLimitTenant must be "<ratePerSecond>/<burst>"'],
    ['rateLimitConnection', '0/10', 'streamer:rateLimitConnection must be "<ratePerSecond>/<burst>"'],
    ['alarmErrorRatePercent', '0', 'streamer:alarmErrorRatePercent must be a number in (0, 100], got "0"'],
    ['stageName', 'my stage', 'streamer:stageName must be 1–128 letters, digits, "-" or "_", got "my stage"'],
    ['alarmEmail', 'ops-at-example', 'streamer:alarmEmail must be an email address, got "ops-at-example"'],
    ['throttlingBurstLimit', '0', 'streamer:throttlingBurstLimit must be an integer in [1, 100000], got "0"'],
  ])('refuses %s=%s, naming the key and what it accepts', (key, value, message) => {
    const problems = problemsOf({ ...valid, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('lists every problem at once, in one error naming each key', () => {
    expect(() => parseStackConfig({ routerMemoryMb: '64', stageName: '' , logLevel: 'LOUD' })).toThrow(
      /streamer:routerMemoryMb[\s\S]*streamer:logLevel[\s\S]*exactly one of streamer:jwtSecret/,
    );
  });

  it('refuses a stack with no token key, and says how to set one', () => {
    const [problem] = problemsOf({});
    expect(problem).toContain('exactly one of streamer:jwtSecret, streamer:jwtSecretParameter, streamer:jwtPublicKey, streamer:jwksUrl must be set');
    expect(problem).toContain('none is set');
    expect(problem).toContain('pulumi config set --secret streamer:jwtSecret');
  });

  it('refuses two token keys at once', () => {
    const [problem] = problemsOf({ jwtSecret: TEST_JWT_SECRET, jwksUrl: 'https://issuer.example/jwks.json' });
    expect(problem).toContain('got streamer:jwtSecret and streamer:jwksUrl');
  });

  it('refuses a short HMAC secret without echoing it', () => {
    const [problem] = problemsOf({ jwtSecret: 'hunter2' });
    expect(problem).toBe('streamer:jwtSecret must be a string of at least 32 characters, got a value of 7 characters');
    expect(problem).not.toContain('hunter2');
  });

  it('accepts a PEM public key or an https JWKS URL, with pinned algorithms', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';
    expect(parseStackConfig({ jwtPublicKey: pem, jwtAlgorithms: 'ES256' }).auth).toMatchObject({
      source: 'jwtPublicKey',
      publicKey: pem,
      algorithms: ['ES256'],
    });
    expect(parseStackConfig({ jwksUrl: 'https://issuer.example/jwks.json', jwtIssuer: 'https://issuer.example/' }).auth).toMatchObject({
      source: 'jwksUrl',
      jwksUrl: 'https://issuer.example/jwks.json',
      issuer: 'https://issuer.example/',
    });
    expect(problemsOf({ jwksUrl: 'http://issuer.example/jwks.json' })[0]).toContain('streamer:jwksUrl must be an https:// URL');
    expect(problemsOf({ jwtPublicKey: 'not a key' })[0]).toContain('streamer:jwtPublicKey must be a PEM public key');
    expect(problemsOf({ jwksUrl: 'https://issuer.example/jwks.json', jwtAlgorithms: 'HS256' })[0]).toContain(
      'streamer:jwtAlgorithms must be a comma-separated list of RS256, ES256, got "HS256"',
    );
  });

  it('refuses algorithms with a shared secret (always HS256)', () => {
    expect(problemsOf({ ...valid, jwtAlgorithms: 'RS256' })[0]).toContain(
      'streamer:jwtAlgorithms applies only with streamer:jwtPublicKey or streamer:jwksUrl',
    );
  });

  it('refuses a sync threshold the router could not finish within its timeout', () => {
    expect(problemsOf({ ...valid, syncThresholdMs: '20000', routerTimeoutSeconds: '20' })[0]).toBe(
      'streamer:syncThresholdMs (20000) must be below streamer:routerTimeoutSeconds × 1000 (20000): synchronous handlers run inside the router',
    );
    expect(parseStackConfig({ ...valid, syncThresholdMs: '28999', routerTimeoutSeconds: '29' }).syncThresholdMs).toBe(28999);
  });

  it('takes the ranges AWS fixes from the limits module: integration timeout, Lambda timeout and memory', () => {
    expect(CONFIG_KEYS.routerTimeoutSeconds.expected).toBe(`an integer in [1, ${WEBSOCKET_LIMITS.integrationTimeoutSeconds}]`);
    expect(CONFIG_KEYS.processorTimeoutSeconds.expected).toBe(`an integer in [1, ${LAMBDA_LIMITS.maxTimeoutSeconds}]`);
    expect(CONFIG_KEYS.syncThresholdMs.expected).toBe(`an integer in [0, ${WEBSOCKET_LIMITS.integrationTimeoutSeconds * 1000 - 1}]`);
    for (const fn of FUNCTION_NAMES) {
      expect(CONFIG_KEYS[`${fn}MemoryMb`].expected).toBe(`an integer in [${LAMBDA_LIMITS.minMemoryMb}, ${LAMBDA_LIMITS.maxMemoryMb}]`);
    }
  });

  it('refuses an unknown key, suggesting the one that differs only in case', () => {
    expect(problemsOf({ ...valid, routerMemoryMB: '512' })[0]).toContain(
      'streamer:routerMemoryMB is not a Streamer setting (did you mean streamer:routerMemoryMb?)',
    );
  });

  it('keeps the secret a Pulumi secret', async () => {
    const { auth } = parseStackConfig(valid);
    if (auth.source !== 'jwtSecret') throw new Error('expected a secret');
    expect(await pulumi.isSecret(auth.secret)).toBe(true);
  });

  it('parses every default through its own rule', () => {
    for (const [name, key] of Object.entries(CONFIG_KEYS)) {
      if (key.default === undefined) continue;
      expect({ name, ok: key.schema.safeParse(String(key.default)).success }).toEqual({ name, ok: true });
    }
  });
});

describe('Pulumi.yaml', () => {
  const project = yaml.load(fs.readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8')) as {
    name: string;
    runtime: { name: string; options?: { typescript?: boolean } };
    config: Record<string, { type: string; default: unknown; description?: string }>;
  };

  it('is the streamer TypeScript project', () => {
    expect(project.name).toBe('streamer');
    expect(project.runtime).toEqual({ name: 'nodejs', options: { typescript: true } });
  });

  it('declares every non-secret key with the type and default of infra/config.ts', () => {
    const declared = Object.entries(CONFIG_KEYS)
      .filter(([, key]) => !key.secret)
      .map(([name, key]) => [name, { type: pulumiConfigType(key), default: key.type === 'number' ? String(key.default) : (key.default ?? '') }]);
    const inYaml = Object.entries(project.config).map(([name, decl]) => [name, { type: decl.type, default: decl.default }]);
    expect(Object.fromEntries(inYaml)).toEqual(Object.fromEntries(declared));
  });

  it('leaves the secrets undeclared, since a declared key without a default is required by every stack', () => {
    const secrets = Object.entries(CONFIG_KEYS).filter(([, key]) => key.secret).map(([name]) => name);
    expect(secrets).toEqual(['jwtSecret', 'jwtPreviousSecret']);
    for (const name of secrets) expect(project.config[name]).toBeUndefined();
  });
});

describe.each(['dev', 'staging', 'prod'])('Pulumi.%s.yaml.template', (stack) => {
  const template = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml.template`), 'utf8')) as {
    config: Record<string, unknown>;
  };

  it('sets only known keys, to valid values (plus a token key once copied)', () => {
    const raw: Record<string, string> = { jwtSecret: TEST_JWT_SECRET };
    for (const [key, value] of Object.entries(template.config)) {
      if (!key.startsWith('streamer:')) continue;
      raw[key.slice('streamer:'.length)] = String(value);
    }
    expect(Object.keys(raw).filter((k) => !(k in CONFIG_KEYS))).toEqual([]);
    expect(() => parseStackConfig(raw)).not.toThrow();
    expect(template.config['aws:region']).toEqual(expect.any(String));
  });
});
