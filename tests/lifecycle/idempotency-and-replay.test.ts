/**
 * Idempotency keys and the progress log, on DynamoDB Local: a repeated key
 * finds the request it started (tenant- and user-scoped), progress messages
 * are numbered and logged, and `subscribe` with `afterSeq` replays what a
 * client missed.
 */
import * as z from 'zod';
import { defineHandler, RetryableError } from '../../functions/core';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { idempotencyRecordKey } from '../../functions/core/identity-key';
import { requestFingerprint } from '../../functions/core/lifecycle/idempotent-request';
import type { ProgressMessage, ServerMessage } from '../../functions/core/protocol/messages';
import { echo } from '../../functions/handlers/echo';
import { startHarness, stopDynamoDb, type Harness } from './core-harness';

jest.setTimeout(30_000);

let runs = 0;

/** Reports `steps` times (one message each), then returns; the first attempt fails after its reports when `failFirst`. */
const stepper = defineHandler({
  name: 'stepper',
  payload: z.object({ steps: z.number().int().min(1), failFirst: z.boolean().optional() }),
  shouldQueue: () => true,
  async process({ payload, progress, attempt }) {
    runs++;
    for (let step = 1; step <= payload.steps; step++) {
      progress.report(step / (payload.steps + 1), `step ${step}`, { step });
      // Past the batching window: every report is its own message.
      await new Promise((resolve) => setTimeout(resolve, 210));
    }
    if (payload.failFirst && attempt === 1) throw new RetryableError('first attempt fails', { retryAfterMs: 1 });
    return { steps: payload.steps, attempt };
  },
});

/** The same, without a progress log. */
const unlogged = defineHandler({ ...stepper, name: 'unlogged_stepper', progressLog: false });

let h: Harness;
beforeAll(async () => {
  h = await startHarness([echo, stepper, unlogged] as unknown as AnyHandler[]);
  await h.connect('idem-a', 'alice', 'acme');
  await h.connect('idem-a2', 'alice', 'acme');
  await h.connect('idem-other-tenant', 'alice', 'globex');
  await h.connect('idem-bob', 'bob', 'acme');
});
afterAll(async () => {
  await h.stop();
  await stopDynamoDb();
});

const key = (): string => `key-${Math.random().toString(36).slice(2)}`;
const about = (connectionId: string, requestId: string): ServerMessage[] =>
  h.notifier.to(connectionId).filter((m) => 'requestId' in m && m.requestId === requestId);
const progressOf = (messages: ServerMessage[]): ProgressMessage[] => messages.filter((m): m is ProgressMessage => m.type === 'progress');


describe('idempotency keys', () => {
  it('answers a repeated key with the request it started: one job, one result to both senders', async () => {
    runs = 0;
    const idempotencyKey = key();
    const [first] = await h.send('idem-a', { id: 'first', action: 'stepper', payload: { steps: 2 }, idempotencyKey });
    const [second] = await h.send('idem-a2', { id: 'second', action: 'stepper', payload: { steps: 2 }, idempotencyKey });
    expect(first).toMatchObject({ type: 'ack', id: 'first' });
    expect(first).not.toHaveProperty('deduplicated');
    const requestId = (first as { requestId: string }).requestId;
    expect(second).toEqual({ id: 'second', type: 'ack', requestId, status: 'queued', deduplicated: true });

    await h.deliver(requestId);
    expect(runs).toBe(1);
    const finals = (connectionId: string) => about(connectionId, requestId).filter((m) => m.type === 'result');
    expect(finals('idem-a')).toEqual([expect.objectContaining({ id: 'first', data: { steps: 2, attempt: 1 } })]);
    expect(finals('idem-a2')).toEqual([expect.objectContaining({ id: 'second', data: { steps: 2, attempt: 1 } })]);
    // The second sender follows the request under its own id: its progress too.
    expect(progressOf(about('idem-a2', requestId)).map((m) => [m.id, m.seq])).toEqual([['second', 1], ['second', 2]]);
  });

  it('gives a repeated key of an ended request its ack, the logged progress and its result', async () => {
    const idempotencyKey = key();
    const [first] = await h.send('idem-a', { id: 'e1', action: 'stepper', payload: { steps: 2 }, idempotencyKey });
    const requestId = (first as { requestId: string }).requestId;
    await h.deliver(requestId);
    const replies = await h.send('idem-a2', { id: 'e2', action: 'stepper', payload: { steps: 2 }, idempotencyKey });
    expect(replies.map((m) => [m.type, m.id])).toEqual([['ack', 'e2'], ['progress', 'e2'], ['progress', 'e2'], ['result', 'e2']]);
    expect(progressOf(replies).map((m) => m.seq)).toEqual([1, 2]);
    expect(replies.at(-1)).toMatchObject({ type: 'result', requestId, lastSeq: 2 });
  });

  it('starts separate jobs for the same key from another tenant or another user', async () => {
    runs = 0;
    const idempotencyKey = key();
    const acks = await Promise.all(
      ['idem-a', 'idem-other-tenant', 'idem-bob'].map(async (connectionId) => (await h.send(connectionId, { id: connectionId, action: 'stepper', payload: { steps: 1 }, idempotencyKey }))[0]),
    );
    const requestIds = acks.map((ack) => (ack as { requestId: string }).requestId);
    expect(acks.every((ack) => ack!.type === 'ack' && !('deduplicated' in ack!))).toBe(true);
    expect(new Set(requestIds).size).toBe(3);
    await h.deliver(...requestIds);
    expect(runs).toBe(3);
  });

  it('stores one request when many senders race with one key', async () => {
    runs = 0;
    const idempotencyKey = key();
    const replies = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => h.send(n % 2 ? 'idem-a' : 'idem-a2', { id: `race-${n}`, action: 'stepper', payload: { steps: 1 }, idempotencyKey })),
    );
    const acks = replies.map((r) => r.find((m) => m.type === 'ack') as { requestId: string; deduplicated?: true });
    expect(new Set(acks.map((a) => a.requestId)).size).toBe(1);
    expect(acks.filter((a) => a.deduplicated === undefined).length).toBeGreaterThanOrEqual(1);
    await h.deliver(acks[0]!.requestId);
    expect(runs).toBe(1);
  });

  it('stores the request itself when the key was claimed by a sender that died before storing it', async () => {
    const idempotencyKey = key();
    const claimedId = `01CLAIMED${Math.random().toString(36).slice(2, 12).toUpperCase()}`;
    const nowSeconds = Math.floor(Date.now() / 1000);
    await h.deps.idempotency.claim(
      {
        idempotency_key: idempotencyRecordKey('acme', 'alice', idempotencyKey),
        request_id: claimedId,
        fingerprint: requestFingerprint('stepper', { steps: 1 }),
        created_at: Date.now(),
        ttl: nowSeconds + 3600,
      },
      nowSeconds,
    );
    const [ack] = await h.send('idem-a', { id: 'orphan', action: 'stepper', payload: { steps: 1 }, idempotencyKey });
    expect(ack).toEqual({ id: 'orphan', type: 'ack', requestId: claimedId, status: 'queued' });
    expect(await h.deps.requests.get(claimedId, true)).toMatchObject({ status: 'queued', client_id: 'orphan', connection_id: 'idem-a' });
  });

  it('refuses a key sent again with another payload or action with INVALID_REQUEST', async () => {
    const idempotencyKey = key();
    await h.send('idem-a', { id: 'p1', action: 'stepper', payload: { steps: 1, failFirst: false }, idempotencyKey });
    const [other] = await h.send('idem-a', { id: 'p2', action: 'stepper', payload: { steps: 2 }, idempotencyKey });
    expect(other).toMatchObject({ id: 'p2', type: 'error', error: { code: 'INVALID_REQUEST', details: { field: 'idempotencyKey' } } });
    // Key order is not a difference.
    const [same] = await h.send('idem-a', { id: 'p3', action: 'stepper', payload: { failFirst: false, steps: 1 }, idempotencyKey });
    expect(same).toMatchObject({ type: 'ack', deduplicated: true });
  });

  it('runs a sync handler again for a repeated key: nothing is stored on the sync path', async () => {
    const idempotencyKey = key();
    const first = await h.send('idem-a', { id: 's1', action: 'echo', payload: { n: 1 }, idempotencyKey });
    const second = await h.send('idem-a', { id: 's2', action: 'echo', payload: { n: 1 }, idempotencyKey });
    expect(first).toEqual([{ id: 's1', type: 'result', success: true, data: { n: 1 } }]);
    expect(second).toEqual([{ id: 's2', type: 'result', success: true, data: { n: 1 } }]);
  });

  it.each([
    ['an empty key', ''],
    ['a blank key', '   '],
    ['a number', 42],
    ['a key over 128 characters', 'k'.repeat(129)],
    ['a key with a control character', 'a\u0007b'],
  ])('refuses %s with INVALID_REQUEST naming the field', async (_name, idempotencyKey) => {
    const [reply] = await h.send('idem-a', { id: 'bad-key', action: 'stepper', payload: { steps: 1 }, idempotencyKey });
    expect(reply).toMatchObject({ id: 'bad-key', type: 'error', error: { code: 'INVALID_REQUEST', details: { field: 'idempotencyKey' } } });
  });
});

describe('progress sequence numbers and replay', () => {
  it('numbers every progress message from 1 and ends with the last number on the final message', async () => {
    const [ack] = await h.send('idem-a', { id: 'n1', action: 'stepper', payload: { steps: 4 } });
    const requestId = (ack as { requestId: string }).requestId;
    await h.deliver(requestId);
    const messages = about('idem-a', requestId);
    expect(progressOf(messages).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(messages.at(-1)).toMatchObject({ type: 'result', lastSeq: 4 });
  });

  it('replays the progress after afterSeq, then subscribed, then the final message of an ended request', async () => {
    const [ack] = await h.send('idem-a', { id: 'r1', action: 'stepper', payload: { steps: 5 } });
    const requestId = (ack as { requestId: string }).requestId;
    await h.deliver(requestId);
    const live = progressOf(about('idem-a', requestId));
    const replies = await h.send('idem-a2', { id: 'r2', action: 'subscribe', payload: { requestId, afterSeq: 2 } });
    expect(replies.map((m) => m.type)).toEqual(['progress', 'progress', 'progress', 'subscribed', 'result']);
    const replayed = progressOf(replies);
    expect(replayed.map((m) => m.seq)).toEqual([3, 4, 5]);
    // The same messages as live, under the subscriber's id.
    expect(replayed).toEqual(live.slice(2).map((m) => ({ ...m, id: 'r2' })));
  });

  it('replays nothing to a v1 subscribe without afterSeq', async () => {
    const [ack] = await h.send('idem-a', { id: 'v1', action: 'stepper', payload: { steps: 2 } });
    const requestId = (ack as { requestId: string }).requestId;
    await h.deliver(requestId);
    const replies = await h.send('idem-a2', { id: 'v1-sub', action: 'subscribe', payload: { requestId } });
    expect(replies.map((m) => m.type)).toEqual(['subscribed', 'result']);
  });

  it('refuses a bad afterSeq with VALIDATION_ERROR', async () => {
    const [ack] = await h.send('idem-a', { id: 'bs', action: 'stepper', payload: { steps: 1 } });
    const requestId = (ack as { requestId: string }).requestId;
    for (const afterSeq of [-1, 1.5, 'two']) {
      const [reply] = await h.send('idem-a2', { id: 'bs-sub', action: 'subscribe', payload: { requestId, afterSeq } });
      expect(reply).toMatchObject({ type: 'error', error: { code: 'VALIDATION_ERROR', details: { issues: [expect.objectContaining({ path: 'afterSeq' })] } } });
    }
    await h.deliver(requestId);
  });

  it('numbers a retry\'s progress after the first attempt\'s, so no number is used twice', async () => {
    const [ack] = await h.send('idem-a', { id: 'rt', action: 'stepper', payload: { steps: 2, failFirst: true } });
    const requestId = (ack as { requestId: string }).requestId;
    await h.deliver(requestId);
    await h.deliver(requestId);
    const messages = about('idem-a', requestId);
    expect(progressOf(messages).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(messages.at(-1)).toMatchObject({ type: 'result', data: { attempt: 2 }, lastSeq: 4 });
  });

  it('numbers the messages of a handler with progressLog: false across a retry but logs none of them', async () => {
    const [ack] = await h.send('idem-a', { id: 'ul', action: 'unlogged_stepper', payload: { steps: 2, failFirst: true } });
    const requestId = (ack as { requestId: string }).requestId;
    await h.deliver(requestId);
    await h.deliver(requestId);
    expect(progressOf(about('idem-a', requestId)).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(await h.deps.progressLog.after(requestId, 0, 100)).toEqual([]);
    const replies = await h.send('idem-a2', { id: 'ul-sub', action: 'subscribe', payload: { requestId, afterSeq: 0 } });
    expect(replies.map((m) => m.type)).toEqual(['subscribed', 'result']);
  });

  it('keeps only the latest entries of a request beyond the bound', async () => {
    const requestId = `bound-${Math.random().toString(36).slice(2)}`;
    for (let seq = 1; seq <= 7; seq++) {
      await h.deps.progressLog.append({ request_id: requestId, seq, entry: JSON.stringify({ progress: seq / 10 }), ttl: Math.floor(Date.now() / 1000) + 60 }, 3);
    }
    expect((await h.deps.progressLog.after(requestId, 0, 100)).map((r) => r.seq)).toEqual([5, 6, 7]);
    expect(await h.deps.progressLog.lastSeq(requestId)).toBe(7);
  });
});
