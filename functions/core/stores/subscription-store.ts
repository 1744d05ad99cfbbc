import { BatchWriteCommand, DeleteCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './dynamo-errors';
import type { SubscriptionRecord } from './records';

export interface Subscriber {
  readonly connectionId: string;
  readonly clientId: string;
}

export interface SubscriptionStore {
  add(record: SubscriptionRecord): Promise<void>;
  remove(requestId: string, connectionId: string): Promise<void>;
  /** `consistent`: a strongly consistent query, for a re-read prompted by a subscribe that just happened. */
  subscribersOf(requestId: string, consistent?: boolean): Promise<Subscriber[]>;
  /** Removes every subscription a connection holds (on disconnect). Returns how many. */
  removeAllFor(connectionId: string): Promise<number>;
  /**
   * Marks the request's final message as delivered to this subscriber; true
   * for exactly one caller. The worker ending the request and a `subscribe`
   * that finds it ended can race: this conditional write picks one sender.
   */
  claimFinalDelivery(requestId: string, connectionId: string): Promise<boolean>;
}

export class DynamoSubscriptionStore implements SubscriptionStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async add(record: SubscriptionRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: record }));
  }

  async remove(requestId: string, connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { request_id: requestId, connection_id: connectionId } }));
  }

  async subscribersOf(requestId: string, consistent = false): Promise<Subscriber[]> {
    const subscribers: Subscriber[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'request_id = :r',
          ExpressionAttributeValues: { ':r': requestId },
          ExclusiveStartKey: startKey,
          ConsistentRead: consistent,
        }),
      );
      for (const item of out.Items ?? []) {
        subscribers.push({ connectionId: String(item.connection_id), clientId: String(item.client_id) });
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return subscribers;
  }

  async claimFinalDelivery(requestId: string, connectionId: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { request_id: requestId, connection_id: connectionId },
          UpdateExpression: 'SET final_delivered = :yes',
          // The subscription must still exist (not removed by unsubscribe or disconnect) and not be served yet.
          ConditionExpression: 'attribute_exists(request_id) AND attribute_not_exists(final_delivered)',
          ExpressionAttributeValues: { ':yes': true },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async removeAllFor(connectionId: string): Promise<number> {
    let removed = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'by_connection',
          KeyConditionExpression: 'connection_id = :c',
          ExpressionAttributeValues: { ':c': connectionId },
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = (out.Items ?? []).map((item) => ({ request_id: item.request_id, connection_id: connectionId }));
      // BatchWrite takes at most 25 items; unprocessed items are retried once, the TTL removes any leftovers.
      for (let i = 0; i < keys.length; i += 25) {
        const chunk = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        const result = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: chunk } }));
        const left = result.UnprocessedItems?.[this.table];
        if (left && left.length > 0) await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: left } }));
      }
      removed += keys.length;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return removed;
  }
}
