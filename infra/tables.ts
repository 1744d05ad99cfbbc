/**
 * The DynamoDB tables, built from the shapes in `functions/core/cloud-shapes.ts`
 * (the same ones the local runtime creates): keys, indexes, TTL attribute and
 * stream come from there and are never restated here.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ALL_TABLES, type KeyAttribute, type TableShape } from '../functions/core/cloud-shapes';

export type TableName = TableShape['logicalName'];

/** Every attribute a key or an index uses, once (DynamoDB wants exactly those declared). */
export function keyAttributes(shape: TableShape): KeyAttribute[] {
  const byName = new Map<string, KeyAttribute>();
  const keys = [shape.partitionKey, shape.sortKey, ...shape.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  for (const key of keys) {
    if (key === undefined) continue;
    const seen = byName.get(key.name);
    if (seen !== undefined && seen.type !== key.type) {
      throw new Error(`cloud-shapes: attribute ${key.name} of table ${shape.logicalName} is both ${seen.type} and ${key.type}`);
    }
    byName.set(key.name, key);
  }
  return [...byName.values()];
}

/**
 * Tables worth point-in-time recovery (billed per GB of table each month):
 * only requests, whose results users fetch for `requestTtlDays`. A
 * connection lives at most 2 h (its record 24 h), a subscription as long as
 * its connection, a rate-limit bucket a minute, an idempotency key and a
 * progress log entry only as long as a retry or a replay may ask for them: a
 * restore would bring back records that are already meaningless or that the
 * clients recreate.
 */
export const RECOVERABLE_TABLES: ReadonlySet<TableName> = new Set<TableName>(['requests']);

export interface TableOptions {
  /** `streamer:pointInTimeRecovery`: on for the {@link RECOVERABLE_TABLES}. */
  readonly pointInTimeRecovery: boolean;
}

/**
 * The table's arguments: on-demand, encrypted at rest with the AWS-owned key,
 * TTL and stream as the shape says.
 *
 * Encryption: `serverSideEncryption: { enabled: true }` without a key ARN
 * means the AWS-managed `aws/dynamodb` KMS key, whose every use DynamoDB
 * makes on the account's behalf is a billed KMS request; `enabled: false` is
 * DynamoDB's default, the AWS-owned key: encrypted at rest just the same, no
 * KMS charge, no key policy to manage. Nothing here needs a key the account
 * controls (no cross-account access, no key-level audit requirement).
 */
export function tableArgs(shape: TableShape, options: TableOptions): aws.dynamodb.TableArgs {
  return {
    billingMode: 'PAY_PER_REQUEST',
    hashKey: shape.partitionKey.name,
    rangeKey: shape.sortKey?.name,
    attributes: keyAttributes(shape).map(({ name, type }) => ({ name, type })),
    globalSecondaryIndexes: shape.globalIndexes.map((index) => ({
      name: index.name,
      keySchemas: [
        { attributeName: index.partitionKey.name, keyType: 'HASH' },
        ...(index.sortKey ? [{ attributeName: index.sortKey.name, keyType: 'RANGE' }] : []),
      ],
      projectionType: index.projection,
    })),
    ttl: { attributeName: shape.ttlAttribute, enabled: true },
    pointInTimeRecovery: { enabled: options.pointInTimeRecovery && RECOVERABLE_TABLES.has(shape.logicalName) },
    serverSideEncryption: { enabled: false },
    streamEnabled: shape.stream !== undefined,
    streamViewType: shape.stream,
  };
}

/** A deployed table and the shape it was built from. */
export interface DeployedTable {
  readonly shape: TableShape;
  readonly table: aws.dynamodb.Table;
}

export class StreamerTables extends pulumi.ComponentResource {
  readonly byName: Readonly<Record<TableName, DeployedTable>>;

  constructor(name: string, args: TableOptions, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:Tables', name, {}, opts);
    const byName = {} as Record<TableName, DeployedTable>;
    for (const shape of ALL_TABLES) {
      const table = new aws.dynamodb.Table(`${name}-${shape.logicalName}`, tableArgs(shape, args), { parent: this });
      byName[shape.logicalName] = { shape, table };
    }
    this.byName = byName;
    this.registerOutputs({ tableNames: this.names() });
  }

  /** Physical table names by logical name. */
  names(): Record<TableName, pulumi.Output<string>> {
    const names = {} as Record<TableName, pulumi.Output<string>>;
    for (const [logical, { table }] of Object.entries(this.byName) as [TableName, DeployedTable][]) names[logical] = table.name;
    return names;
  }

  /**
   * The ARN of one of a table's indexes, for IAM. Fails when cloud-shapes has
   * no such index, so a renamed index cannot leave a stale grant behind.
   */
  indexArn(tableName: TableName, indexName: string): pulumi.Output<string> {
    const { shape, table } = this.byName[tableName];
    if (!shape.globalIndexes.some((index) => index.name === indexName)) {
      throw new Error(`cloud-shapes: table ${tableName} has no index ${indexName}`);
    }
    return pulumi.interpolate`${table.arn}/index/${indexName}`;
  }
}
