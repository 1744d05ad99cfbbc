/**
 * The deployment `index.ts` describes, with the default configuration, as
 * Pulumi's mocks record it: every resource, its settings, and the IAM reach
 * of every function.
 */
import { ssmTokenKeys } from '../../functions/core/auth/ssm-token-keys';
import { ALL_TABLES, REQUEST_STREAM_MAPPING, SWEEP_SCHEDULE_MINUTES, type TableShape } from '../../functions/core/cloud-shapes';
import { readAuthSettings } from '../../functions/core/auth/verify-token';
import { composeDeps } from '../../functions/core/compose-deps';
import { declaredEnv, FUNCTION_DECLARATIONS, FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { HandlerRegistry } from '../../functions/core/handlers/handler-registry';
import { ENV, readRuntimeSettings } from '../../functions/core/runtime-env';
import { METRIC_DIMENSIONS, METRICS, METRICS_NAMESPACE } from '../../infra/metrics-names';
import { ACCOUNT, REGION, runWithDefaults, unwrapSecret, type ProgramRun, type RecordedResource } from './pulumi-program';

const T = {
  table: 'aws:dynamodb/table:Table',
  api: 'aws:apigatewayv2/api:Api',
  route: 'aws:apigatewayv2/route:Route',
  routeResponse: 'aws:apigatewayv2/routeResponse:RouteResponse',
  authorizer: 'aws:apigatewayv2/authorizer:Authorizer',
  integration: 'aws:apigatewayv2/integration:Integration',
  stage: 'aws:apigatewayv2/stage:Stage',
  fn: 'aws:lambda/function:Function',
  invokeConfig: 'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
  permission: 'aws:lambda/permission:Permission',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  mapping: 'aws:lambda/eventSourceMapping:EventSourceMapping',
  queue: 'aws:sqs/queue:Queue',
  rule: 'aws:cloudwatch/eventRule:EventRule',
  target: 'aws:cloudwatch/eventTarget:EventTarget',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  dashboard: 'aws:cloudwatch/dashboard:Dashboard',
  topic: 'aws:sns/topic:Topic',
} as const;

const FUNCTIONS = FUNCTION_NAMES;
type Fn = (typeof FUNCTIONS)[number];

const API_ID = 'streamer-websocket-id';
const EXECUTION_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}`;
const functionName = (fn: Fn) => `streamer-dev-${fn}`;
const functionArn = (fn: Fn) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName(fn)}`;
const tableName = (logical: string) => `streamer-${logical}-4f3e2d1`;
const tableArn = (logical: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName(logical)}`;
const STREAM_ARN = `${tableArn('requests')}/stream/2025-01-01T00:00:00.000`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:streamer-stream-dlq-4f3e2d1`;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

let run: ProgramRun;

beforeAll(async () => {
  run = await runWithDefaults();
});

/** Every statement of every inline policy on a function's role. */
function statementsOf(fn: Fn): Statement[] {
  const role = run.named(T.role, `streamer-${fn}`);
  const roleName = `streamer-${fn}-4f3e2d1`;
  expect(role).toBeDefined();
  return run
    .ofType(T.rolePolicy)
    .filter((p) => p.inputs.role === roleName)
    .flatMap((p) => (JSON.parse(p.inputs.policy) as { Statement: Statement[] }).Statement);
}

/** `action resource` pairs a function may do (logging left out). */
function grantsOf(fn: Fn): string[] {
  return statementsOf(fn)
    .filter((s) => s.Sid !== 'WriteOwnLogs')
    .flatMap((s) => list(s.Action).flatMap((action) => list(s.Resource).map((resource) => `${action} ${resource}`)))
    .sort();
}

function envOf(fn: Fn): Record<string, string> {
  const environment = unwrapSecret(run.named(T.fn, `streamer-${fn}`).inputs.environment).value as { variables: Record<string, string> };
  return environment.variables;
}

describe('tables', () => {
  const tableOf = (shape: TableShape): RecordedResource => run.named(T.table, `streamer-${shape.logicalName}`);

  it('creates one table per cloud shape, and no other', () => {
    expect(run.ofType(T.table).map((t) => t.name).sort()).toEqual(ALL_TABLES.map((s) => `streamer-${s.logicalName}`).sort());
  });

  it.each(ALL_TABLES.map((shape) => [shape.logicalName, shape] as const))('gives %s the keys and indexes of its shape', (_, shape) => {
    const { inputs } = tableOf(shape);
    expect(inputs.hashKey).toBe(shape.partitionKey.name);
    expect(inputs.rangeKey).toBe(shape.sortKey?.name);
    expect(inputs.globalSecondaryIndexes ?? []).toEqual(
      shape.globalIndexes.map((index) => ({
        name: index.name,
        keySchemas: [
          { attributeName: index.partitionKey.name, keyType: 'HASH' },
          ...(index.sortKey ? [{ attributeName: index.sortKey.name, keyType: 'RANGE' }] : []),
        ],
        projectionType: index.projection,
      })),
    );
    // DynamoDB wants exactly the key attributes declared: each once, none unused.
    const used = [shape.partitionKey, shape.sortKey, ...shape.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])].filter(
      (k) => k !== undefined,
    );
    const expected = [...new Map(used.map((k) => [k.name, { name: k.name, type: k.type }])).values()];
    expect([...inputs.attributes].sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      expected.sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it.each(ALL_TABLES.map((shape) => [shape.logicalName, shape] as const))(
    'bills %s on demand, with TTL, point-in-time recovery only if it is the requests table, encryption and its stream setting',
    (_, shape) => {
      const { inputs } = tableOf(shape);
      expect(inputs.billingMode).toBe('PAY_PER_REQUEST');
      expect(inputs.ttl).toEqual({ attributeName: shape.ttlAttribute, enabled: true });
      // Only the requests table holds what a restore would bring back (results); the others live minutes to hours.
      expect(inputs.pointInTimeRecovery).toEqual({ enabled: shape.logicalName === 'requests' });
      // The AWS-owned key: encrypted at rest, no KMS charge (see infra/tables.ts).
      expect(inputs.serverSideEncryption).toEqual({ enabled: false });
      expect(inputs.streamEnabled).toBe(shape.stream !== undefined);
      expect(inputs.streamViewType).toBe(shape.stream);
    },
  );
});

describe('WebSocket API', () => {
  it('is a WebSocket API whose frames all reach $default', () => {
    const [api] = run.ofType(T.api);
    expect(api.inputs).toMatchObject({ protocolType: 'WEBSOCKET', routeSelectionExpression: '$request.body.action', name: 'streamer-dev' });
    expect(run.ofType(T.route).map((r) => r.inputs.routeKey).sort()).toEqual(['$connect', '$default', '$disconnect']);
  });

  it.each([
    ['$connect', 'connect'],
    ['$disconnect', 'disconnect'],
    ['$default', 'router'],
  ] as const)('sends %s to the %s function through a Lambda proxy integration', (routeKey, fn) => {
    const route = run.ofType(T.route).find((r) => r.inputs.routeKey === routeKey)!;
    const integrationId = String(route.inputs.target).replace(/^integrations\//, '');
    const integration = run.ofType(T.integration).find((i) => `${i.name}-id` === integrationId)!;
    expect(integration.inputs).toMatchObject({ integrationType: 'AWS_PROXY', integrationMethod: 'POST' });
    expect(integration.inputs.integrationUri).toContain(functionArn(fn));
  });

  it('puts $connect behind the token authorizer, a Lambda REQUEST authorizer of the authorizer function, and no other route', () => {
    const authorizers = run.ofType(T.authorizer);
    expect(authorizers).toHaveLength(1);
    const [authorizer] = authorizers;
    expect(authorizer!.inputs).toMatchObject({ apiId: API_ID, authorizerType: 'REQUEST' });
    expect(authorizer!.inputs.authorizerUri).toBe(
      `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${functionArn('authorizer')}/invocations`,
    );
    // The token has three places (query token, query Authorization, the header): a named source would refuse the others.
    expect(authorizer!.inputs.identitySources).toBeUndefined();
    // WebSocket APIs cache no authorizer results.
    expect(authorizer!.inputs.authorizerResultTtlInSeconds).toBeUndefined();
    const byKey = (key: string) => run.ofType(T.route).find((r) => r.inputs.routeKey === key)!;
    expect(byKey('$connect').inputs).toMatchObject({ authorizationType: 'CUSTOM', authorizerId: `${authorizer!.name}-id` });
    expect(byKey('$default').inputs).toMatchObject({ authorizationType: 'NONE' });
    expect(byKey('$default').inputs.authorizerId).toBeUndefined();
    expect(byKey('$disconnect').inputs).toMatchObject({ authorizationType: 'NONE' });
  });

  it('lets API Gateway invoke the authorizer function only as that authorizer', () => {
    const [authorizer] = run.ofType(T.authorizer);
    const permissions = run.ofType(T.permission).filter((p) => p.inputs.function === functionName('authorizer'));
    expect(permissions).toHaveLength(1);
    expect(permissions[0]!.inputs).toMatchObject({
      action: 'lambda:InvokeFunction',
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${EXECUTION_ARN}/authorizers/${authorizer!.name}-id`,
    });
  });

  it('makes $default two-way, so the router\'s returned body reaches the client, and only $default', () => {
    const byKey = (key: string) => run.ofType(T.route).find((r) => r.inputs.routeKey === key)!;
    expect(byKey('$default').inputs.routeResponseSelectionExpression).toBe('$default');
    expect(byKey('$connect').inputs.routeResponseSelectionExpression).toBeUndefined();
    expect(byKey('$disconnect').inputs.routeResponseSelectionExpression).toBeUndefined();
    const responses = run.ofType(T.routeResponse);
    expect(responses).toHaveLength(1);
    expect(responses[0]!.inputs).toMatchObject({ routeId: `${byKey('$default').name}-id`, routeResponseKey: '$default' });
  });

  it.each([
    ['$connect', 'connect'],
    ['$disconnect', 'disconnect'],
    ['$default', 'router'],
  ] as const)('lets API Gateway invoke the %s function only from that route', (routeKey, fn) => {
    const permissions = run.ofType(T.permission).filter((p) => p.inputs.principal === 'apigateway.amazonaws.com' && p.inputs.function === functionName(fn));
    expect(permissions).toHaveLength(1);
    expect(permissions[0].inputs).toMatchObject({ action: 'lambda:InvokeFunction', sourceArn: `${EXECUTION_ARN}/live/${routeKey}` });
  });

  it('deploys a stage with throttling and access logs that never record the token', () => {
    const [stage] = run.ofType(T.stage);
    expect(stage.inputs).toMatchObject({
      name: 'live',
      autoDeploy: true,
      defaultRouteSettings: { throttlingRateLimit: 1000, throttlingBurstLimit: 2000 },
    });
    const accessLogs = run.named(T.logGroup, 'streamer-access-logs');
    expect(accessLogs.inputs.retentionInDays).toBe(14);
    expect(stage.inputs.accessLogSettings.destinationArn).toBe(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${accessLogs.inputs.name}`);
    const format = JSON.parse(stage.inputs.accessLogSettings.format) as Record<string, string>;
    expect(format).toMatchObject({ connectionId: '$context.connectionId', routeKey: '$context.routeKey', status: '$context.status' });
    expect(JSON.stringify(format)).not.toMatch(/querystring|token|authorization/i);
  });

  it('sets the API Gateway logging role that access logs need', () => {
    const [account] = run.ofType('aws:apigateway/account:Account');
    expect(account.inputs.cloudwatchRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/streamer-apigateway-logs-4f3e2d1`);
    const [attachment] = run.ofType('aws:iam/rolePolicyAttachment:RolePolicyAttachment');
    expect(attachment.inputs.policyArn).toBe('arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs');
  });
});

describe('functions', () => {
  const expected: Record<Fn, { memorySize: number; timeout: number }> = {
    authorizer: { memorySize: 256, timeout: 10 },
    connect: { memorySize: 256, timeout: 10 },
    disconnect: { memorySize: 256, timeout: 10 },
    router: { memorySize: 256, timeout: 29 },
    processor: { memorySize: 512, timeout: 900 },
  };

  it.each(FUNCTIONS)('runs %s on Node 22 from its bundle, with its memory and timeout', (fn) => {
    const { inputs } = run.named(T.fn, `streamer-${fn}`);
    expect(inputs).toMatchObject({
      name: functionName(fn),
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      architectures: ['arm64'],
      tracingConfig: { mode: 'PassThrough' },
      ...expected[fn],
    });
    expect(inputs.code).toMatchObject({ __pulumiArchive: true });
  });

  it.each(FUNCTIONS)('gives %s its own log group, with retention, named as Lambda expects', (fn) => {
    const logGroup = run.named(T.logGroup, `streamer-${fn}`);
    expect(logGroup.inputs).toEqual({ name: `/aws/lambda/${functionName(fn)}`, retentionInDays: 14 });
    expect(run.named(T.fn, `streamer-${fn}`).inputs.loggingConfig).toEqual({ logFormat: 'Text', logGroup: `/aws/lambda/${functionName(fn)}` });
  });

  it.each(FUNCTIONS)('hands %s exactly the variables its declaration reads, with the stack\'s values', (fn) => {
    const env = envOf(fn);
    const declared = declaredEnv(fn);
    const streamerVariables = Object.keys(env).filter((name) => name !== 'NODE_OPTIONS');
    expect(streamerVariables.filter((name) => !declared.has(name))).toEqual([]);
    const settings = readRuntimeSettings(env, { functionName: fn, variables: declared });
    const tables = FUNCTION_DECLARATIONS[fn].capabilities.flatMap((c) => (c.kind === 'table' ? [c.table] : []));
    if (tables.includes('connections')) expect(settings.tables.connections).toBe(tableName('connections'));
    if (tables.includes('requests')) expect(settings.tables.requests).toBe(tableName('requests'));
    if (tables.includes('rate-limits')) expect(settings.tables.rateLimits).toBe(tableName('rate-limits'));
    expect(env).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'streamer-dev',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    // Source maps are off unless the stack turns them on (streamer:sourceMaps): they cost every cold start.
    expect(env.NODE_OPTIONS).toBeUndefined();
  });

  it.each(FUNCTIONS)('composes %s from exactly the environment the stack gives it', (fn) => {
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, appendKeys: () => undefined };
    expect(() => composeDeps({ functionName: fn, registry: new HandlerRegistry([]), logger, env: envOf(fn), tokenKeys: ssmTokenKeys })).not.toThrow();
  });

  it('gives the router the stack\'s sync threshold, retries, TTL and rate limits', () => {
    const settings = readRuntimeSettings(envOf('router'), { functionName: 'router', variables: declaredEnv('router') });
    expect(settings.managementEndpoint).toBe(`https://${API_ID}.execute-api.${REGION}.amazonaws.com/live`);
    expect(settings).toMatchObject({ syncThresholdMs: 5000, maxRetries: 3, requestTtlSeconds: 7 * 86400 });
    expect(settings.rateLimits.tenant).toEqual({ ratePerSecond: 1000, burst: 2000 });
  });

  it.each(FUNCTIONS)('names no Streamer variable in %s that runtime-env does not define', (fn) => {
    const known = new Set<string>(Object.values(ENV));
    expect(Object.keys(envOf(fn)).filter((name) => name.startsWith('STREAMER_') && !known.has(name))).toEqual([]);
  });

  it('tells the processor that it is its own worker, and the router that the processor is the worker it starts directly', () => {
    expect(envOf('processor')[ENV.workerFunction]).toBe(functionName('processor'));
    expect(envOf('router')[ENV.workerFunction]).toBe(functionName('processor'));
    expect(envOf('router')[ENV.directDispatch]).toBe('true');
    expect(readRuntimeSettings(envOf('router'), { functionName: 'router', variables: declaredEnv('router') }).directDispatch).toBe(true);
    for (const fn of ['connect', 'disconnect', 'processor'] as const) expect(envOf(fn)[ENV.directDispatch]).toBeUndefined();
  });

  it('tells the authorizer only where its token key is, and no function the key itself', () => {
    const authorizerEnvironment = unwrapSecret(run.named(T.fn, 'streamer-authorizer').inputs.environment);
    expect(authorizerEnvironment.secret).toBe(false);
    expect(envOf('authorizer')[ENV.jwtSecretParameter]).toBe('/streamer-dev/token-key');
    for (const fn of FUNCTIONS) expect(JSON.stringify(envOf(fn))).not.toContain('test-secret-that-is-long-enough-for-hs256!');
    for (const fn of ['connect', 'disconnect', 'router', 'processor'] as const) {
      expect(Object.keys(envOf(fn)).filter((name) => name.startsWith('STREAMER_JWT') || name === ENV.jwksUrl)).toEqual([]);
    }
  });

  it('gives the authorizer the maximum token lifetime (24 h by default), and no other function', () => {
    expect(envOf('authorizer')[ENV.jwtMaxLifetimeSeconds]).toBe('86400');
    expect(readAuthSettings(envOf('authorizer')).maxLifetimeSeconds).toBe(86_400);
    for (const fn of ['connect', 'disconnect', 'router', 'processor'] as const) expect(envOf(fn)[ENV.jwtMaxLifetimeSeconds]).toBeUndefined();
  });
});

describe('IAM', () => {
  it('gives each function its own role, assumable by Lambda only', () => {
    const roles = FUNCTIONS.map((fn) => run.named(T.fn, `streamer-${fn}`).inputs.role);
    expect(new Set(roles).size).toBe(FUNCTIONS.length);
    for (const fn of FUNCTIONS) {
      const trust = JSON.parse(run.named(T.role, `streamer-${fn}`).inputs.assumeRolePolicy);
      expect(trust.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    }
  });

  it.each(FUNCTIONS)('never grants %s a wildcard on data (no "*" resource, no "service:*" action)', (fn) => {
    for (const statement of statementsOf(fn)) {
      expect(statement.Effect).toBe('Allow');
      for (const action of list(statement.Action)) expect(action).not.toMatch(/\*/);
      for (const resource of list(statement.Resource)) expect(resource).not.toBe('*');
    }
  });

  it.each(FUNCTIONS)('lets %s write only to its own log group', (fn) => {
    const logging = statementsOf(fn).filter((s) => s.Sid === 'WriteOwnLogs');
    expect(logging).toEqual([
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${functionName(fn)}:*`],
      },
    ]);
  });

  const connections = tableArn('connections');
  const requests = tableArn('requests');
  const subscriptions = tableArn('subscriptions');
  const rateLimits = tableArn('rate-limits');
  const idempotencyKeys = tableArn('idempotency-keys');
  const progressLog = tableArn('progress-log');
  const post = `execute-api:ManageConnections ${EXECUTION_ARN}/live/POST/@connections/*`;
  const bucketObjects = (prefix: string) => `arn:aws:s3:::streamer-results-4f3e2d1/${prefix}/*`;

  it('lets the authorizer only read its token key', () => {
    expect(grantsOf('authorizer')).toEqual([`ssm:GetParameter arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/streamer-dev/token-key`]);
  });

  it('lets connect only write a connection: the token key is the authorizer\'s', () => {
    expect(grantsOf('connect')).toEqual([`dynamodb:PutItem ${connections}`]);
  });

  it('lets disconnect remove a connection and its subscriptions', () => {
    expect(grantsOf('disconnect')).toEqual(
      [
        `dynamodb:DeleteItem ${connections}`,
        `dynamodb:Query ${subscriptions}/index/by_connection`,
        `dynamodb:BatchWriteItem ${subscriptions}`,
      ].sort(),
    );
  });

  it('lets the router read connections, create requests, claim idempotency keys, manage subscriptions and rate limits, replay progress, post to connections, store, sign and read bucket objects, and invoke the processor (direct dispatch)', () => {
    expect(grantsOf('router')).toEqual(
      [
        `dynamodb:GetItem ${connections}`,
        `dynamodb:DeleteItem ${connections}`,
        `dynamodb:Query ${connections}/index/by_user`,
        `dynamodb:Query ${connections}/index/by_tenant`,
        `dynamodb:PutItem ${requests}`,
        `dynamodb:GetItem ${requests}`,
        `dynamodb:UpdateItem ${requests}`,
        `dynamodb:PutItem ${subscriptions}`,
        `dynamodb:DeleteItem ${subscriptions}`,
        `dynamodb:UpdateItem ${subscriptions}`,
        `dynamodb:BatchWriteItem ${subscriptions}`,
        `dynamodb:Query ${subscriptions}/index/by_connection`,
        `dynamodb:UpdateItem ${rateLimits}`,
        `dynamodb:PutItem ${idempotencyKeys}`,
        `dynamodb:GetItem ${idempotencyKeys}`,
        `dynamodb:Query ${progressLog}`,
        post,
        `s3:PutObject ${bucketObjects('results')}`,
        `s3:GetObject ${bucketObjects('results')}`,
        `s3:PutObject ${bucketObjects('uploads')}`,
        `s3:GetObject ${bucketObjects('uploads')}`,
        `lambda:InvokeFunction ${functionArn('processor')}`,
      ].sort(),
    );
    expect(statementsOf('router').find((s) => s.Action.includes('lambda:InvokeFunction'))).toEqual({
      Sid: 'InvokeWorker',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: [functionArn('processor')],
    });
  });

  it('lets the processor run requests, read the stream, invoke itself, post and log progress, dead-letter failed batches, store and sign results and read uploads', () => {
    expect(grantsOf('processor')).toEqual(
      [
        `dynamodb:GetItem ${requests}`,
        `dynamodb:UpdateItem ${requests}`,
        `dynamodb:Query ${requests}/index/by_lease`,
        `dynamodb:Query ${subscriptions}`,
        `dynamodb:UpdateItem ${subscriptions}`,
        `dynamodb:BatchWriteItem ${subscriptions}`,
        `dynamodb:Query ${subscriptions}/index/by_connection`,
        `dynamodb:DeleteItem ${connections}`,
        `dynamodb:Query ${connections}/index/by_user`,
        `dynamodb:Query ${connections}/index/by_tenant`,
        `dynamodb:PutItem ${progressLog}`,
        `dynamodb:DeleteItem ${progressLog}`,
        `dynamodb:Query ${progressLog}`,
        `lambda:InvokeFunction ${functionArn('processor')}`,
        post,
        ...['DescribeStream', 'GetRecords', 'GetShardIterator', 'ListStreams'].map((a) => `dynamodb:${a} ${STREAM_ARN}`),
        `sqs:SendMessage ${DLQ_ARN}`,
        `s3:PutObject ${bucketObjects('results')}`,
        `s3:GetObject ${bucketObjects('results')}`,
        `s3:GetObject ${bucketObjects('uploads')}`,
      ].sort(),
    );
  });

  it.each(FUNCTIONS)('names every statement of %s\'s role uniquely', (fn) => {
    const sids = statementsOf(fn).map((statement) => statement.Sid);
    expect(new Set(sids).size).toBe(sids.length);
  });

  it('turns off Lambda\'s own retries of the processor\'s asynchronous runs (the lease sweeper recovers them)', () => {
    expect(run.named(T.invokeConfig, 'streamer-processor').inputs).toMatchObject({
      functionName: functionName('processor'),
      maximumRetryAttempts: 0,
    });
  });
});

describe('requests stream → processor', () => {
  it('maps the stream with every setting of REQUEST_STREAM_MAPPING', () => {
    const [mapping] = run.ofType(T.mapping);
    const shape = REQUEST_STREAM_MAPPING;
    expect(mapping.inputs).toMatchObject({
      eventSourceArn: STREAM_ARN,
      functionName: functionArn('processor'),
      batchSize: shape.batchSize,
      maximumBatchingWindowInSeconds: shape.maximumBatchingWindowSeconds,
      startingPosition: shape.startingPosition,
      bisectBatchOnFunctionError: shape.bisectBatchOnFunctionError,
      maximumRetryAttempts: shape.maximumRetryAttempts,
      maximumRecordAgeInSeconds: shape.maximumRecordAgeSeconds,
      parallelizationFactor: shape.parallelizationFactor,
      functionResponseTypes: [...shape.functionResponseTypes],
    });
    const patterns = (mapping.inputs.filterCriteria.filters as { pattern: string }[]).map((f) => JSON.parse(f.pattern));
    expect(patterns).toEqual(shape.filterPatterns);
  });

  it('sends batches that exhaust their retries to an encrypted dead-letter queue', () => {
    const [mapping] = run.ofType(T.mapping);
    expect(mapping.inputs.destinationConfig).toEqual({ onFailure: { destinationArn: DLQ_ARN } });
    const [queue] = run.ofType(T.queue);
    expect(queue.inputs).toMatchObject({ sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 24 * 3600 });
  });
});

describe('lease sweeper', () => {
  it('invokes the processor on the sweep schedule, with permission', () => {
    const [rule] = run.ofType(T.rule);
    expect(rule.inputs.scheduleExpression).toBe(`rate(${SWEEP_SCHEDULE_MINUTES} minute${SWEEP_SCHEDULE_MINUTES === 1 ? '' : 's'})`);
    const [target] = run.ofType(T.target);
    expect(target.inputs.arn).toBe(functionArn('processor'));
    const permission = run.ofType(T.permission).find((p) => p.inputs.principal === 'events.amazonaws.com')!;
    expect(permission.inputs).toMatchObject({
      function: functionName('processor'),
      sourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule.name}-4f3e2d1`,
    });
  });
});

describe('monitoring', () => {
  const alarm = (name: string) => run.named(T.alarm, `streamer-${name}`).inputs;

  it.each(FUNCTIONS)('alarms when more than 1%% of %s invocations fail', (fn) => {
    const inputs = alarm(`${fn}-error-rate`);
    expect(inputs).toMatchObject({ threshold: 1, comparisonOperator: 'GreaterThanThreshold' });
    const queries = inputs.metricQueries as { id: string; expression?: string; metric?: { metricName: string; dimensions: Record<string, string> } }[];
    expect(queries.filter((q) => q.metric).map((q) => [q.metric!.metricName, q.metric!.dimensions.FunctionName])).toEqual([
      ['Errors', functionName(fn)],
      ['Invocations', functionName(fn)],
    ]);
    expect(queries.find((q) => q.expression)?.expression).toContain('100 * errors / invocations');
  });

  it('alarms on the p99 handler duration of this deployment', () => {
    expect(alarm('processing-time-p99')).toMatchObject({
      namespace: METRICS_NAMESPACE,
      metricName: METRICS.handlerDuration,
      dimensions: { [METRIC_DIMENSIONS.service]: 'streamer-dev' },
      extendedStatistic: 'p99',
      threshold: 300_000,
    });
  });

  it.each(ALL_TABLES.map((s) => s.logicalName))('alarms on any throttled request to the %s table', (logical) => {
    const inputs = alarm(`${logical}-throttled`);
    expect(inputs.threshold).toBe(0);
    const metrics = (inputs.metricQueries as { metric?: { metricName: string; dimensions: Record<string, string> } }[]).filter((q) => q.metric);
    expect(new Set(metrics.map((q) => q.metric!.metricName))).toEqual(new Set(['ThrottledRequests']));
    expect(new Set(metrics.map((q) => q.metric!.dimensions.TableName))).toEqual(new Set([tableName(logical)]));
    expect(metrics.map((q) => q.metric!.dimensions.Operation)).toEqual(
      expect.arrayContaining(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchWriteItem']),
    );
  });

  it('alarms on API execution errors and on the integration error rate of connects and messages', () => {
    expect(alarm('api-execution-errors')).toMatchObject({
      namespace: 'AWS/ApiGateway',
      metricName: 'ExecutionError',
      dimensions: { ApiId: API_ID, Stage: 'live' },
      threshold: 0,
    });
    const rate = alarm('api-integration-error-rate');
    expect(rate.threshold).toBe(1);
    const names = (rate.metricQueries as { metric?: { metricName: string; dimensions: Record<string, string> } }[])
      .filter((q) => q.metric)
      .map((q) => q.metric!.metricName);
    expect(names).toEqual(['IntegrationError', 'ConnectCount', 'MessageCount']);
  });

  it('alarms as soon as a batch waits in the dead-letter queue', () => {
    expect(alarm('stream-dlq-depth')).toMatchObject({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'streamer-stream-dlq-4f3e2d1' },
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('notifies nobody until alarmEmail is set', () => {
    expect(run.ofType(T.topic)).toEqual([]);
    for (const a of run.ofType(T.alarm)) expect(a.inputs.alarmActions).toEqual([]);
  });

  it('draws one dashboard of requests, latency, errors and connections, from the shared metric names', () => {
    const [dashboard] = run.ofType(T.dashboard);
    expect(dashboard.inputs.dashboardName).toBe('streamer-dev');
    const body = JSON.parse(dashboard.inputs.dashboardBody) as {
      widgets: { type: string; properties: { title: string; metrics?: unknown[][]; alarms?: string[] } }[];
    };
    expect(body.widgets.map((w) => w.properties.title)).toEqual(
      expect.arrayContaining(['Requests', 'Latency (ms)', 'Errors', 'Connections', 'Alarms']),
    );
    const customNames = body.widgets
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((line) => line[0] === METRICS_NAMESPACE)
      .map((line) => line[1]);
    expect(new Set(customNames)).toEqual(new Set(Object.values(METRICS)));
    const throttles = JSON.stringify(body.widgets.find((w) => w.properties.title === 'DynamoDB'));
    for (const shape of ALL_TABLES) expect(throttles).toContain(`TableName=\\"${tableName(shape.logicalName)}\\"`);
    const alarmsWidget = body.widgets.find((w) => w.type === 'alarm')!;
    expect(alarmsWidget.properties.alarms).toHaveLength(run.ofType(T.alarm).length);
  });
});

describe('the program', () => {
  it('exports what a client and an operator need', () => {
    expect(run.outputs).toMatchObject({
      websocketUrl: `wss://${API_ID}.execute-api.${REGION}.amazonaws.com/live`,
      connectionsTable: tableName('connections'),
      requestsTable: tableName('requests'),
      subscriptionsTable: tableName('subscriptions'),
      rateLimitsTable: tableName('rate-limits'),
      dashboardUrl: `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards:name=streamer-dev`,
      dlqUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/streamer-stream-dlq-4f3e2d1`,
      functionNames: Object.fromEntries(FUNCTIONS.map((fn) => [fn, functionName(fn)])),
    });
  });

  it('parents every AWS resource to a Streamer component', () => {
    const awsUrns = run.urns.filter((urn) => urn.split('::')[2].split('$').pop()!.startsWith('aws:'));
    expect(awsUrns.length).toBe(run.resources.filter((r) => r.type.startsWith('aws:')).length);
    for (const urn of awsUrns) expect(urn.split('::')[2]).toMatch(/^streamer:infra:[A-Za-z]+\$aws:/);
  });
});
