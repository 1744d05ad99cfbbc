/**
 * Token buckets per connection, per user and per tenant. A request takes one
 * token from each of its buckets; an empty bucket answers `RATE_LIMITED`
 * with how long until a token is back.
 */
import type { RateLimitSetting } from '../runtime-env';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** When refused: milliseconds until the emptiest bucket has a token again. */
  readonly retryAfterMs: number;
  /** When refused: which bucket refused (`connection`, `user` or `tenant`). */
  readonly scope?: RateLimitScope;
}

export type RateLimitScope = 'connection' | 'user' | 'tenant';

export interface RateLimitKey {
  readonly scope: RateLimitScope;
  readonly key: string;
}

export interface RateLimiter {
  take(keys: readonly RateLimitKey[], now: number): RateLimitDecision;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Buckets in this process's memory. On AWS each router instance keeps its
 * own buckets, so per-user and per-tenant limits hold per instance (a burst
 * spread over N warm instances can pass N times the limit).
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: Readonly<Record<RateLimitScope, RateLimitSetting>>, private readonly maxBuckets = 50_000) {}

  take(keys: readonly RateLimitKey[], now: number): RateLimitDecision {
    const refilled = keys.map(({ scope, key }) => {
      const limit = this.limits[scope];
      const id = `${scope}:${key}`;
      const bucket = this.buckets.get(id) ?? { tokens: limit.burst, updatedAt: now };
      bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.ratePerSecond);
      bucket.updatedAt = now;
      return { id, scope, bucket, limit };
    });
    const empty = refilled.find(({ bucket }) => bucket.tokens < 1);
    for (const { id, bucket } of refilled) this.remember(id, bucket);
    if (empty) {
      const retryAfterMs = Math.ceil(((1 - empty.bucket.tokens) / empty.limit.ratePerSecond) * 1000);
      return { allowed: false, retryAfterMs, scope: empty.scope };
    }
    for (const { bucket } of refilled) bucket.tokens -= 1;
    return { allowed: true, retryAfterMs: 0 };
  }

  private remember(id: string, bucket: Bucket): void {
    if (!this.buckets.has(id) && this.buckets.size >= this.maxBuckets) {
      // Forget the oldest bucket: a forgotten bucket starts full, which only ever errs towards allowing.
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    this.buckets.set(id, bucket);
  }
}
