import { InMemoryRateLimiter } from '../../functions/core/lifecycle/rate-limiter';
import { retryDelayMs } from '../../functions/core/lifecycle/retry-policy';
import { readRuntimeSettings } from '../../functions/core/runtime-env';

const limits = { connection: { ratePerSecond: 2, burst: 2 }, user: { ratePerSecond: 100, burst: 3 }, tenant: { ratePerSecond: 100, burst: 100 } };
const keys = (conn: string) => [
  { scope: 'connection' as const, key: conn },
  { scope: 'user' as const, key: 't#u' },
  { scope: 'tenant' as const, key: 't' },
];

describe('rate limiting', () => {
  it('allows a burst, then refuses with the time until the next token', async () => {
    const limiter = new InMemoryRateLimiter(limits);
    expect((await limiter.take(keys('c1'), 0)).allowed).toBe(true);
    expect((await limiter.take(keys('c1'), 0)).allowed).toBe(true);
    expect(await limiter.take(keys('c1'), 0)).toEqual({ allowed: false, retryAfterMs: 500, scope: 'connection' });
    expect((await limiter.take(keys('c1'), 500)).allowed).toBe(true);
  });

  it('limits a user across connections', async () => {
    const limiter = new InMemoryRateLimiter(limits);
    expect((await limiter.take(keys('a'), 0)).allowed).toBe(true);
    expect((await limiter.take(keys('b'), 0)).allowed).toBe(true);
    expect((await limiter.take(keys('c'), 0)).allowed).toBe(true);
    expect(await limiter.take(keys('d'), 0)).toMatchObject({ allowed: false, scope: 'user' });
  });

  it('does not spend tokens of other buckets on a refused request', async () => {
    const limiter = new InMemoryRateLimiter({ ...limits, user: { ratePerSecond: 1, burst: 1 } });
    await limiter.take(keys('a'), 0);
    expect((await limiter.take(keys('a'), 0)).allowed).toBe(false);
    expect((await limiter.take(keys('a'), 1000)).allowed).toBe(true);
  });
});

describe('retry backoff', () => {
  it('doubles from 1 s with jitter in the upper half, honouring retry-after', () => {
    expect(retryDelayMs(1, () => 0)).toBe(500);
    expect(retryDelayMs(1, () => 1)).toBe(1000);
    expect(retryDelayMs(3, () => 1)).toBe(4000);
    expect(retryDelayMs(30, () => 1)).toBe(60_000);
    expect(retryDelayMs(1, () => 0, 5000)).toBe(5000);
  });
});

describe('runtime settings', () => {
  const base = {
    STREAMER_CONNECTIONS_TABLE: 'c',
    STREAMER_REQUESTS_TABLE: 'r',
    STREAMER_SUBSCRIPTIONS_TABLE: 's',
    STREAMER_IDEMPOTENCY_KEYS_TABLE: 'i',
    STREAMER_PROGRESS_LOG_TABLE: 'p',
    STREAMER_MANAGEMENT_ENDPOINT: 'http://x',
  };

  it('applies defaults', () => {
    expect(readRuntimeSettings(base)).toMatchObject({ syncThresholdMs: 5000, maxRetries: 3, requestTtlSeconds: 7 * 86400 });
  });

  it('names the variable in every misconfiguration', () => {
    expect(() => readRuntimeSettings({ ...base, STREAMER_REQUESTS_TABLE: '' })).toThrow(/STREAMER_REQUESTS_TABLE is not set/);
    expect(() => readRuntimeSettings({ ...base, STREAMER_MAX_RETRIES: 'three' })).toThrow(/STREAMER_MAX_RETRIES must be an integer/);
    expect(() => readRuntimeSettings({ ...base, STREAMER_RATE_LIMIT_USER: 'fast' })).toThrow(/STREAMER_RATE_LIMIT_USER/);
  });
});
