import { backoffDelay, reconnectPolicy } from '../../client/backoff';

describe('reconnect backoff', () => {
  const policy = reconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 });

  test('grows exponentially from the initial delay and never exceeds the bound', () => {
    const noJitter = (attempt: number) => backoffDelay(policy, attempt, () => 0);
    expect([0, 1, 2, 3, 4, 5, 30].map(noJitter)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  test('jitter takes off at most its share of each delay', () => {
    expect(backoffDelay(policy, 2, () => 0.999999)).toBe(200);
    expect(backoffDelay(policy, 2, () => 0.5)).toBe(300);
    for (let attempt = 0; attempt < 10; attempt++) {
      const delay = backoffDelay(policy, attempt);
      const cap = Math.min(1000, 100 * 2 ** attempt);
      expect(delay).toBeGreaterThanOrEqual(cap / 2);
      expect(delay).toBeLessThanOrEqual(cap);
    }
  });

  test('rejects a policy that cannot work, naming the option', () => {
    expect(() => reconnectPolicy({ jitter: 2 })).toThrow('reconnect.jitter');
    expect(() => reconnectPolicy({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow('reconnect.maxDelayMs');
    expect(() => reconnectPolicy({ factor: 0.5 })).toThrow('reconnect.factor');
  });
});
