/**
 * The deployment the local runtime runs: read from the manifest that synth
 * renders from the real Pulumi program (`dist/deployment.json`), never from
 * the runtime's own knowledge. Tables, functions (bundle, handler, exact
 * environment, memory, timeout, concurrency, role policies, async-invoke
 * config), routes, the stream mapping and schedules all come from there; a
 * resource the runtime cannot emulate is listed so start-up can name it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FilterPattern, StreamMappingShape } from '../functions/core/cloud-shapes';
import { type DeploymentManifest, MANIFEST_VERSION, type ManifestResource, type SecretMarker } from '../functions/core/deployment-manifest';

export type { DeploymentManifest, ManifestResource, SecretMarker };

export interface KeySchemaElement {
  readonly attributeName: string;
  readonly keyType: 'HASH' | 'RANGE';
}

export interface DeployedTable {
  readonly name: string;
  readonly arn: string;
  readonly hashKey: string;
  readonly rangeKey?: string;
  readonly attributes: readonly { readonly name: string; readonly type: 'S' | 'N' | 'B' }[];
  readonly globalSecondaryIndexes: readonly {
    readonly name: string;
    readonly keySchemas: readonly KeySchemaElement[];
    readonly projectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  }[];
  readonly ttlAttribute?: string;
  readonly streamViewType?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
  /** The stream ARN as AWS would form it (the mapping refers to it). */
  readonly streamArn?: string;
}

export interface PolicyStatementDocument {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatementDocument | readonly PolicyStatementDocument[];
}

export interface NamedPolicy {
  /** The RolePolicy's name (what IAM reports in a denial's context). */
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface DeployedFunction {
  readonly name: string;
  readonly arn: string;
  readonly handler: string;
  /** Absolute folder holding the bundle. */
  readonly codeDir: string;
  /** The environment exactly as declared, secrets still as markers. */
  readonly environment: Readonly<Record<string, string | SecretMarker>>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  readonly role: { readonly arn: string; readonly name: string; readonly policies: readonly NamedPolicy[] };
  /** Lambda's async retries for this function (its default is 2) and the event age limit. */
  readonly asyncInvoke: { readonly maximumRetryAttempts: number; readonly maximumEventAgeSeconds: number };
}

/** An event source mapping as the manifest renders it: the same settings `infra/` took from the shape. */
export interface DeployedStreamMapping extends StreamMappingShape {
  readonly functionName: string;
  readonly eventSourceArn: string;
  readonly tableName: string;
  readonly onFailureDestinationArn?: string;
}

export interface DeployedSchedule {
  readonly ruleName: string;
  readonly expression: string;
  readonly intervalMs: number;
  readonly functionName: string;
}

/**
 * A route's Lambda REQUEST authorizer, as the manifest's
 * `aws:apigatewayv2/authorizer:Authorizer` and the route's
 * `authorizationType: CUSTOM` / `authorizerId` render it.
 */
export interface DeployedRouteAuthorizer {
  readonly id: string;
  readonly name: string;
  readonly type: 'REQUEST';
  /** The function API Gateway invokes (from `authorizerUri`). */
  readonly functionName: string;
  /**
   * `route.request.header.X` / `route.request.querystring.X` expressions:
   * when any is missing or empty API Gateway answers 401 without invoking
   * the function. Empty: always invoked.
   */
  readonly identitySources: readonly string[];
}

export interface DeployedWebSocketApi {
  readonly id: string;
  readonly stage: string;
  readonly executionArn: string;
  /** `https://{id}.execute-api.{region}.amazonaws.com/{stage}`: what the functions were told. */
  readonly managementEndpoint: string;
  /** Route key → function name. */
  readonly routes: Readonly<Record<string, string>>;
  /**
   * Two-way routes: those with a `$default` route response and the route
   * response selection expression `$default`. Only for these does API Gateway
   * send the function's returned `body` to the client; elsewhere it drops it.
   */
  readonly twoWayRoutes: readonly string[];
  /** Route key → its authorizer, for routes with `authorizationType: CUSTOM` (only `$connect` can have one). */
  readonly routeAuthorizers: Readonly<Record<string, DeployedRouteAuthorizer>>;
}

/** A lifecycle expiration rule: objects under `prefix` are deleted `expirationDays` after they were written. */
export interface BucketExpirationRule {
  readonly id: string;
  readonly prefix: string;
  readonly expirationDays: number;
}

/** A CORS rule as S3 holds it. */
export interface BucketCorsRule {
  readonly allowedMethods: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds?: number;
}

export interface DeployedBucket {
  readonly name: string;
  readonly arn: string;
  readonly lifecycle: readonly BucketExpirationRule[];
  readonly cors: readonly BucketCorsRule[];
}

/** An SSM parameter the stack creates; a SecureString's value is a secret marker in the manifest. */
export interface DeployedParameter {
  readonly name: string;
  readonly arn: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly tier: 'Standard' | 'Advanced';
  /** The customer KMS key encrypting it; `undefined`: `aws/ssm`. */
  readonly keyArn: string | undefined;
  readonly value: string | SecretMarker;
}

export interface LocalDeployment {
  readonly project: string;
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  readonly tables: readonly DeployedTable[];
  readonly buckets: readonly DeployedBucket[];
  readonly functions: readonly DeployedFunction[];
  readonly api: DeployedWebSocketApi;
  readonly streamMappings: readonly DeployedStreamMapping[];
  readonly schedules: readonly DeployedSchedule[];
  readonly queues: readonly { readonly name: string; readonly arn: string }[];
  readonly parameters: readonly DeployedParameter[];
  /** Resources the local runtime does not emulate (alarms, dashboards, log groups, …), as `type name`. */
  readonly notEmulated: readonly string[];
}

export class DeploymentManifestError extends Error {
  override readonly name = 'DeploymentManifestError';
}

/** Types the local runtime reads (everything else is reported as not emulated). */
const EMULATED_TYPES = new Set([
  'aws:dynamodb/table:Table',
  'aws:lambda/function:Function',
  'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
  'aws:lambda/eventSourceMapping:EventSourceMapping',
  'aws:lambda/permission:Permission',
  'aws:iam/role:Role',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:apigatewayv2/api:Api',
  'aws:apigatewayv2/integration:Integration',
  'aws:apigatewayv2/route:Route',
  'aws:apigatewayv2/routeResponse:RouteResponse',
  'aws:apigatewayv2/authorizer:Authorizer',
  'aws:apigatewayv2/stage:Stage',
  'aws:cloudwatch/eventRule:EventRule',
  'aws:cloudwatch/eventTarget:EventTarget',
  'aws:sqs/queue:Queue',
  'aws:s3/bucket:Bucket',
  'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  'aws:s3/bucketCorsConfiguration:BucketCorsConfiguration',
  // Locally every object is private (no ACLs, no public access) and the owner enforced, as these say.
  'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  'aws:ssm/parameter:Parameter',
]);

export function readManifest(file: string): DeploymentManifest {
  if (!existsSync(file)) {
    throw new DeploymentManifestError(`${file} is missing: render the deployment first (npm run build, or npm run synth)`);
  }
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as DeploymentManifest;
  if (manifest.manifestVersion !== MANIFEST_VERSION) {
    throw new DeploymentManifestError(`${file} has manifestVersion ${String(manifest.manifestVersion)}; this runtime reads version ${MANIFEST_VERSION}`);
  }
  return manifest;
}

function text(resource: ManifestResource, key: string, from: 'inputs' | 'outputs' = 'inputs'): string {
  const value = resource[from][key];
  if (typeof value !== 'string' || value === '') {
    throw new DeploymentManifestError(`${resource.type} ${resource.name} has no ${from}.${key} in the manifest`);
  }
  return value;
}

function optionalNumber(resource: ManifestResource, key: string): number | undefined {
  const value = resource.inputs[key];
  return typeof value === 'number' ? value : undefined;
}

/**
 * An input as the AWS provider's own argument type: the manifest is the
 * program's rendering of those arguments, so their shape is the provider's.
 */
function providerShaped<T>(value: unknown, fallback: T): T {
  return value === undefined || value === null ? fallback : (value as T);
}

/** `rate(1 minute)` / `rate(5 minutes)` / `rate(2 hours)` → milliseconds. */
export function rateExpressionMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new DeploymentManifestError(`schedule expression "${expression}" is not emulated (only rate(...) is)`);
  const unit = match[2]!.startsWith('minute') ? 60_000 : match[2]!.startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(match[1]) * unit;
}

/** Turns the manifest into the model the runtime boots; `rootDir` resolves the bundles' paths. */
export function deploymentFromManifest(manifest: DeploymentManifest, rootDir: string): LocalDeployment {
  const ofType = (type: string): ManifestResource[] => manifest.resources.filter((r) => r.type === type && r.custom !== false);

  const tables: DeployedTable[] = ofType('aws:dynamodb/table:Table').map((r) => {
    const ttl = r.inputs.ttl as { attributeName?: string; enabled?: boolean } | undefined;
    return {
      name: text(r, 'name', 'outputs'),
      arn: text(r, 'arn', 'outputs'),
      hashKey: text(r, 'hashKey'),
      rangeKey: typeof r.inputs.rangeKey === 'string' ? r.inputs.rangeKey : undefined,
      attributes: providerShaped<DeployedTable['attributes']>(r.inputs.attributes, []),
      globalSecondaryIndexes: providerShaped<DeployedTable['globalSecondaryIndexes']>(r.inputs.globalSecondaryIndexes, []),
      ttlAttribute: ttl?.enabled ? ttl.attributeName : undefined,
      streamViewType: r.inputs.streamEnabled ? (r.inputs.streamViewType as DeployedTable['streamViewType']) : undefined,
      streamArn: r.inputs.streamEnabled ? text(r, 'streamArn', 'outputs') : undefined,
    };
  });

  const lifecycles = ofType('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration');
  const corsConfigurations = ofType('aws:s3/bucketCorsConfiguration:BucketCorsConfiguration');
  const buckets: DeployedBucket[] = ofType('aws:s3/bucket:Bucket').map((r) => {
    const name = text(r, 'bucket', 'outputs');
    const rules = providerShaped<{ id: string; status?: string; filter?: { prefix?: string }; expiration?: { days?: number } }[]>(
      lifecycles.find((candidate) => candidate.inputs.bucket === name)?.inputs.rules,
      [],
    );
    const cors = providerShaped<Partial<BucketCorsRule>[]>(corsConfigurations.find((candidate) => candidate.inputs.bucket === name)?.inputs.corsRules, []);
    return {
      name,
      arn: text(r, 'arn', 'outputs'),
      lifecycle: rules
        .filter((rule) => rule.status !== 'Disabled' && typeof rule.expiration?.days === 'number')
        .map((rule) => ({ id: rule.id, prefix: rule.filter?.prefix ?? '', expirationDays: rule.expiration!.days! })),
      cors: cors.map((rule) => ({
        allowedMethods: rule.allowedMethods ?? [],
        allowedOrigins: rule.allowedOrigins ?? [],
        allowedHeaders: rule.allowedHeaders ?? [],
        exposeHeaders: rule.exposeHeaders ?? [],
        ...(rule.maxAgeSeconds !== undefined && { maxAgeSeconds: rule.maxAgeSeconds }),
      })),
    };
  });

  const roles = ofType('aws:iam/role:Role');
  const rolePolicies = ofType('aws:iam/rolePolicy:RolePolicy');
  const invokeConfigs = ofType('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig');
  const functions: DeployedFunction[] = ofType('aws:lambda/function:Function').map((r) => {
    const name = text(r, 'name');
    const roleArn = text(r, 'role');
    const role = roles.find((candidate) => candidate.outputs.arn === roleArn);
    if (!role) throw new DeploymentManifestError(`function ${name}'s role ${roleArn} is not in the manifest`);
    const roleName = text(role, 'name', 'outputs');
    const policies = rolePolicies
      .filter((policy) => policy.inputs.role === roleName)
      .map((policy) => ({ name: text(policy, 'name', 'outputs'), document: JSON.parse(text(policy, 'policy')) as PolicyDocument }));
    const code = r.inputs.code as { $archive?: { path?: string } } | undefined;
    const codePath = code?.$archive?.path;
    if (!codePath) throw new DeploymentManifestError(`function ${name} has no archive path in the manifest`);
    const invokeConfig = invokeConfigs.find((config) => config.inputs.functionName === name);
    const environment = (r.inputs.environment as { variables?: Record<string, string | SecretMarker> } | undefined)?.variables ?? {};
    return {
      name,
      arn: text(r, 'arn', 'outputs'),
      handler: text(r, 'handler'),
      codeDir: resolve(rootDir, codePath),
      environment,
      memoryMb: optionalNumber(r, 'memorySize') ?? 128,
      timeoutSeconds: optionalNumber(r, 'timeout') ?? 3,
      reservedConcurrency: optionalNumber(r, 'reservedConcurrentExecutions'),
      role: { arn: roleArn, name: roleName, policies },
      asyncInvoke: {
        maximumRetryAttempts: (invokeConfig && optionalNumber(invokeConfig, 'maximumRetryAttempts')) ?? 2,
        maximumEventAgeSeconds: (invokeConfig && optionalNumber(invokeConfig, 'maximumEventAgeInSeconds')) ?? 21_600,
      },
    };
  });
  const functionByArn = (arn: string): DeployedFunction => {
    const fn = functions.find((candidate) => candidate.arn === arn || candidate.name === arn || arn.includes(`:function:${candidate.name}`));
    if (!fn) throw new DeploymentManifestError(`no function in the manifest has ARN ${arn}`);
    return fn;
  };

  const [apiResource, ...moreApis] = ofType('aws:apigatewayv2/api:Api');
  if (!apiResource || moreApis.length > 0) throw new DeploymentManifestError('the manifest must hold exactly one WebSocket API');
  const [stage] = ofType('aws:apigatewayv2/stage:Stage');
  if (!stage) throw new DeploymentManifestError('the manifest has no API stage');
  const integrations = ofType('aws:apigatewayv2/integration:Integration');
  /** A Lambda invocation URI (`arn:aws:apigateway:…:lambda:path/2015-03-31/functions/<arn>/invocations`) → its function. */
  const invokedFunction = (uri: string): DeployedFunction => functionByArn(/functions\/(.+)\/invocations$/.exec(uri)?.[1] ?? uri);
  const authorizers = ofType('aws:apigatewayv2/authorizer:Authorizer');
  const routes: Record<string, string> = {};
  const routeAuthorizers: Record<string, DeployedRouteAuthorizer> = {};
  for (const route of ofType('aws:apigatewayv2/route:Route')) {
    const routeKey = text(route, 'routeKey');
    const integrationId = text(route, 'target').replace(/^integrations\//, '');
    const integration = integrations.find((candidate) => candidate.id === integrationId);
    if (!integration) throw new DeploymentManifestError(`route ${routeKey} targets unknown integration ${integrationId}`);
    routes[routeKey] = invokedFunction(text(integration, 'integrationUri')).name;
    const authorizationType = route.inputs.authorizationType ?? 'NONE';
    if (authorizationType === 'NONE') continue;
    if (authorizationType !== 'CUSTOM') throw new DeploymentManifestError(`route ${routeKey} uses ${String(authorizationType)} authorization, which is not emulated (only CUSTOM and NONE are)`);
    // API Gateway refuses an authorizer on any other WebSocket route, so the runtime does too.
    if (routeKey !== '$connect') throw new DeploymentManifestError(`route ${routeKey} has an authorizer: a WebSocket API allows one on $connect only`);
    const authorizerId = text(route, 'authorizerId');
    const authorizer = authorizers.find((candidate) => candidate.id === authorizerId);
    if (!authorizer) throw new DeploymentManifestError(`route ${routeKey} uses unknown authorizer ${authorizerId}`);
    if (authorizer.inputs.authorizerType !== 'REQUEST') {
      throw new DeploymentManifestError(`authorizer ${authorizer.name} is ${String(authorizer.inputs.authorizerType)}: a WebSocket API's authorizers are REQUEST authorizers`);
    }
    routeAuthorizers[routeKey] = {
      id: authorizerId,
      name: typeof authorizer.inputs.name === 'string' ? authorizer.inputs.name : authorizer.name,
      type: 'REQUEST',
      functionName: invokedFunction(text(authorizer, 'authorizerUri')).name,
      identitySources: providerShaped<string[]>(authorizer.inputs.identitySources, []),
    };
  }
  const routeResponses = ofType('aws:apigatewayv2/routeResponse:RouteResponse');
  const twoWayRoutes = ofType('aws:apigatewayv2/route:Route')
    .filter((route) => route.inputs.routeResponseSelectionExpression === '$default')
    .filter((route) => routeResponses.some((response) => response.inputs.routeId === route.id && response.inputs.routeResponseKey === '$default'))
    .map((route) => text(route, 'routeKey'));
  const stageName = text(stage, 'name');
  const apiId = apiResource.id ?? text(apiResource, 'id', 'outputs');
  const api: DeployedWebSocketApi = {
    id: apiId,
    stage: stageName,
    executionArn: text(apiResource, 'executionArn', 'outputs'),
    managementEndpoint: `${text(apiResource, 'apiEndpoint', 'outputs').replace(/^wss:/, 'https:')}/${stageName}`,
    routes,
    twoWayRoutes,
    routeAuthorizers,
  };

  const streamMappings: DeployedStreamMapping[] = ofType('aws:lambda/eventSourceMapping:EventSourceMapping').map((r) => {
    const eventSourceArn = text(r, 'eventSourceArn');
    const table = tables.find((candidate) => candidate.streamArn === eventSourceArn);
    if (!table) throw new DeploymentManifestError(`event source ${eventSourceArn} is not the stream of a table in the manifest`);
    const filters = ((r.inputs.filterCriteria as { filters?: { pattern: string }[] } | undefined)?.filters ?? []).map(
      (filter) => JSON.parse(filter.pattern) as FilterPattern,
    );
    const destination = (r.inputs.destinationConfig as { onFailure?: { destinationArn?: string } } | undefined)?.onFailure?.destinationArn;
    return {
      functionName: functionByArn(text(r, 'functionName')).name,
      eventSourceArn,
      tableName: table.name,
      batchSize: optionalNumber(r, 'batchSize') ?? 100,
      maximumBatchingWindowSeconds: optionalNumber(r, 'maximumBatchingWindowInSeconds') ?? 0,
      startingPosition: (r.inputs.startingPosition as 'LATEST' | 'TRIM_HORIZON' | undefined) ?? 'LATEST',
      bisectBatchOnFunctionError: r.inputs.bisectBatchOnFunctionError === true,
      maximumRetryAttempts: optionalNumber(r, 'maximumRetryAttempts') ?? -1,
      maximumRecordAgeSeconds: optionalNumber(r, 'maximumRecordAgeInSeconds') ?? -1,
      parallelizationFactor: optionalNumber(r, 'parallelizationFactor') ?? 1,
      functionResponseTypes: (r.inputs.functionResponseTypes ?? []) as DeployedStreamMapping['functionResponseTypes'],
      filterPatterns: filters,
      onFailureDestinationArn: destination,
    };
  });

  const rules = ofType('aws:cloudwatch/eventRule:EventRule');
  const schedules: DeployedSchedule[] = ofType('aws:cloudwatch/eventTarget:EventTarget').map((target) => {
    const ruleName = text(target, 'rule');
    const rule = rules.find((candidate) => candidate.outputs.name === ruleName);
    if (!rule) throw new DeploymentManifestError(`event target refers to unknown rule ${ruleName}`);
    const expression = text(rule, 'scheduleExpression');
    return { ruleName, expression, intervalMs: rateExpressionMs(expression), functionName: functionByArn(text(target, 'arn')).name };
  });

  const queues = ofType('aws:sqs/queue:Queue').map((r) => ({ name: text(r, 'name', 'outputs'), arn: text(r, 'arn', 'outputs') }));
  const parameters: DeployedParameter[] = ofType('aws:ssm/parameter:Parameter').map((r) => {
    const value = r.inputs.value;
    if (typeof value !== 'string' && !isSecretMarker(value)) throw new DeploymentManifestError(`SSM parameter ${r.name} has no value in the manifest`);
    return {
      name: text(r, 'name', 'outputs'),
      arn: text(r, 'arn', 'outputs'),
      type: (r.inputs.type as DeployedParameter['type'] | undefined) ?? 'String',
      tier: (r.inputs.tier as DeployedParameter['tier'] | undefined) ?? 'Standard',
      keyArn: typeof r.inputs.keyId === 'string' ? r.inputs.keyId : undefined,
      value,
    };
  });
  const notEmulated = manifest.resources
    .filter((r) => r.custom !== false && !r.type.startsWith('streamer:') && !EMULATED_TYPES.has(r.type))
    .map((r) => `${r.type} ${r.name}`);

  return {
    project: manifest.project,
    stack: manifest.stack,
    region: manifest.region,
    accountId: manifest.accountId,
    tables,
    buckets,
    functions,
    api,
    streamMappings,
    schedules,
    queues,
    parameters,
    notEmulated,
  };
}

export function isSecretMarker(value: unknown): value is SecretMarker {
  return typeof value === 'object' && value !== null && typeof (value as SecretMarker).$secret === 'string';
}

/** The function whose route this is, or a clear error. */
export function routeTarget(deployment: LocalDeployment, routeKey: string): DeployedFunction | undefined {
  const name = deployment.api.routes[routeKey];
  return name === undefined ? undefined : deployment.functions.find((fn) => fn.name === name);
}
