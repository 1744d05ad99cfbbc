/**
 * Token buckets per connection, per user and per tenant. A request takes one
 * token from each of its buckets; an empty bucket answers `RATE_LIMITED`
 * with how long until a token is back.
 */
import type { RateLimitSetting } from '../runtime-env';
import type { RateLimitStore } from '../stores/rate-limit-store';

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
  /**
   * The bucket within its scope. Keys built from identity parts come from
   * `identity-key.ts` (`tenantUserKey`, `tenantKey`), never from a plain
   * join: two identities must never share a bucket.
   */
  readonly key: string;
}

/**
 * A bucket's id across scopes. The scope is one of three fixed words without
 * `#` or `:`, so the first separator always ends it: ids of different
 * (scope, key) pairs never meet, whatever the key holds.
 */
function bucketId(scope: RateLimitScope, key: string): string {
  return `${scope}#${key}`;
}

export interface RateLimiter {
  take(keys: readonly RateLimitKey[], now: number): Promise<RateLimitDecision>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Buckets in this process's memory: for a single process (tests, or a stack
 * without the rate-limits table). On AWS each router instance would keep its
 * own buckets, which is why deployed stacks use `SharedRateLimiter`.
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: Readonly<Record<RateLimitScope, RateLimitSetting>>, private readonly maxBuckets = 50_000) {}

  async take(keys: readonly RateLimitKey[], now: number): Promise<RateLimitDecision> {
    const refilled = keys.map(({ scope, key }) => {
      const limit = this.limits[scope];
      const id = bucketId(scope, key);
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

interface LeasedTokens {
  readonly scope: RateLimitScope;
  /** Tokens this instance leased and has not spent yet. */
  tokens: number;
  /** The shared bucket was empty: do not ask again before this time. */
  refusedUntil: number;
  /** Size of the next lease: starts at 1 and doubles while this instance keeps spending, up to a tenth of the burst. */
  nextLease: number;
  /** The lease being fetched: concurrent requests wait for it instead of each leasing. */
  pending?: Promise<void>;
}

/**
 * Per-user and per-tenant buckets shared by every router instance (see
 * `RateLimitStore`): each instance spends tokens it leased in batches that
 * grow from one token to a tenth of the burst (an idle instance strands few
 * tokens), one lease at a time per bucket, and remembers a refusal until the bucket refills, so a
 * flood of frames does not become a flood of DynamoDB calls. The
 * per-connection bucket stays in this instance's memory: a new connection
 * costs no DynamoDB call, and the user's bucket bounds a connection anyway.
 */
export class SharedRateLimiter implements RateLimiter {
  private readonly leased = new Map<string, LeasedTokens>();
  private readonly local: InMemoryRateLimiter;

  constructor(
    private readonly store: RateLimitStore,
    private readonly limits: Readonly<Record<RateLimitScope, RateLimitSetting>>,
    private readonly maxEntries = 50_000,
  ) {
    this.local = new InMemoryRateLimiter(limits, maxEntries);
  }

  async take(keys: readonly RateLimitKey[], now: number): Promise<RateLimitDecision> {
    const sharedKeys = keys.filter((key) => key.scope !== 'connection');
    const reservations = await Promise.all(sharedKeys.map((key) => this.reserveToken(key, now)));
    const giveBack = (): void => {
      for (const { state, reserved } of reservations) if (reserved) state.tokens += 1;
    };
    const refused = reservations.find(({ reserved }) => !reserved);
    if (refused) {
      giveBack();
      return { allowed: false, retryAfterMs: Math.max(1, refused.state.refusedUntil - now), scope: refused.state.scope };
    }
    const local = await this.local.take(keys.filter((key) => key.scope === 'connection'), now);
    if (!local.allowed) giveBack();
    return local.allowed ? { allowed: true, retryAfterMs: 0 } : local;
  }

  /** Takes one token of this bucket for the caller (leasing more if needed); `reserved: false` when the bucket is empty. */
  private async reserveToken({ scope, key }: RateLimitKey, now: number): Promise<{ state: LeasedTokens; reserved: boolean }> {
    const id = bucketId(scope, key);
    let state = this.leased.get(id);
    if (!state) {
      if (this.leased.size >= this.maxEntries) this.leased.delete(this.leased.keys().next().value as string);
      state = { scope, tokens: 0, refusedUntil: 0, nextLease: 1 };
      this.leased.set(id, state);
    }
    while (state.tokens < 1 && now >= state.refusedUntil) {
      if (!state.pending) state.pending = this.refill(id, state, now).finally(() => (state!.pending = undefined));
      await state.pending;
    }
    // Check and take in one synchronous step: concurrent callers cannot overdraw the lease.
    if (state.tokens < 1) return { state, reserved: false };
    state.tokens -= 1;
    return { state, reserved: true };
  }

  private async refill(id: string, state: LeasedTokens, now: number): Promise<void> {
    const limit = this.limits[state.scope];
    const lease = await this.store.lease(id, state.nextLease, limit, now);
    state.tokens += lease.granted;
    state.refusedUntil = lease.granted > 0 ? 0 : now + lease.retryAfterMs;
    state.nextLease = Math.min(Math.max(1, Math.ceil(limit.burst / 10)), state.nextLease * 2);
  }
}
