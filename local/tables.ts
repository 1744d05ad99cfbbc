/**
 * Creates tables in DynamoDB Local. The runtime creates the deployment's
 * tables exactly as the manifest describes them (`ensureDeployedTables`:
 * names, keys, indexes and projections, stream view type, TTL attribute);
 * test harnesses that exercise the core against DynamoDB Local directly use
 * the shapes `infra/` deploys (`ensureTables`). Existing tables (a persisted
 * run) are left as they are.
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
import type { DeployedTable } from './deployment';

export const LOCAL_TABLE_PREFIX = 'streamer-local-';


export function localTableName(shape: TableShape): string {
  return `${LOCAL_TABLE_PREFIX}${shape.logicalName}`;
}

export interface LocalTable {
  /** The cloud shape it was built from, when built from one (test harnesses). */
  readonly shape?: TableShape;
  readonly name: string;
  /** Key attribute names: partition key, then sort key. */
  readonly keyNames: readonly string[];
  /** Attribute holding an epoch-seconds expiry, when TTL is on. */
  readonly ttlAttribute?: string;
  /** The table's stream in DynamoDB Local, when it has one. */
  readonly streamArn?: string;
}

/** What creating one table needs. */
interface TableDefinition {
  readonly input: ConstructorParameters<typeof CreateTableCommand>[0] & { TableName: string };
  readonly ttlAttribute?: string;
  readonly shape?: TableShape;
}

/** The tables of a deployment manifest, created as AWS would create them. */
export function ensureDeployedTables(client: DynamoDBClient, tables: readonly DeployedTable[]): Promise<LocalTable[]> {
  return ensure(client, tables.map((table) => ({ input: deployedTableInput(table), ttlAttribute: table.ttlAttribute })));
}

export function deployedTableInput(table: DeployedTable): TableDefinition['input'] {
  return {
    TableName: table.name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: table.attributes.map((attribute) => ({ AttributeName: attribute.name, AttributeType: attribute.type })),
    KeySchema: keySchema(table.hashKey, table.rangeKey),
    ...(table.globalSecondaryIndexes.length > 0 && {
      GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: index.keySchemas.map((key) => ({ AttributeName: key.attributeName, KeyType: key.keyType })),
        Projection: { ProjectionType: index.projectionType },
      })),
    }),
    ...(table.streamViewType && { StreamSpecification: { StreamEnabled: true, StreamViewType: table.streamViewType } }),
  };
}

/** Streamer's tables from the cloud shapes, named `streamer-local-<logical name>` (test harnesses). */
export function ensureTables(client: DynamoDBClient, shapes: readonly TableShape[] = ALL_TABLES): Promise<LocalTable[]> {
  return ensure(client, shapes.map((shape) => ({ input: createTableInput(shape, localTableName(shape)), ttlAttribute: shape.ttlAttribute, shape })));
}

async function ensure(client: DynamoDBClient, definitions: readonly TableDefinition[]): Promise<LocalTable[]> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);

  return Promise.all(
    definitions.map(async ({ input, ttlAttribute, shape }): Promise<LocalTable> => {
      const name = input.TableName;
      if (!existing.has(name)) {
        await client.send(new CreateTableCommand(input));
        if (ttlAttribute) {
          await client.send(
            new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }),
          );
        }
      }
      const described = await client.send(new DescribeTableCommand({ TableName: name }));
      const keyNames = (input.KeySchema ?? []).map((key) => key.AttributeName!);
      return { ...(shape && { shape }), name, keyNames, ttlAttribute, streamArn: described.Table?.LatestStreamArn };
    }),
  );
}

export function createTableInput(shape: TableShape, name: string): TableDefinition['input'] {
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
    KeySchema: keySchema(shape.partitionKey.name, shape.sortKey?.name),
    ...(shape.globalIndexes.length > 0 && {
      GlobalSecondaryIndexes: shape.globalIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: keySchema(index.partitionKey.name, index.sortKey?.name),
        Projection: { ProjectionType: index.projection },
      })),
    }),
    ...(shape.stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: shape.stream } }),
  };
}

function keySchema(partitionKey: string, sortKey: string | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
  ];
}
