/**
 * The four Lambda functions, each with its own log group (retention from
 * config) and its own role that may do exactly what the function does: the
 * grants below are the function's whole reach into DynamoDB, the WebSocket
 * management API and Lambda.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { FUNCTION_DEFAULTS } from '../functions/core/cloud-shapes';
import { ENV } from '../functions/core/runtime-env';
import { formatRateLimit, type StackConfig } from './config';
import { FUNCTION_HANDLER, FUNCTION_NAMES, type FunctionName } from './function-code';
import { METRICS_NAMESPACE } from './metrics-names';
import type { StreamerTables, TableName } from './tables';
import type { WebSocketApi } from './websocket-api';

export const LAMBDA_RUNTIME = 'nodejs22.x';


/** The environment variable that carries each table's name (`runtime-env.ts`). */
const TABLE_ENV: Readonly<Record<TableName, string>> = {
  connections: ENV.connectionsTable,
  requests: ENV.requestsTable,
  subscriptions: ENV.subscriptionsTable,
  'rate-limits': ENV.rateLimitsTable,
};

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly pulumi.Input<string>[];
}

interface GrantContext {
  readonly tables: StreamerTables;
  readonly api: WebSocketApi;
  /** The processor's own ARN, built from its name (referring to the function itself would be a cycle). */
  readonly processorArn: pulumi.Output<string>;
}

function dynamodb(Sid: string, actions: readonly string[], Resource: readonly pulumi.Input<string>[]): PolicyStatement {
  return { Sid, Effect: 'Allow', Action: actions.map((a) => `dynamodb:${a}`), Resource };
}

function manageConnections(api: WebSocketApi): PolicyStatement {
  return {
    Sid: 'ManageConnections',
    Effect: 'Allow',
    Action: ['execute-api:ManageConnections'],
    Resource: [api.connectionsArn('POST'), api.connectionsArn('GET'), api.connectionsArn('DELETE')],
  };
}

/** Each function's data and API access (logging and tracing are added for all). */
const GRANTS: Readonly<Record<FunctionName, (ctx: GrantContext) => PolicyStatement[]>> = {
  connect: ({ tables }) => [dynamodb('WriteConnection', ['PutItem'], [tables.byName.connections.table.arn])],

  disconnect: ({ tables }) => [
    dynamodb('RemoveConnection', ['GetItem', 'DeleteItem'], [tables.byName.connections.table.arn]),
    dynamodb('FindSubscriptions', ['Query'], [tables.indexArn('subscriptions', 'by_connection')]),
    dynamodb('RemoveSubscriptions', ['DeleteItem', 'BatchWriteItem'], [tables.byName.subscriptions.table.arn]),
  ],

  router: ({ tables, api }) => [
    dynamodb('ReadConnections', ['GetItem', 'DeleteItem'], [tables.byName.connections.table.arn]),
    dynamodb('BroadcastLookup', ['Query'], [tables.indexArn('connections', 'by_user'), tables.indexArn('connections', 'by_tenant')]),
    dynamodb('Requests', ['PutItem', 'GetItem', 'UpdateItem'], [tables.byName.requests.table.arn]),
    dynamodb('Subscriptions', ['PutItem', 'DeleteItem', 'Query'], [tables.byName.subscriptions.table.arn]),
    dynamodb('SubscriptionsByConnection', ['Query'], [tables.indexArn('subscriptions', 'by_connection')]),
    dynamodb('RateLimits', ['GetItem', 'UpdateItem', 'PutItem'], [tables.byName['rate-limits'].table.arn]),
    manageConnections(api),
  ],

  // Stream reads and the failure queue are granted by the stream wiring that needs them.
  processor: ({ tables, api, processorArn }) => [
    dynamodb('Requests', ['GetItem', 'UpdateItem', 'Query'], [tables.byName.requests.table.arn]),
    dynamodb('ExpiredLeases', ['Query'], [tables.indexArn('requests', 'by_lease')]),
    dynamodb('Subscribers', ['Query'], [tables.byName.subscriptions.table.arn]),
    dynamodb('PruneGoneConnections', ['GetItem', 'DeleteItem'], [tables.byName.connections.table.arn]),
    { Sid: 'RunClaimedRequest', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [processorArn] },
    manageConnections(api),
  ],
};

export interface StreamerFunctionsArgs {
  /** Prefix of every function name; also the Powertools service name (the `service` metric dimension). */
  readonly deploymentName: string;
  readonly bundles: Readonly<Record<FunctionName, pulumi.asset.Archive>>;
  readonly config: StackConfig;
  readonly tables: StreamerTables;
  readonly api: WebSocketApi;
}

export class StreamerFunctions extends pulumi.ComponentResource {
  readonly functions: Readonly<Record<FunctionName, aws.lambda.Function>>;
  readonly roles: Readonly<Record<FunctionName, aws.iam.Role>>;
  readonly logGroups: Readonly<Record<FunctionName, aws.cloudwatch.LogGroup>>;
  /** Physical function names, known before deployment. */
  readonly names: Readonly<Record<FunctionName, string>>;

  constructor(name: string, args: StreamerFunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:Functions', name, {}, opts);
    const { config } = args;
    const names = Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, `${args.deploymentName}-${fn}`])) as Record<FunctionName, string>;
    this.names = names;

    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const context: GrantContext = {
      tables: args.tables,
      api: args.api,
      processorArn: pulumi.interpolate`arn:${partition}:lambda:${region}:${accountId}:function:${names.processor}`,
    };
    const environment = sharedEnvironment(args);

    const functions = {} as Record<FunctionName, aws.lambda.Function>;
    const roles = {} as Record<FunctionName, aws.iam.Role>;
    const logGroups = {} as Record<FunctionName, aws.cloudwatch.LogGroup>;
    for (const fn of FUNCTION_NAMES) {
      const resourceName = `${name}-${fn}`;
      logGroups[fn] = new aws.cloudwatch.LogGroup(
        resourceName,
        { name: `/aws/lambda/${names[fn]}`, retentionInDays: config.logRetentionDays },
        { parent: this },
      );
      roles[fn] = new aws.iam.Role(
        resourceName,
        {
          description: `Streamer ${fn} function`,
          assumeRolePolicy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          }),
        },
        { parent: this },
      );
      const statements = [
        ...GRANTS[fn](context),
        {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [pulumi.interpolate`${logGroups[fn].arn}:*`],
        },
        // X-Ray has no resource-level permissions: "*" is the only resource it accepts.
        ...(config.tracing
          ? [{ Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: ['*'] }]
          : []),
      ];
      const policy = new aws.iam.RolePolicy(
        resourceName,
        { role: roles[fn].name, policy: pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements }) },
        { parent: this },
      );
      functions[fn] = new aws.lambda.Function(
        resourceName,
        {
          name: names[fn],
          description: `Streamer ${fn}`,
          role: roles[fn].arn,
          runtime: LAMBDA_RUNTIME,
          handler: FUNCTION_HANDLER,
          code: args.bundles[fn],
          architectures: [config.architecture],
          memorySize: config.memoryMb[fn],
          timeout: timeoutSeconds(fn, config),
          environment: { variables: { ...environment, ...functionOnlyEnvironment(fn, args, names) } },
          tracingConfig: { mode: config.tracing ? 'Active' : 'PassThrough' },
          loggingConfig: { logFormat: 'Text', logGroup: logGroups[fn].name },
        },
        // The log group first (else Lambda creates one that never expires), the policy before any invocation.
        { parent: this, dependsOn: [logGroups[fn], policy] },
      );
    }
    this.functions = functions;
    this.roles = roles;
    this.logGroups = logGroups;
    this.registerOutputs({ functionNames: names });
  }
}

function timeoutSeconds(fn: FunctionName, config: StackConfig): number {
  switch (fn) {
    case 'router':
      return config.timeoutSeconds.router;
    case 'processor':
      return config.timeoutSeconds.processor;
    default:
      // Connect and disconnect only read and write one or two items: not tunable.
      return FUNCTION_DEFAULTS[fn].timeoutSeconds;
  }
}

/** Variables every function reads (`readRuntimeSettings`, Powertools). */
function sharedEnvironment({ config, tables, api, deploymentName }: StreamerFunctionsArgs): Record<string, pulumi.Input<string>> {
  const environment: Record<string, pulumi.Input<string>> = {
    [ENV.managementEndpoint]: api.managementEndpoint,
    [ENV.syncThresholdMs]: String(config.syncThresholdMs),
    [ENV.maxRetries]: String(config.maxRetries),
    [ENV.connectionTtlHours]: String(config.connectionTtlHours),
    [ENV.requestTtlDays]: String(config.requestTtlDays),
    [ENV.rateLimitPerConnection]: formatRateLimit(config.rateLimits.connection),
    [ENV.rateLimitPerUser]: formatRateLimit(config.rateLimits.user),
    [ENV.rateLimitPerTenant]: formatRateLimit(config.rateLimits.tenant),
    POWERTOOLS_SERVICE_NAME: deploymentName,
    POWERTOOLS_LOG_LEVEL: config.logLevel,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_TRACE_ENABLED: String(config.tracing),
    NODE_OPTIONS: '--enable-source-maps',
  };
  for (const [logical, { table }] of Object.entries(tables.byName)) environment[TABLE_ENV[logical as TableName]] = table.name;
  return environment;
}

/**
 * Variables only one function needs: the token verification settings stay
 * with `connect` (the only place a token is checked), and the processor
 * learns its own name to dispatch claimed requests to itself.
 */
function functionOnlyEnvironment(
  fn: FunctionName,
  { config }: StreamerFunctionsArgs,
  names: Readonly<Record<FunctionName, string>>,
): Record<string, pulumi.Input<string>> {
  if (fn === 'processor') return { [ENV.workerFunction]: names.processor };
  if (fn !== 'connect') return {};
  const { auth } = config;
  const environment: Record<string, pulumi.Input<string>> = {};
  if (auth.source === 'jwtSecret') environment[ENV.jwtSecret] = auth.secret;
  if (auth.source === 'jwtPublicKey') environment[ENV.jwtPublicKey] = auth.publicKey;
  if (auth.source === 'jwksUrl') environment[ENV.jwksUrl] = auth.jwksUrl;
  if (auth.algorithms !== undefined) environment[ENV.jwtAlgorithms] = auth.algorithms.join(',');
  if (auth.issuer !== undefined) environment[ENV.jwtIssuer] = auth.issuer;
  if (auth.audience !== undefined) environment[ENV.jwtAudience] = auth.audience;
  return environment;
}
