import { echo } from '../../functions/handlers/echo';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { SharedRateLimiter } from '../../functions/core/lifecycle/rate-limiter';
import { DynamoRateLimitStore, type RateLimitStore } from '../../functions/core/stores/rate-limit-store';
import { startHarness, stopDynamoDb, type Harness } from './core-harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([echo as unknown as AnyHandler], {
    rateLimits: {
      // Slow refill so the test's own pace never adds a token.
      connection: { ratePerSecond: 0.01, burst: 3 },
      user: { ratePerSecond: 0.01, burst: 4 },
      tenant: { ratePerSecond: 100, burst: 100 },
    },
  });
  await h.connect('rl-1', 'carol', 'acme');
  await h.connect('rl-2', 'carol', 'acme');
  await h.connect('rl-3', 'dave', 'acme');
}, 30_000);
afterAll(async () => {
  await h.stop();
  await stopDynamoDb();
});

describe('rate limiting at the router', () => {
  it('answers RATE_LIMITED with a retry-after once a connection spends its burst, and runs nothing', async () => {
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(...(await h.send('rl-1', { id: `r${i}`, action: 'echo', payload: { i } })));
    expect(replies.slice(0, 3).every((r) => r.type === 'result')).toBe(true);
    expect(replies[3]).toMatchObject({
      id: 'r3',
      type: 'error',
      error: { code: 'RATE_LIMITED', retryable: true, retryAfterMs: expect.any(Number), details: { scope: 'connection' } },
    });
  });

  it('limits a user across connections but not other users', async () => {
    const [a, b] = [await h.send('rl-2', { id: 'u1', action: 'echo' }), await h.send('rl-2', { id: 'u2', action: 'echo' })];
    expect([...a, ...b].map((r) => r.type)).toEqual(['result', 'error']);
    expect(b[0]).toMatchObject({ error: { code: 'RATE_LIMITED', details: { scope: 'user' } } });
    const [other] = await h.send('rl-3', { id: 'd1', action: 'echo' });
    expect(other.type).toBe('result');
  });
});

describe('rate limits shared by every router instance', () => {
  const limits = {
    connection: { ratePerSecond: 0.01, burst: 1000 },
    user: { ratePerSecond: 0.01, burst: 40 },
    tenant: { ratePerSecond: 0.01, burst: 1000 },
  };
  const keys = (user: string) => [
    { scope: 'connection' as const, key: `c-${user}` },
    { scope: 'user' as const, key: `shared#${user}` },
    { scope: 'tenant' as const, key: 'shared' },
  ];

  function countingStore(): { store: RateLimitStore; calls: () => number } {
    const inner = new DynamoRateLimitStore(h.db, h.tableName('rate-limits'));
    let calls = 0;
    return { store: { lease: (...args) => ((calls += 1), inner.lease(...args)) }, calls: () => calls };
  }

  it('holds a user\'s limit across two instances, leasing tokens in batches', async () => {
    const a = countingStore();
    const b = countingStore();
    const instances = [new SharedRateLimiter(a.store, limits), new SharedRateLimiter(b.store, limits)];
    let allowed = 0;
    const now = Date.now();
    for (let i = 0; i < 100; i++) {
      if ((await instances[i % 2].take(keys('erin'), now)).allowed) allowed++;
    }
    expect(allowed).toBe(40);
    // 40 tokens in leases of 4 per instance, plus one refused lease each: far fewer calls than requests.
    expect(a.calls() + b.calls()).toBeLessThan(100 / 2);
  });

  it('remembers a refusal instead of asking DynamoDB for every refused frame', async () => {
    const counted = countingStore();
    const limiter = new SharedRateLimiter(counted.store, { ...limits, user: { ratePerSecond: 0.01, burst: 2 } });
    const now = Date.now();
    const decisions = [];
    for (let i = 0; i < 50; i++) decisions.push(await limiter.take(keys('frank'), now));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(2);
    expect(decisions[2]).toMatchObject({ allowed: false, scope: 'user', retryAfterMs: expect.any(Number) });
    expect(counted.calls()).toBeLessThanOrEqual(6);
  });

  it('serves 100 concurrent first requests with a few growing leases and never overdraws', async () => {
    const counted = countingStore();
    const limiter = new SharedRateLimiter(counted.store, { ...limits, user: { ratePerSecond: 0.01, burst: 50 } });
    const now = Date.now();
    const decisions = await Promise.all(Array.from({ length: 100 }, () => limiter.take(keys('gina'), now)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
    // One lease at a time per bucket, growing 1, 2, 4, 5, 5 …: about a dozen per bucket, not one per request.
    expect(counted.calls()).toBeLessThan(40);
  });
});
