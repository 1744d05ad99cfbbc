/**
 * Pulumi mocks that answer like AWS: the ids, ARNs, URLs and auto-names a
 * real `pulumi up` would produce, for one fixed account and region.
 *
 * Everything is a pure function of the resource's URN and inputs, so two
 * renderings of the same program are byte-identical, and a change of one
 * input never renames an unrelated resource (names hang on the URN alone,
 * as Pulumi's auto-names hang on the logical name).
 *
 * @example
 * const mocks = new AwsShapedMocks({ accountId: '123456789012', region: 'eu-west-1' });
 * await pulumi.runtime.setMocks(mocks, 'streamer', 'dev');
 */
import { createHash } from 'node:crypto';
import type * as pulumi from '@pulumi/pulumi';

/** The account synth renders for unless told otherwise (AWS's own documentation account). */
export const DEFAULT_ACCOUNT_ID = '123456789012';
/** The region of a stack that sets no `aws:region` (the AWS provider's own default is none; the CLI's is this). */
export const DEFAULT_REGION = 'us-east-1';
/** Only the commercial partition is rendered: the program derives every ARN prefix from `getPartition`. */
export const PARTITION = 'aws';
/** DynamoDB stream labels are creation timestamps; this fixed one keeps renderings identical. */
export const STREAM_LABEL = '1970-01-01T00:00:00.000';

/** Where the rendering pretends to run. */
export interface AwsTarget {
  readonly accountId: string;
  readonly region: string;
}

/** The properties of one resource as a mock receives and returns them. */
export type PropertyMap = Record<string, unknown>;

/** What {@link AwsShapedMocks} needs to know of a resource beyond Pulumi's mock arguments. */
export interface ResourceIdentity {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
}

/**
 * Pulumi's mock arguments carry no parent, hence no URN; the caller that does
 * know it (the manifest, which watches the monitor) supplies it here.
 */
export type UrnResolver = (args: pulumi.runtime.MockResourceArgs) => string;

/** Thrown when the program calls a provider function these mocks do not answer. */
export class UnmockedCallError extends Error {
  constructor(readonly token: string) {
    super(`the program called ${token}, which synth does not render: add it to infra/synth/aws-shapes.ts`);
    this.name = 'UnmockedCallError';
  }
}

/** A deterministic digest of `parts`, as hex. */
function digest(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/** Pulumi's auto-name: `<logical name>-<7 hex>`; the suffix is random in Pulumi, a hash of the URN here. */
export function autoName(identity: ResourceIdentity): string {
  return `${identity.name}-${digest('autoname', identity.urn).slice(0, 7)}`;
}

/** `length` characters of `alphabet`, drawn from the URN's digest (lowercase alnum API ids, IAM unique ids…). */
function idFrom(urn: string, purpose: string, length: number, alphabet: string): string {
  const bytes = createHash('sha256').update(`${purpose}\0${urn}`).digest();
  let id = '';
  for (let i = 0; i < length; i++) id += alphabet[bytes[i % bytes.length] % alphabet.length];
  return id;
}

const LOWER_ALNUM = '0123456789abcdefghijklmnopqrstuvwxyz';
const UPPER_ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** An RFC 4122 version-4-shaped UUID from the URN's digest (event source mappings, subscriptions). */
export function deterministicUuid(urn: string, purpose = 'uuid'): string {
  const hex = digest(purpose, urn);
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** A value the provider would compute: a state field, from the inputs or else from `fallback`. */
function given(inputs: PropertyMap, key: string, fallback: () => string): string {
  return text(inputs[key]) ?? fallback();
}

/** One resource type: its auto-named property (if any), its id and the outputs AWS computes. */
interface Shape {
  /** The input Pulumi auto-names when the program leaves it unset. */
  readonly autoNamed?: string;
  /** Global services (IAM, CloudWatch dashboards) carry no `region` output in provider v7. */
  readonly global?: boolean;
  render(context: ShapeContext): { readonly id: string; readonly outputs: PropertyMap };
}

interface ShapeContext {
  readonly identity: ResourceIdentity;
  readonly target: AwsTarget;
  /** Inputs with the auto-named property filled in. */
  readonly inputs: PropertyMap;
  /** The physical name: the auto-named property's value. */
  readonly physicalName: string;
}

const arn = (service: string, { region, accountId }: AwsTarget, resource: string, regional = true): string =>
  `arn:${PARTITION}:${service}:${regional ? region : ''}:${accountId}:${resource}`;

/** A short API Gateway child id (route, integration): 7 lowercase alnum, as AWS issues them. */
const apiChildId = (urn: string): string => idFrom(urn, 'apigateway-child', 7, LOWER_ALNUM);

const executeApiHost = (apiId: string, region: string): string => `${apiId}.execute-api.${region}.amazonaws.com`;

/**
 * Every resource type the Streamer program creates, by Pulumi type token.
 * A type missing here still renders (with a generic ARN), and is listed by
 * {@link AwsShapedMocks.unshapedTypes} so a test can demand it be added.
 */
const SHAPES: Readonly<Record<string, Shape>> = {
  'aws:dynamodb/table:Table': {
    autoNamed: 'name',
    render: ({ target, inputs, physicalName }) => {
      const tableArn = arn('dynamodb', target, `table/${physicalName}`);
      const streamed = inputs.streamEnabled === true;
      return {
        id: physicalName,
        outputs: {
          arn: tableArn,
          ...(streamed ? { streamArn: `${tableArn}/stream/${STREAM_LABEL}`, streamLabel: STREAM_LABEL } : { streamArn: '', streamLabel: '' }),
        },
      };
    },
  },
  'aws:lambda/function:Function': {
    autoNamed: 'name',
    render: ({ target, physicalName }) => {
      const functionArn = arn('lambda', target, `function:${physicalName}`);
      const invoke = (fn: string): string => `arn:${PARTITION}:apigateway:${target.region}:lambda:path/2015-03-31/functions/${fn}/invocations`;
      return {
        id: physicalName,
        outputs: {
          arn: functionArn,
          invokeArn: invoke(functionArn),
          qualifiedArn: `${functionArn}:$LATEST`,
          qualifiedInvokeArn: invoke(`${functionArn}:$LATEST`),
          version: '$LATEST',
        },
      };
    },
  },
  'aws:lambda/permission:Permission': {
    autoNamed: 'statementId',
    render: ({ physicalName }) => ({ id: physicalName, outputs: {} }),
  },
  'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig': {
    // The provider's id is the function name (with `:qualifier` when one is set).
    render: ({ inputs }) => ({ id: text(inputs.functionName) ?? '', outputs: {} }),
  },
  'aws:lambda/eventSourceMapping:EventSourceMapping': {
    render: ({ identity, target, inputs }) => {
      const uuid = deterministicUuid(identity.urn);
      const fn = text(inputs.functionName) ?? '';
      // AWS answers with the function's ARN even when given its name.
      const functionArn = fn.startsWith('arn:') ? fn : arn('lambda', target, `function:${fn}`);
      return { id: uuid, outputs: { uuid, arn: arn('lambda', target, `event-source-mapping:${uuid}`), functionArn, state: 'Enabled' } };
    },
  },
  'aws:iam/role:Role': {
    autoNamed: 'name',
    global: true,
    render: ({ identity, target, inputs, physicalName }) => {
      const rolePath = given(inputs, 'path', () => '/');
      return {
        id: physicalName,
        outputs: {
          arn: `arn:${PARTITION}:iam::${target.accountId}:role${rolePath}${physicalName}`,
          path: rolePath,
          uniqueId: `AROA${idFrom(identity.urn, 'iam-unique-id', 17, UPPER_ALNUM)}`,
          createDate: '1970-01-01T00:00:00Z',
        },
      };
    },
  },
  'aws:iam/rolePolicy:RolePolicy': {
    autoNamed: 'name',
    global: true,
    render: ({ inputs, physicalName }) => ({ id: `${text(inputs.role) ?? ''}:${physicalName}`, outputs: {} }),
  },
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': {
    global: true,
    // The provider's id is `<role>-<timestamp>`; a digest stands in for the timestamp.
    render: ({ identity, inputs }) => ({ id: `${text(inputs.role) ?? ''}-${digest('attachment', identity.urn).slice(0, 26)}`, outputs: {} }),
  },
  'aws:apigateway/account:Account': {
    // One per account and region: the provider names it so.
    render: () => ({ id: 'api-gateway-account', outputs: { throttleSettings: [{ burstLimit: 5000, rateLimit: 10000 }] } }),
  },
  'aws:apigatewayv2/api:Api': {
    autoNamed: 'name',
    render: ({ identity, target, inputs }) => {
      const id = idFrom(identity.urn, 'apigateway-api', 10, LOWER_ALNUM);
      const websocket = inputs.protocolType === 'WEBSOCKET';
      return {
        id,
        outputs: {
          arn: `arn:${PARTITION}:apigateway:${target.region}::/apis/${id}`,
          apiEndpoint: `${websocket ? 'wss' : 'https'}://${executeApiHost(id, target.region)}`,
          executionArn: arn('execute-api', target, id),
        },
      };
    },
  },
  'aws:apigatewayv2/route:Route': { render: ({ identity }) => ({ id: apiChildId(identity.urn), outputs: {} }) },
  'aws:apigatewayv2/integration:Integration': {
    render: ({ identity }) => ({ id: apiChildId(identity.urn), outputs: { integrationResponseSelectionExpression: '' } }),
  },
  'aws:apigatewayv2/routeResponse:RouteResponse': { render: ({ identity }) => ({ id: apiChildId(identity.urn), outputs: {} }) },
  // Its id is what the route's authorizerId and the invoke permission's source ARN (…/authorizers/<id>) name.
  'aws:apigatewayv2/authorizer:Authorizer': { render: ({ identity }) => ({ id: apiChildId(identity.urn), outputs: {} }) },
  'aws:apigatewayv2/integrationResponse:IntegrationResponse': {
    render: ({ identity }) => ({ id: apiChildId(identity.urn), outputs: {} }),
  },
  'aws:apigatewayv2/stage:Stage': {
    autoNamed: 'name',
    render: ({ target, inputs, physicalName }) => {
      const apiId = text(inputs.apiId) ?? '';
      return {
        id: physicalName,
        outputs: {
          arn: `arn:${PARTITION}:apigateway:${target.region}::/apis/${apiId}/stages/${physicalName}`,
          executionArn: arn('execute-api', target, `${apiId}/${physicalName}`),
          invokeUrl: `wss://${executeApiHost(apiId, target.region)}/${physicalName}`,
        },
      };
    },
  },
  'aws:ssm/parameter:Parameter': {
    autoNamed: 'name',
    // The id is the name; the ARN drops a name's leading "/" (parameter/streamer-dev/token-key).
    render: ({ target, physicalName }) => ({
      id: physicalName,
      outputs: { arn: arn('ssm', target, `parameter/${physicalName.replace(/^\//, '')}`), version: 1, tier: 'Standard' },
    }),
  },
  'aws:sqs/queue:Queue': {
    autoNamed: 'name',
    render: ({ target, inputs, physicalName }) => {
      // A FIFO queue's auto-name keeps the mandatory suffix last.
      const name = inputs.fifoQueue === true && !physicalName.endsWith('.fifo') ? `${physicalName}.fifo` : physicalName;
      const url = `https://sqs.${target.region}.amazonaws.com/${target.accountId}/${name}`;
      // The provider's id of a queue is its URL.
      return { id: url, outputs: { name, arn: arn('sqs', target, name), url } };
    },
  },
  'aws:cloudwatch/eventRule:EventRule': {
    autoNamed: 'name',
    render: ({ target, inputs, physicalName }) => {
      const bus = given(inputs, 'eventBusName', () => 'default');
      const resource = bus === 'default' ? `rule/${physicalName}` : `rule/${bus}/${physicalName}`;
      return { id: bus === 'default' ? physicalName : `${bus}/${physicalName}`, outputs: { arn: arn('events', target, resource), eventBusName: bus } };
    },
  },
  'aws:cloudwatch/eventTarget:EventTarget': {
    render: ({ identity, inputs }) => {
      // Unset, the provider generates `terraform-<26 digits>`; digits from the URN here.
      const targetId = text(inputs.targetId) ?? `terraform-${BigInt(`0x${digest('target', identity.urn).slice(0, 24)}`).toString().padStart(26, '0').slice(0, 26)}`;
      const bus = given(inputs, 'eventBusName', () => 'default');
      return { id: `${bus === 'default' ? '' : `${bus}/`}${text(inputs.rule) ?? ''}-${targetId}`, outputs: { targetId, eventBusName: bus } };
    },
  },
  'aws:cloudwatch/logGroup:LogGroup': {
    autoNamed: 'name',
    render: ({ target, physicalName }) => ({ id: physicalName, outputs: { arn: arn('logs', target, `log-group:${physicalName}`) } }),
  },
  'aws:cloudwatch/metricAlarm:MetricAlarm': {
    autoNamed: 'name',
    render: ({ target, physicalName }) => ({ id: physicalName, outputs: { arn: arn('cloudwatch', target, `alarm:${physicalName}`) } }),
  },
  'aws:cloudwatch/dashboard:Dashboard': {
    autoNamed: 'dashboardName',
    global: true,
    render: ({ target, physicalName }) => ({ id: physicalName, outputs: { dashboardArn: arn('cloudwatch', target, `dashboard/${physicalName}`, false) } }),
  },
  'aws:s3/bucket:Bucket': {
    autoNamed: 'bucket',
    render: ({ target, physicalName }) => ({
      id: physicalName,
      outputs: {
        // S3 ARNs name neither region nor account.
        arn: `arn:${PARTITION}:s3:::${physicalName}`,
        bucketDomainName: `${physicalName}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${physicalName}.s3.${target.region}.amazonaws.com`,
      },
    }),
  },
  // A bucket's configuration resources are one per bucket: the provider's id is the bucket's name.
  ...Object.fromEntries(
    [
      'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
      'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
      'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
      'aws:s3/bucketCorsConfiguration:BucketCorsConfiguration',
      'aws:s3/bucketPolicy:BucketPolicy',
    ].map((type): [string, Shape] => [type, { render: ({ inputs }) => ({ id: text(inputs.bucket) ?? '', outputs: {} }) }]),
  ),
  'aws:sns/topic:Topic': {
    autoNamed: 'name',
    render: ({ target, physicalName }) => {
      const topicArn = arn('sns', target, physicalName);
      // The provider's id of a topic is its ARN.
      return { id: topicArn, outputs: { arn: topicArn, owner: target.accountId } };
    },
  },
  'aws:sns/topicSubscription:TopicSubscription': {
    render: ({ identity, inputs }) => {
      const subscriptionArn = `${text(inputs.topic) ?? ''}:${deterministicUuid(identity.urn, 'subscription')}`;
      // An email subscription waits for its confirmation: AWS reports it pending.
      const pending = inputs.protocol === 'email' || inputs.protocol === 'email-json';
      return { id: subscriptionArn, outputs: { arn: subscriptionArn, pendingConfirmation: pending } };
    },
  },
};

/** Resource types that are Pulumi's own (providers, components): no AWS shape, no ARN. */
function isPulumiOwn(type: string, custom: boolean | undefined): boolean {
  return custom === false || type.startsWith('pulumi:');
}

/** A type with no entry in {@link SHAPES}: the id is the name, the ARN follows the commonest pattern. */
function genericShape(type: string): Shape {
  const service = type.split(':')[1]?.split('/')[0] ?? 'unknown';
  return {
    render: ({ target, physicalName }) => ({ id: physicalName, outputs: { arn: arn(service, target, `${service}/${physicalName}`) } }),
  };
}

/**
 * A {@link pulumi.runtime.Mocks} whose answers have AWS's shapes.
 *
 * Outputs are the inputs merged with what AWS computes (ids, ARNs, endpoints,
 * auto-names), so any property the program reads back resolves.
 */
export class AwsShapedMocks implements pulumi.runtime.Mocks {
  readonly target: AwsTarget;
  private readonly urnOf: UrnResolver;
  private readonly unshaped = new Set<string>();

  /**
   * @param target Account and region to render for.
   * @param urnOf How to learn a resource's URN (needs its parent); without it,
   *   the URN is built as if every resource were top-level, still deterministic.
   */
  constructor(target: AwsTarget, urnOf?: UrnResolver) {
    this.target = target;
    this.urnOf = urnOf ?? ((args) => `urn:pulumi:stack::project::${args.type}::${args.name}`);
  }

  /** AWS types the program created that have no shape here (rendered generically). */
  unshapedTypes(): readonly string[] {
    return [...this.unshaped].sort();
  }

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = (args.inputs ?? {}) as PropertyMap;
    const identity: ResourceIdentity = { urn: this.urnOf(args), type: args.type, name: args.name };
    if (isPulumiOwn(args.type, args.custom)) {
      // Providers get a UUID id in real Pulumi; components have none.
      return { id: args.custom === false ? undefined : deterministicUuid(identity.urn, 'provider'), state: { ...inputs } };
    }
    const shape = SHAPES[args.type] ?? genericShape(args.type);
    if (SHAPES[args.type] === undefined) this.unshaped.add(args.type);
    const physicalName = shape.autoNamed === undefined ? args.name : (text(inputs[shape.autoNamed]) ?? autoName(identity));
    const named = shape.autoNamed === undefined ? inputs : { ...inputs, [shape.autoNamed]: physicalName };
    const { id, outputs } = shape.render({ identity, target: this.target, inputs: named, physicalName });
    const region = shape.global === true ? {} : { region: this.target.region };
    return { id, state: { ...named, ...region, ...outputs } };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    const { accountId, region } = this.target;
    switch (args.token) {
      case 'aws:index/getCallerIdentity:getCallerIdentity':
        return { id: accountId, accountId, arn: `arn:${PARTITION}:iam::${accountId}:root`, userId: accountId };
      case 'aws:index/getRegion:getRegion':
        return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com`, description: '' };
      case 'aws:index/getPartition:getPartition':
        return { id: PARTITION, partition: PARTITION, dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws' };
      default:
        throw new UnmockedCallError(args.token);
    }
  }
}

/** Every AWS type {@link AwsShapedMocks} knows the shape of. */
export const SHAPED_TYPES: readonly string[] = Object.keys(SHAPES).sort();
