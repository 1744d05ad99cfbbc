/**
 * The idempotency-keys table: one item per (tenant, user, key), claimed with
 * a conditional put, so of two requests sent with the same key exactly one
 * names the request both get. A claim whose request has expired (its `ttl`
 * passed, the item not yet deleted by DynamoDB's TTL sweep) is free again.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './dynamo-errors';
import type { IdempotencyRecord } from './records';

export type IdempotencyClaim =
  | { readonly claimed: true }
  /** The key was claimed before: by this record (`undefined` when it expired between the put and the read). */
  | { readonly claimed: false; readonly existing: IdempotencyRecord | undefined };

export interface IdempotencyStore {
  /** Claims `record.idempotency_key` for `record.request_id`, unless a live claim exists. */
  claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyClaim>;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyClaim> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: record,
          ConditionExpression: 'attribute_not_exists(idempotency_key) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { idempotency_key: record.idempotency_key }, ConsistentRead: true }),
    );
    return { claimed: false, existing: out.Item as IdempotencyRecord | undefined };
  }
}
