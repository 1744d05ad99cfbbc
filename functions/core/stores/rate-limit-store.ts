/**
 * Token buckets shared by every router instance, in the rate-limits table.
 * Instances lease tokens in small batches (one read and one conditional write
 * per batch), so a limit holds across instances at a fraction of a DynamoDB
 * call per request.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { RateLimitSetting } from '../runtime-env';
import { isConditionFailure } from './dynamo-errors';

export interface TokenLease {
  /** Tokens granted (0 when the bucket is empty). */
  readonly granted: number;
  /** When nothing was granted: milliseconds until one token is back. */
  readonly retryAfterMs: number;
}

export interface RateLimitStore {
  lease(bucketKey: string, wanted: number, limit: RateLimitSetting, now: number): Promise<TokenLease>;
}

/** Optimistic-concurrency attempts before a contended bucket is treated as empty for this call. */
const MAX_ATTEMPTS = 4;

export class DynamoRateLimitStore implements RateLimitStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async lease(bucketKey: string, wanted: number, limit: RateLimitSetting, now: number): Promise<TokenLease> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { bucket_key: bucketKey }, ConsistentRead: true }));
      const stored = out.Item as { tokens: number; updated_at: number } | undefined;
      const tokens = stored
        ? Math.min(limit.burst, stored.tokens + (Math.max(0, now - stored.updated_at) / 1000) * limit.ratePerSecond)
        : limit.burst;
      const granted = Math.min(wanted, Math.floor(tokens));
      if (granted === 0) return { granted: 0, retryAfterMs: Math.ceil(((1 - tokens) / limit.ratePerSecond) * 1000) };
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              bucket_key: bucketKey,
              tokens: tokens - granted,
              updated_at: now,
              // A bucket refills completely within burst / rate seconds; after that it can be forgotten.
              ttl: epochSeconds(now) + Math.ceil(limit.burst / limit.ratePerSecond) + 60,
            },
            ConditionExpression: stored ? 'updated_at = :seen' : 'attribute_not_exists(bucket_key)',
            ExpressionAttributeValues: stored ? { ':seen': stored.updated_at } : undefined,
          }),
        );
        return { granted, retryAfterMs: 0 };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Another instance leased from this bucket meanwhile: read it again.
      }
    }
    return { granted: 0, retryAfterMs: 100 };
  }
}
