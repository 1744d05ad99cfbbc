import { echo } from '../../functions/handlers/echo';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
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
