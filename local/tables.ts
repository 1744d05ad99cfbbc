/**
 * Creates Streamer's tables in DynamoDB Local from `ALL_TABLES`, the shapes
 * `infra/` deploys: keys, global indexes and projections, stream view type
 * and TTL attribute. Existing tables (a persisted run) are left as they are.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { ALL_TABLES, type KeyAttribute, type TableShape } from '../functions/core/cloud-shapes';
import { ENV } from '../functions/core/runtime-env';

export const LOCAL_TABLE_PREFIX = 'streamer-local-';

/** The environment variable that names each table for the functions. */
export const TABLE_NAME_ENV: Readonly<Record<TableShape['logicalName'], string>> = {
  connections: ENV.connectionsTable,
  requests: ENV.requestsTable,
  subscriptions: ENV.subscriptionsTable,
  'rate-limits': ENV.rateLimitsTable,
};

export function localTableName(shape: TableShape): string {
  return `${LOCAL_TABLE_PREFIX}${shape.logicalName}`;
}

export interface LocalTable {
  readonly shape: TableShape;
  readonly name: string;
  /** The table's stream, when it has one. */
  readonly streamArn?: string;
}

export async function ensureTables(client: DynamoDBClient, shapes: readonly TableShape[] = ALL_TABLES): Promise<LocalTable[]> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);

  return Promise.all(
    shapes.map(async (shape): Promise<LocalTable> => {
      const name = localTableName(shape);
      if (!existing.has(name)) {
        await client.send(new CreateTableCommand(createTableInput(shape, name)));
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: shape.ttlAttribute, Enabled: true },
          }),
        );
      }
      const described = await client.send(new DescribeTableCommand({ TableName: name }));
      return { shape, name, streamArn: described.Table?.LatestStreamArn };
    }),
  );
}

export function createTableInput(shape: TableShape, name: string): ConstructorParameters<typeof CreateTableCommand>[0] {
  const attributes = new Map<string, KeyAttribute>();
  const remember = (key: KeyAttribute | undefined): void => {
    if (key) attributes.set(key.name, key);
  };
  remember(shape.partitionKey);
  remember(shape.sortKey);
  for (const index of shape.globalIndexes) {
    remember(index.partitionKey);
    remember(index.sortKey);
  }
  const definitions: AttributeDefinition[] = [...attributes.values()].map((key) => ({
    AttributeName: key.name,
    AttributeType: key.type,
  }));
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: definitions,
    KeySchema: keySchema(shape.partitionKey, shape.sortKey),
    ...(shape.globalIndexes.length > 0 && {
      GlobalSecondaryIndexes: shape.globalIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: index.projection },
      })),
    }),
    ...(shape.stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: shape.stream } }),
  };
}

function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}
