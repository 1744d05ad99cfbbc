import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CONNECTIONS_TABLE } from '../cloud-shapes';
import { tenantUserKey } from '../identity-key';
import type { ConnectionRecord } from './records';

export interface ConnectionStore {
  put(record: ConnectionRecord): Promise<void>;
  get(connectionId: string): Promise<ConnectionRecord | undefined>;
  delete(connectionId: string): Promise<void>;
  /** Connection ids of one user in one tenant. */
  listByUser(tenantId: string, userId: string): Promise<string[]>;
  listByTenant(tenantId: string): Promise<string[]>;
}

export class DynamoConnectionStore implements ConnectionStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async put(record: ConnectionRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: record }));
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { connection_id: connectionId } }));
    return out.Item as ConnectionRecord | undefined;
  }

  async delete(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { connection_id: connectionId } }));
  }

  listByUser(tenantId: string, userId: string): Promise<string[]> {
    return this.queryIds('by_user', 'tenant_user', tenantUserKey(tenantId, userId));
  }

  listByTenant(tenantId: string): Promise<string[]> {
    return this.queryIds('by_tenant', 'tenant_id', tenantId);
  }

  private async queryIds(index: string, key: string, value: string): Promise<string[]> {
    const indexShape = CONNECTIONS_TABLE.globalIndexes.find((i) => i.name === index);
    if (!indexShape || indexShape.partitionKey.name !== key) throw new Error(`Index ${index} is not keyed by ${key}`);
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: index,
          KeyConditionExpression: '#k = :v',
          ExpressionAttributeNames: { '#k': key },
          ExpressionAttributeValues: { ':v': value },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) ids.push(String(item.connection_id));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return ids;
  }
}
