/**
 * Large results and chatty progress through the core on DynamoDB Local:
 * the request item stays small (the result lives in the bucket), every
 * message about the request carries a fresh URL, and a progress report far
 * over the message limit is delivered truncated and stored capped, so the
 * run's lease renewals keep working.
 */
import * as z from 'zod';
import { defineHandler, pause } from '../../functions/core';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { INLINE_RESULT_MAX_BYTES } from '../../functions/core/large-results/inline-budget';
import type { AckMessage } from '../../functions/core/protocol/messages';
import { startHarness, stopDynamoDb, type Harness } from './core-harness';

jest.setTimeout(30_000);

const bigResult = defineHandler({
  name: 'big_result',
  payload: z.object({ bytes: z.number().int() }),
  shouldQueue: () => true,
  async process({ payload }) {
    return { text: 'r'.repeat(payload.bytes) };
  },
});

const chatty = defineHandler({
  name: 'chatty',
  payload: z.object({}),
  shouldQueue: () => true,
  async process({ progress, signal }) {
    progress.report(0.5, 'm'.repeat(300 * 1024), { blob: 'x'.repeat(300 * 1024) });
    // Long enough for lease renewals (every third of the 1.5 s lease) to store the reported text.
    await pause(1200, signal);
    return { ok: true };
  },
});

const loudBroadcast = defineHandler({
  name: 'loud_broadcast',
  payload: z.object({}),
  estimatedDurationMs: 1,
  async process({ broadcast }) {
    return { delivered: await broadcast('user', 'dump', 'b'.repeat(200 * 1024)) };
  },
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness([bigResult, chatty, loudBroadcast] as unknown as AnyHandler[]);
  await h.connect('conn-a', 'alice', 'acme');
});
afterAll(async () => {
  await h.stop();
  await stopDynamoDb();
});

async function submit(action: string, payload: object): Promise<AckMessage> {
  const [ack] = await h.send('conn-a', { id: `c-${Math.random()}`, action, payload });
  if (ack.type !== 'ack') throw new Error(`expected ack, got ${JSON.stringify(ack)}`);
  return ack;
}

describe('large results on DynamoDB Local', () => {
  it('keeps a result over the inline budget in the bucket, not in the request item', async () => {
    const ack = await submit('big_result', { bytes: 500_000 });
    await h.deliver(ack.requestId);
    const stored = await h.deps.requests.get(ack.requestId, true);
    expect(stored).toMatchObject({ status: 'completed', result_object: { bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(stored?.result).toBeUndefined();
    expect(h.objects.objects.get(stored!.result_object!.key)?.body.length).toBe(stored!.result_object!.bytes);
    expect(h.notifier.finals(ack.requestId)).toEqual([expect.objectContaining({ type: 'result', dataUrl: expect.any(String), dataBytes: stored!.result_object!.bytes })]);
  });

  it('keeps a result within the inline budget in the item and sends it inline', async () => {
    const ack = await submit('big_result', { bytes: INLINE_RESULT_MAX_BYTES - 100 });
    await h.deliver(ack.requestId);
    expect((await h.deps.requests.get(ack.requestId, true))?.result_object).toBeUndefined();
    expect(h.notifier.finals(ack.requestId)).toEqual([expect.objectContaining({ type: 'result', data: expect.any(Object) })]);
  });

  it('signs a fresh URL for every status and for a subscribe after the end', async () => {
    const ack = await submit('big_result', { bytes: 300_000 });
    await h.deliver(ack.requestId);
    const [first] = await h.send('conn-a', { id: 's-1', action: 'status', payload: { requestId: ack.requestId } });
    const [second] = await h.send('conn-a', { id: 's-2', action: 'status', payload: { requestId: ack.requestId } });
    const urlOf = (m: unknown) => (m as { request: { dataUrl: string } }).request.dataUrl;
    expect(urlOf(first)).toEqual(expect.any(String));
    expect(urlOf(second)).not.toBe(urlOf(first));
    expect((first as unknown as { request: Record<string, unknown> }).request).not.toHaveProperty('result');
    await h.connect('conn-late', 'alice', 'acme');
    const replies = await h.send('conn-late', { id: 'sub-1', action: 'subscribe', payload: { requestId: ack.requestId } });
    expect(replies.find((m) => m.type === 'result')).toMatchObject({ id: 'sub-1', dataUrl: expect.any(String) });
  });

  it('refuses a broadcast over the message limit to the handler, sending nothing', async () => {
    const before = h.notifier.sent.length;
    const [reply] = await h.send('conn-a', { id: 'b-1', action: 'loud_broadcast', payload: {} });
    expect(reply).toMatchObject({ id: 'b-1', type: 'error', error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(h.notifier.sent.slice(before).filter((s) => s.message.type === 'broadcast')).toEqual([]);
  });

  it('delivers a progress report over the limit truncated by rule, stores its text capped, and completes', async () => {
    const ack = await submit('chatty', {});
    await h.deliver(ack.requestId);
    const progress = h.notifier.to('conn-a').filter((m) => m.type === 'progress' && m.requestId === ack.requestId);
    expect(progress).toEqual([expect.objectContaining({ truncated: true, message: 'm'.repeat(1024) })]);
    expect(progress[0]).not.toHaveProperty('metadata');
    const stored = await h.deps.requests.get(ack.requestId, true);
    expect(stored).toMatchObject({ status: 'completed', message: 'm'.repeat(1024) });
  });
});
