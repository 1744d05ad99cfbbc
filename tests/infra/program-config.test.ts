/**
 * Stack configuration reaches the resources it drives, and a bad stack never
 * gets as far as planning one.
 */
import * as fs from 'node:fs';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAuthSettings } from '../../functions/core/auth/verify-token';
import { declaredEnv, type FunctionName } from '../../functions/core/function-declarations';
import { ENV, readRuntimeSettings } from '../../functions/core/runtime-env';
import { ACCOUNT, REGION, runProgram, runWithDefaults, TEST_JWT_SECRET, unwrapSecret, type ProgramRun } from './pulumi-program';

const FUNCTION = 'aws:lambda/function:Function';
const API_ID = 'streamer-websocket-id';
const EXECUTION_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}`;

function envOf(run: ProgramRun, fn: string): Record<string, string> {
  return (unwrapSecret(run.named(FUNCTION, `streamer-${fn}`).inputs.environment).value as { variables: Record<string, string> }).variables;
}

function policyOf(run: ProgramRun, fn: string): { Sid: string; Action: string[]; Resource: string[] }[] {
  return run
    .ofType('aws:iam/rolePolicy:RolePolicy')
    .filter((p) => p.inputs.role === `streamer-${fn}-4f3e2d1`)
    .flatMap((p) => JSON.parse(p.inputs.policy).Statement);
}

describe('a tuned stack', () => {
  let run: ProgramRun;

  beforeAll(async () => {
    run = await runWithDefaults({
      routerMemoryMb: '1024',
      processorTimeoutSeconds: '600',
      stageName: 'prod',
      tracing: 'true',
      architecture: 'x86_64',
      logRetentionDays: '30',
      logLevel: 'DEBUG',
      syncThresholdMs: '2000',
      maxRetries: '5',
      connectionTtlHours: '2',
      requestTtlDays: '30',
      rateLimitUser: '10/20',
      throttlingRateLimit: '50',
      throttlingBurstLimit: '100',
      alarmErrorRatePercent: '2.5',
      alarmProcessingTimeMs: '60000',
      alarmEmail: 'ops@example.com',
      maxTokenLifetimeSeconds: '3600',
    });
  });

  it('hands the maximum token lifetime to the authorizer only', () => {
    expect(envOf(run, 'authorizer')[ENV.jwtMaxLifetimeSeconds]).toBe('3600');
    expect(readAuthSettings(envOf(run, 'authorizer')).maxLifetimeSeconds).toBe(3600);
    for (const fn of ['connect', 'disconnect', 'router', 'processor']) expect(envOf(run, fn)[ENV.jwtMaxLifetimeSeconds]).toBeUndefined();
  });

  it('gives the router the memory the stack asks for, and leaves the others alone', () => {
    expect(run.named(FUNCTION, 'streamer-router').inputs.memorySize).toBe(1024);
    expect(run.named(FUNCTION, 'streamer-connect').inputs.memorySize).toBe(256);
    expect(run.named(FUNCTION, 'streamer-processor').inputs).toMatchObject({ memorySize: 512, timeout: 600 });
  });

  it('serves the API on the configured stage, everywhere the stage appears', () => {
    expect(run.outputs.websocketUrl).toBe(`wss://${API_ID}.execute-api.${REGION}.amazonaws.com/prod`);
    expect(run.ofType('aws:apigatewayv2/stage:Stage')[0].inputs).toMatchObject({
      name: 'prod',
      defaultRouteSettings: { throttlingRateLimit: 50, throttlingBurstLimit: 100 },
    });
    expect(envOf(run, 'router')[ENV.managementEndpoint]).toBe(`https://${API_ID}.execute-api.${REGION}.amazonaws.com/prod`);
    const sourceArns = run.ofType('aws:lambda/permission:Permission').map((p) => p.inputs.sourceArn);
    expect(sourceArns).toContain(`${EXECUTION_ARN}/prod/$connect`);
    const manage = policyOf(run, 'router').find((s) => s.Sid === 'ManageConnections')!;
    expect(manage.Resource).toContain(`${EXECUTION_ARN}/prod/POST/@connections/*`);
  });

  it('turns on X-Ray for every function, with the only "*" grant X-Ray accepts', () => {
    for (const fn of FUNCTION_NAMES) {
      expect(run.named(FUNCTION, `streamer-${fn}`).inputs).toMatchObject({ tracingConfig: { mode: 'Active' }, architectures: ['x86_64'] });
      expect(envOf(run, fn)).toMatchObject({ POWERTOOLS_TRACE_ENABLED: 'true', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
      const wildcard = policyOf(run, fn).filter((s) => s.Resource.includes('*'));
      expect(wildcard).toEqual([{ Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: ['*'] }]);
    }
  });

  it('keeps logs as long as configured', () => {
    for (const logGroup of run.ofType('aws:cloudwatch/logGroup:LogGroup')) expect(logGroup.inputs.retentionInDays).toBe(30);
  });

  it('passes the request lifecycle settings to the functions that read them', () => {
    const settingsOf = (fn: FunctionName) => readRuntimeSettings(envOf(run, fn), { functionName: fn, variables: declaredEnv(fn) });
    expect(settingsOf('router')).toMatchObject({
      syncThresholdMs: 2000,
      maxRetries: 5,
      requestTtlSeconds: 30 * 86400,
      rateLimits: { user: { ratePerSecond: 10, burst: 20 }, connection: { ratePerSecond: 50, burst: 100 } },
    });
    expect(settingsOf('connect')).toMatchObject({ connectionTtlSeconds: 2 * 3600 });
    expect(settingsOf('processor')).toMatchObject({ maxRetries: 5, requestTtlSeconds: 30 * 86400 });
  });

  it('alarms at the configured thresholds and emails the configured address', () => {
    const [topic] = run.ofType('aws:sns/topic:Topic');
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${topic.name}-4f3e2d1`;
    expect(run.ofType('aws:sns/topicSubscription:TopicSubscription')[0].inputs).toMatchObject({
      protocol: 'email',
      endpoint: 'ops@example.com',
      topic: topicArn,
    });
    const alarms = run.ofType('aws:cloudwatch/metricAlarm:MetricAlarm');
    for (const alarm of alarms) expect({ alarm: alarm.name, actions: alarm.inputs.alarmActions }).toEqual({ alarm: alarm.name, actions: [topicArn] });
    expect(run.named('aws:cloudwatch/metricAlarm:MetricAlarm', 'streamer-router-error-rate').inputs.threshold).toBe(2.5);
    expect(run.named('aws:cloudwatch/metricAlarm:MetricAlarm', 'streamer-processing-time-p99').inputs.threshold).toBe(60000);
  });
});

describe('a stack verifying tokens with a JWKS URL', () => {
  let run: ProgramRun;

  beforeAll(async () => {
    run = await runProgram(
      {
        jwksUrl: 'https://issuer.example/.well-known/jwks.json',
        jwtIssuer: 'https://issuer.example/',
        jwtAudience: 'streamer',
        jwtAlgorithms: 'RS256',
        manageApiGatewayAccount: 'false',
      },
      { stack: 'prod' },
    );
  });

  it('hands the JWKS settings to the authorizer, and no secret', () => {
    expect(unwrapSecret(run.named(FUNCTION, 'streamer-authorizer').inputs.environment).secret).toBe(false);
    expect(envOf(run, 'authorizer')).toMatchObject({
      [ENV.jwksUrl]: 'https://issuer.example/.well-known/jwks.json',
      [ENV.jwtIssuer]: 'https://issuer.example/',
      [ENV.jwtAudience]: 'streamer',
      [ENV.jwtAlgorithms]: 'RS256',
    });
    expect(envOf(run, 'authorizer')[ENV.jwtSecretParameter]).toBeUndefined();
    expect(envOf(run, 'connect')[ENV.jwksUrl]).toBeUndefined();
    expect(run.ofType('aws:ssm/parameter:Parameter')).toEqual([]);
  });

  it('names functions, metrics and the dashboard after the stack', () => {
    expect(run.outputs.functionNames).toMatchObject({ router: 'streamer-prod-router' });
    expect(envOf(run, 'router').POWERTOOLS_SERVICE_NAME).toBe('streamer-prod');
    expect(run.ofType('aws:cloudwatch/dashboard:Dashboard')[0].inputs.dashboardName).toBe('streamer-prod');
  });

  it('leaves the account-wide API Gateway logging role to another stack when told to', () => {
    expect(run.ofType('aws:apigateway/account:Account')).toEqual([]);
  });
});

describe('a bad stack', () => {
  it.each([
    [{ routerMemoryMb: '64' }, 'streamer:routerMemoryMb must be an integer in [128, 10240], got "64"'],
    [{ processorMemoryMb: 'a lot' }, 'streamer:processorMemoryMb must be an integer in [128, 10240], got "a lot"'],
    [{ jwksUrl: 'https://issuer.example/jwks.json' }, 'got streamer:jwtSecret and streamer:jwksUrl'],
  ])('fails the program before any resource, naming the key (%j)', async (overrides, message) => {
    const error = await runWithDefaults(overrides).then(
      () => undefined,
      (e: unknown) => e as Error & { registeredResources: number },
    );
    expect(error?.message).toContain(message);
    expect(error?.registeredResources).toBe(0);
  });

  it('fails the program when no token key is set', async () => {
    await expect(runProgram({})).rejects.toThrow(
      'exactly one of streamer:jwtSecret, streamer:jwtSecretParameter, streamer:jwtPublicKey, streamer:jwksUrl must be set (the key that verifies client tokens); none is set',
    );
  });

  it('refuses prebuilt bundles that are not there, naming the folder and what to do', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'streamer-no-dist-'));
    const error = await runProgram({ jwtSecret: TEST_JWT_SECRET, prebuiltBundles: empty }).then(
      () => undefined,
      (e: unknown) => e as Error & { registeredResources: number },
    );
    expect(error?.message).toContain(`The prebuilt bundles in ${empty} do not match this tree`);
    for (const fn of FUNCTION_NAMES) expect(error?.message).toContain(`${fn}: no bundle at ${path.join(empty, fn, 'index.js')}`);
    expect(error?.message).toContain('`npm run build`');
    expect(error?.registeredResources).toBe(0);
  });
});

describe('point-in-time recovery', () => {
  it('is off for every table when the stack turns it off (a dev stack)', async () => {
    const run = await runWithDefaults({ pointInTimeRecovery: 'false' });
    for (const table of run.ofType('aws:dynamodb/table:Table')) expect(table.inputs.pointInTimeRecovery).toEqual({ enabled: false });
  });
});

describe('processor reserved concurrency', () => {
  it('reserves the stack’s number for the processor only', async () => {
    const run = await runWithDefaults({ processorReservedConcurrency: '200' });
    expect(run.named(FUNCTION, 'streamer-processor').inputs.reservedConcurrentExecutions).toBe(200);
    for (const fn of ['connect', 'disconnect', 'router']) expect(run.named(FUNCTION, `streamer-${fn}`).inputs.reservedConcurrentExecutions).toBeUndefined();
  });
});

describe('direct dispatch', () => {
  it('tells the router to leave every start to the stream when the stack turns it off, and keeps the role as it is', async () => {
    const run = await runWithDefaults({ directDispatch: 'false' });
    const router = readRuntimeSettings(envOf(run, 'router'), { functionName: 'router', variables: declaredEnv('router') });
    expect(router.directDispatch).toBe(false);
    // The grant stays: flipping the switch changes one variable, never IAM (no propagation delay, no role diff).
    expect(policyOf(run, 'router')).toContainEqual(expect.objectContaining({ Sid: 'InvokeWorker', Action: ['lambda:InvokeFunction'] }));
  });

  it('refuses a switch that is not true or false, naming the key', async () => {
    await expect(runWithDefaults({ directDispatch: 'yes' })).rejects.toThrow('streamer:directDispatch must be true or false, got "yes"');
  });
});
