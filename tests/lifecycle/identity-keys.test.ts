/**
 * Identities whose naive `${tenant}#${user}` joins are equal: tenant `t` with
 * user `a#b`, and tenant `t#a` with user `b`. They must stay two identities
 * in every store keyed by identity: rate-limit buckets and user broadcasts.
 */
import * as z from 'zod';
import { ulid } from 'ulid';
import { defineHandler } from '../../functions/core';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { SharedRateLimiter } from '../../functions/core/lifecycle/rate-limiter';
import type { ServerMessage } from '../../functions/core/protocol/messages';
import { DynamoRateLimitStore } from '../../functions/core/stores/rate-limit-store';
import { echo } from '../../functions/handlers/echo';
import { routeFrame, startHarness, stopDynamoDb, type Harness } from './core-harness';

jest.setTimeout(30_000);

const announce = defineHandler({
  name: 'announce',
  payload: z.object({ note: z.string() }),
  estimatedDurationMs: 1,
  async process({ payload, broadcast }) {
    return { delivered: await broadcast('user', 'news', { note: payload.note }) };
  },
});

const limits = {
  connection: { ratePerSecond: 100, burst: 100 },
  // Slow refill so the test's own pace never adds a token to a user's bucket.
  user: { ratePerSecond: 0.01, burst: 2 },
  tenant: { ratePerSecond: 100, burst: 100 },
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness([echo, announce] as unknown as AnyHandler[], { rateLimits: limits });
}, 30_000);
afterAll(async () => {
  await h.stop();
  await stopDynamoDb();
});

/** Two identities whose parts, joined naively with `#`, give the same text (unique per test). */
async function collidingPair(): Promise<{ first: string; second: string }> {
  const t = `t-${ulid()}`;
  const first = `first-${ulid()}`;
  const second = `second-${ulid()}`;
  await h.connect(first, 'a#b', t);
  await h.connect(second, 'b', `${t}#a`);
  return { first, second };
}

const codes = (replies: ServerMessage[]) => replies.map((r) => (r.type === 'error' ? r.error.code : r.type));

describe('identities whose naive joins collide', () => {
  it('do not share a user rate-limit bucket (in one router instance)', async () => {
    const { first, second } = await collidingPair();
    const spent = [];
    for (let i = 0; i < 3; i++) spent.push(...(await h.send(first, { id: `f${i}`, action: 'echo' })));
    expect(codes(spent)).toEqual(['result', 'result', 'RATE_LIMITED']);
    expect(codes(await h.send(second, { id: 's0', action: 'echo' }))).toEqual(['result']);
  });

  it('do not share a user bucket in the rate-limits table shared by router instances', async () => {
    const { first, second } = await collidingPair();
    const deps = { ...h.deps, rateLimiter: new SharedRateLimiter(new DynamoRateLimitStore(h.db, h.tableName('rate-limits')), limits) };
    const send = async (connectionId: string, id: string): Promise<ServerMessage[]> => {
      const before = h.notifier.to(connectionId).length;
      await routeFrame(h.notifier, deps, { connectionId, body: JSON.stringify({ id, action: 'echo' }), remainingTimeMs: 30_000 });
      return h.notifier.to(connectionId).slice(before);
    };
    const spent = [...(await send(first, 'f0')), ...(await send(first, 'f1')), ...(await send(first, 'f2'))];
    expect(codes(spent)).toEqual(['result', 'result', 'RATE_LIMITED']);
    expect(codes(await send(second, 's0'))).toEqual(['result']);
  });

  it('each receive only their own user broadcasts', async () => {
    const { first, second } = await collidingPair();
    const note = ulid();
    const replies = await h.send(first, { id: 'b1', action: 'announce', payload: { note } });
    expect(replies.find((m) => m.type === 'result')).toMatchObject({ type: 'result', data: { delivered: 1 } });
    const receivers = h.notifier.sent
      .filter((s) => s.message.type === 'broadcast' && JSON.stringify(s.message.data) === JSON.stringify({ note }))
      .map((s) => s.connectionId);
    expect(receivers).toEqual([first]);
    expect(h.notifier.to(second).filter((m) => m.type === 'broadcast')).toEqual([]);
  });
});
