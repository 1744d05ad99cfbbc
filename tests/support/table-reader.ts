/**
 * Reads the local runtime's tables directly (DynamoDB Local behind the
 * runtime's front, as an operator would), for tests that check what a
 * protocol exchange left stored: a connection's record, its subscriptions,
 * a request's progress log.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntimeHandle } from './local-runtime';

export interface TableReader {
  /** The connection's record, read strongly; undefined once it is gone. */
  connectionRecord(connectionId: string): Promise<Record<string, unknown> | undefined>;
  /** How many subscriptions the connection holds (the subscriptions table's `by_connection` index). */
  subscriptionsOf(connectionId: string): Promise<number>;
  /** The `seq` of every logged progress message of a request, in order. */
  progressLogSeqs(requestId: string): Promise<number[]>;
  readonly db: DynamoDBDocumentClient;
  destroy(): void;
}

export function tableReader(runtime: Pick<LocalRuntimeHandle, 'dynamodbEndpoint' | 'tableName'>): TableReader {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }),
  );
  const queryAll = async (input: QueryCommandInput): Promise<Record<string, unknown>[]> => {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  };
  return {
    db,
    connectionRecord: async (connectionId) =>
      (await db.send(new GetCommand({ TableName: runtime.tableName('connections'), Key: { connection_id: connectionId }, ConsistentRead: true }))).Item,
    subscriptionsOf: async (connectionId) =>
      (
        await queryAll({
          TableName: runtime.tableName('subscriptions'),
          IndexName: 'by_connection',
          KeyConditionExpression: 'connection_id = :c',
          ExpressionAttributeValues: { ':c': connectionId },
        })
      ).length,
    progressLogSeqs: async (requestId) =>
      (
        await queryAll({
          TableName: runtime.tableName('progress-log'),
          KeyConditionExpression: 'request_id = :r',
          ExpressionAttributeValues: { ':r': requestId },
          ProjectionExpression: 'seq',
          ConsistentRead: true,
        })
      ).map((item) => Number(item.seq)),
    destroy: () => db.destroy(),
  };
}
