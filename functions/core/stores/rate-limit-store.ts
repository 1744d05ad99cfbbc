/**
 * Rate-limit buckets shared by every router instance, in the rate-limits
 * table. A bucket allows `burst` requests per window of `burst / rate`
 * seconds (so `rate` per second on average, bursts up to `burst`). Router
 * instances lease tokens in small batches with one atomic conditional
 * `ADD`, so a busy tenant's bucket never needs a read, never loses a race,
 * and costs a fraction of a DynamoDB call per request.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { RateLimitSetting } from '../runtime-env';
import { isConditionFailure } from './dynamo-errors';

export interface TokenLease {
  /** Tokens granted (0 when the bucket is empty). */
  readonly granted: number;
  /** When nothing was granted: milliseconds until the bucket refills. */
  readonly retryAfterMs: number;
}

export interface RateLimitStore {
  lease(bucketKey: string, wanted: number, limit: RateLimitSetting, now: number): Promise<TokenLease>;
}

export function rateLimitWindowMs(limit: RateLimitSetting): number {
  return Math.max(1000, Math.ceil((limit.burst / limit.ratePerSecond) * 1000));
}

export class DynamoRateLimitStore implements RateLimitStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async lease(bucketKey: string, wanted: number, limit: RateLimitSetting, now: number): Promise<TokenLease> {
    const windowMs = rateLimitWindowMs(limit);
    const window = Math.floor(now / windowMs);
    const windowEnd = (window + 1) * windowMs;
    // Ask for a batch; near the end of a window, settle for the last single tokens.
    for (const tokens of wanted > 1 ? [wanted, 1] : [1]) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            // The window is digits after the last `#`, so the bucket key before it is never ambiguous.
            Key: { bucket_key: `${bucketKey}#${window}` },
            UpdateExpression: 'ADD used :tokens SET #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(used) OR used <= :room',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':tokens': tokens, ':room': limit.burst - tokens, ':ttl': epochSeconds(windowEnd) + 60 },
          }),
        );
        return { granted: tokens, retryAfterMs: 0 };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return { granted: 0, retryAfterMs: Math.max(1, windowEnd - now) };
  }
}
