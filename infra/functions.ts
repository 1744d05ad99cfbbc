/**
 * The five Lambda functions, each with its own log group (retention from
 * config), its own environment and its own role, both rendered from the
 * function's declaration in `functions/core/function-declarations.ts` and
 * from nothing else: a capability listed there is one variable set here and
 * one grant, so the environment and the role cannot disagree with the code.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { RESULTS_BUCKET } from '../functions/core/cloud-shapes';
import {
  type Capability,
  type ResultsBucketAccess,
  COMMON_ENV,
  declarationOf,
  FUNCTION_NAMES,
  type FunctionName,
  SETTING_ENV,
  type SettingName,
  TABLE_ENV,
} from '../functions/core/function-declarations';
import { ENV } from '../functions/core/runtime-env';
import { formatRateLimit, type StackConfig } from './config';
import { FUNCTION_HANDLER } from './function-code';
import { METRICS_NAMESPACE } from './metrics-names';
import type { ResultsBucket } from './results-bucket';
import type { StreamerTables } from './tables';
import type { TokenKeyReference } from './token-key';
import type { WebSocketApi } from './websocket-api';

export const LAMBDA_RUNTIME = 'nodejs22.x';

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly pulumi.Input<string>[];
}

/** What the grants and variables of a capability point at. */
export interface CapabilityTargets {
  readonly tables: StreamerTables;
  readonly api: WebSocketApi;
  readonly resultsBucket: ResultsBucket;
  /** The worker's ARN, built from its name (referring to the function itself would be a cycle). */
  readonly workerArn: pulumi.Output<string>;
  readonly workerName: string;
  /** Where stream batches that fail every retry go. */
  readonly deadLetterQueueArn: pulumi.Input<string>;
  /** The stored HS256 key; `undefined` with a public key or JWKS source. */
  readonly tokenKey: TokenKeyReference | undefined;
}

function dynamodb(Sid: string, actions: readonly string[], Resource: readonly pulumi.Input<string>[]): PolicyStatement {
  return { Sid, Effect: 'Allow', Action: actions.map((a) => `dynamodb:${a}`), Resource };
}

/** Each access to the results bucket: one action on one key prefix (a presigned URL acts with its signer's grant). */
const RESULTS_BUCKET_GRANTS: Readonly<Record<ResultsBucketAccess, { readonly sid: string; readonly action: string; readonly prefix: string }>> = {
  writeResults: { sid: 'WriteLargeResults', action: 's3:PutObject', prefix: RESULTS_BUCKET.resultsPrefix },
  readResults: { sid: 'SignResultDownloads', action: 's3:GetObject', prefix: RESULTS_BUCKET.resultsPrefix },
  signUploads: { sid: 'SignUploads', action: 's3:PutObject', prefix: RESULTS_BUCKET.uploadsPrefix },
  readUploads: { sid: 'ReadUploads', action: 's3:GetObject', prefix: RESULTS_BUCKET.uploadsPrefix },
};

/** The IAM statements one capability needs. */
export function capabilityStatements(capability: Capability, targets: CapabilityTargets): PolicyStatement[] {
  switch (capability.kind) {
    case 'table': {
      const { table } = targets.tables.byName[capability.table];
      const statements = [dynamodb(capability.purpose, capability.actions, [table.arn])];
      const indexes = Object.entries(capability.indexes ?? {});
      if (indexes.length > 0) {
        const actions = [...new Set(indexes.flatMap(([, indexActions]) => indexActions))];
        const arns = indexes.map(([index]) => targets.tables.indexArn(capability.table, index));
        statements.push(dynamodb(`${capability.purpose}Indexes`, actions, arns));
      }
      return statements;
    }
    case 'managementApi':
      return [
        {
          Sid: 'ManageConnections',
          Effect: 'Allow',
          Action: ['execute-api:ManageConnections'],
          Resource: capability.methods.map((method) => targets.api.connectionsArn(method)),
        },
      ];
    case 'workerDispatch':
      // The processor runs what its stream consumer claimed; the router starts what it stored (direct dispatch).
      return [{ Sid: 'InvokeWorker', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [targets.workerArn] }];
    case 'tokenKey': {
      // A public key or a JWKS URL is not secret: nothing to read, nothing to grant.
      if (targets.tokenKey === undefined) return [];
      const statements: PolicyStatement[] = [
        { Sid: 'ReadTokenKey', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [targets.tokenKey.parameterArn] },
      ];
      // The AWS-managed aws/ssm key needs no grant (its key policy allows use through SSM); a customer key does.
      if (targets.tokenKey.kmsKeyArn !== undefined) {
        statements.push({ Sid: 'DecryptTokenKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [targets.tokenKey.kmsKeyArn] });
      }
      return statements;
    }
    case 'requestsStream':
      // Lambda polls the stream and sends failed batches with the function's own role.
      return [
        {
          Sid: 'ReadRequestsStream',
          Effect: 'Allow',
          Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
          Resource: [targets.tables.byName.requests.table.streamArn],
        },
        { Sid: 'StreamDeadLetters', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [targets.deadLetterQueueArn] },
      ];
    case 'resultsBucket':
      return capability.access.map((access) => {
        const grant = RESULTS_BUCKET_GRANTS[access];
        return { Sid: grant.sid, Effect: 'Allow', Action: [grant.action], Resource: [targets.resultsBucket.objectsArn(grant.prefix)] };
      });
  }
}

/** The variables one capability's code reads, with their values in this stack. */
export function capabilityEnvironment(
  capability: Capability,
  targets: CapabilityTargets,
  config: StackConfig,
): Record<string, pulumi.Input<string>> {
  switch (capability.kind) {
    case 'table':
      return { [TABLE_ENV[capability.table]]: targets.tables.byName[capability.table].table.name };
    case 'managementApi':
      return { [ENV.managementEndpoint]: targets.api.managementEndpoint };
    case 'workerDispatch':
      return { [ENV.workerFunction]: targets.workerName };
    case 'requestsStream':
      return {};
    case 'resultsBucket':
      return { [ENV.resultsBucket]: targets.resultsBucket.bucket.id, [ENV.objectUrlTtlSeconds]: String(RESULTS_BUCKET.objectUrlTtlSeconds) };
    case 'tokenKey': {
      const { auth } = config;
      const environment: Record<string, pulumi.Input<string>> = {};
      // The HS256 key never enters the environment: only where to read it, and how often.
      if (targets.tokenKey !== undefined) {
        environment[ENV.jwtSecretParameter] = targets.tokenKey.parameterName;
        environment[ENV.tokenKeyRefreshSeconds] = String(targets.tokenKey.refreshSeconds);
      }
      if (auth.source === 'jwtPublicKey') environment[ENV.jwtPublicKey] = auth.publicKey;
      if (auth.source === 'jwksUrl') environment[ENV.jwksUrl] = auth.jwksUrl;
      if (auth.algorithms !== undefined) environment[ENV.jwtAlgorithms] = auth.algorithms.join(',');
      if (auth.issuer !== undefined) environment[ENV.jwtIssuer] = auth.issuer;
      if (auth.audience !== undefined) environment[ENV.jwtAudience] = auth.audience;
      environment[ENV.jwtMaxLifetimeSeconds] = String(auth.maxLifetimeSeconds);
      return environment;
    }
  }
}

/**
 * The stack's value of each setting, by variable: every setting but the rate
 * limits is one number under the same name in the stack config.
 */
export function settingEnvironment(setting: SettingName, config: StackConfig): Record<string, string> {
  if (setting === 'rateLimits') {
    return {
      [ENV.rateLimitPerConnection]: formatRateLimit(config.rateLimits.connection),
      [ENV.rateLimitPerUser]: formatRateLimit(config.rateLimits.user),
      [ENV.rateLimitPerTenant]: formatRateLimit(config.rateLimits.tenant),
    };
  }
  const [variable] = SETTING_ENV[setting];
  return { [variable!]: String(config[setting]) };
}

/** Variables every function reads: Powertools' (the names in `COMMON_ENV`). */
function commonEnvironment(deploymentName: string, config: StackConfig): Record<string, string> {
  const values: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: deploymentName,
    POWERTOOLS_LOG_LEVEL: config.logLevel,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_TRACE_ENABLED: String(config.tracing),
  };
  for (const name of COMMON_ENV) if (!(name in values)) throw new Error(`infra/functions.ts sets no value for ${name}`);
  return values;
}

/** A function's whole environment: its capabilities', its settings' and the common variables. */
export function functionEnvironment(
  fn: FunctionName,
  targets: CapabilityTargets,
  config: StackConfig,
  deploymentName: string,
): Record<string, pulumi.Input<string>> {
  const declaration = declarationOf(fn);
  return Object.assign(
    commonEnvironment(deploymentName, config),
    // Source maps cost every cold start (Node parses the map when the bundle loads): only when asked.
    config.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {},
    ...declaration.settings.map((setting) => settingEnvironment(setting, config)),
    ...declaration.capabilities.map((capability) => capabilityEnvironment(capability, targets, config)),
  );
}

export interface StreamerFunctionsArgs {
  /** Prefix of every function name; also the Powertools service name (the `service` metric dimension). */
  readonly deploymentName: string;
  readonly bundles: Readonly<Record<FunctionName, pulumi.asset.Archive>>;
  readonly config: StackConfig;
  readonly tables: StreamerTables;
  readonly api: WebSocketApi;
  readonly resultsBucket: ResultsBucket;
  /** Where the requests stream's failed batches go. */
  readonly deadLetterQueueArn: pulumi.Input<string>;
  /** Where connect reads the HS256 key (`infra/token-key.ts`); `undefined` for a public key source. */
  readonly tokenKey: TokenKeyReference | undefined;
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
    const targets: CapabilityTargets = {
      tables: args.tables,
      api: args.api,
      resultsBucket: args.resultsBucket,
      workerName: names.processor,
      workerArn: pulumi.interpolate`arn:${partition}:lambda:${region}:${accountId}:function:${names.processor}`,
      deadLetterQueueArn: args.deadLetterQueueArn,
      tokenKey: args.tokenKey,
    };

    const functions = {} as Record<FunctionName, aws.lambda.Function>;
    const roles = {} as Record<FunctionName, aws.iam.Role>;
    const logGroups = {} as Record<FunctionName, aws.cloudwatch.LogGroup>;
    for (const fn of FUNCTION_NAMES) {
      const declaration = declarationOf(fn);
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
        ...declaration.capabilities.flatMap((capability) => capabilityStatements(capability, targets)),
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
          description: `Streamer ${fn}: ${declaration.summary}`,
          role: roles[fn].arn,
          runtime: LAMBDA_RUNTIME,
          handler: FUNCTION_HANDLER,
          code: args.bundles[fn],
          architectures: [config.architecture],
          memorySize: config.memoryMb[fn],
          timeout: timeoutSeconds(fn, config),
          ...(fn === 'processor' && config.processorReservedConcurrency !== undefined && {
            reservedConcurrentExecutions: config.processorReservedConcurrency,
          }),
          environment: { variables: functionEnvironment(fn, targets, config, args.deploymentName) },
          tracingConfig: { mode: config.tracing ? 'Active' : 'PassThrough' },
          loggingConfig: { logFormat: 'Text', logGroup: logGroups[fn].name },
        },
        // The log group first (else Lambda creates one that never expires), the policy before any invocation.
        { parent: this, dependsOn: [logGroups[fn], policy] },
      );
      if (declaration.asyncInvoke) {
        new aws.lambda.FunctionEventInvokeConfig(
          resourceName,
          {
            functionName: functions[fn].name,
            maximumRetryAttempts: declaration.asyncInvoke.maximumRetryAttempts,
            maximumEventAgeInSeconds: declaration.asyncInvoke.maximumEventAgeSeconds,
          },
          { parent: this },
        );
      }
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
      return declarationOf(fn).timeoutSeconds;
  }
}
