/**
 * Direct dispatch on DynamoDB Local: the router starts a request it stored
 * `queued` by dispatching `streamer.claim`; the stream's delivery of the same
 * request stays the safety net. Claiming is unchanged (one conditional
 * write), so whichever path comes second does nothing, and a failed dispatch
 * leaves the request to the stream.
 */
import * as z from 'zod';
import { defineHandler, pause, RetryableError } from '../../functions/core';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { METRICS } from '../../functions/core/metric-names';
import type { AckMessage } from '../../functions/core/protocol/messages';
import { startHarness, stopDynamoDb, type Harness } from './core-harness';

jest.setTimeout(30_000);

/** Runs of each request's handler, by the request's client id. */
const runs = new Map<string, number>();
let concurrentRuns = 0;
let maxConcurrentRuns = 0;

const job = defineHandler({
  name: 'job',
  payload: z.object({ tag: z.string(), ms: z.number().int().default(0), failFirst: z.boolean().optional(), chunks: z.number().int().optional() }),
  shouldQueue: () => true,
  async process({ payload, progress, signal, attempt, checkpoint, continueWith }) {
    runs.set(payload.tag, (runs.get(payload.tag) ?? 0) + 1);
    concurrentRuns++;
    maxConcurrentRuns = Math.max(maxConcurrentRuns, concurrentRuns);
    try {
      progress.report(0.5, 'half way');
      await pause(payload.ms, signal);
      if (payload.failFirst && attempt === 1) throw new RetryableError('first attempt fails', { retryAfterMs: 1 });
      const done = typeof checkpoint === 'number' ? checkpoint + 1 : 1;
      if (payload.chunks !== undefined && done < payload.chunks) return continueWith(done);
      return { tag: payload.tag, attempt };
    } finally {
      concurrentRuns--;
    }
  },
});

let h: Harness;
let off: Harness;
beforeAll(async () => {
  h = await startHarness([job] as unknown as AnyHandler[], { directDispatch: true });
  off = await startHarness([job] as unknown as AnyHandler[], { directDispatch: false });
  for (const harness of [h, off]) {
    await harness.connect('dd-a', 'alice', 'acme');
    await harness.connect('dd-a2', 'alice', 'acme');
  }
});
afterEach(() => {
  h.dispatcher.failWith = undefined;
  h.dispatcher.start = true;
});
afterAll(async () => {
  await h.stop();
  await off.stop();
  await stopDynamoDb();
});

let sequence = 0;
async function submit(harness: Harness, payload: Record<string, unknown>, extra: Record<string, unknown> = {}, connectionId = 'dd-a'): Promise<AckMessage> {
  const [ack] = await harness.send(connectionId, { id: `dd-${++sequence}`, action: 'job', payload, ...extra });
  if (ack?.type !== 'ack') throw new Error(`expected ack, got ${JSON.stringify(ack)}`);
  return ack;
}
const tag = (): string => `t-${++sequence}`;
const claimEventsFor = (harness: Harness, requestId: string) =>
  harness.dispatcher.events.filter((e) => e.requestId === requestId && e.type === 'streamer.claim');
const runEventsFor = (harness: Harness, requestId: string) => harness.dispatcher.events.filter((e) => e.requestId === requestId && e.type === 'streamer.run');
const lostClaims = (harness: Harness, via: 'direct' | 'stream') => harness.metrics.of(METRICS.claimsLost, { via }).length;

describe('direct dispatch', () => {
  it('starts a queued job without the stream and ends it with exactly one final message', async () => {
    const t = tag();
    const ack = await submit(h, { tag: t });
    // The router dispatched the claim itself, before answering; nothing was delivered from the stream.
    expect(claimEventsFor(h, ack.requestId)).toEqual([{ type: 'streamer.claim', requestId: ack.requestId }]);
    await h.dispatcher.idle();
    expect(runs.get(t)).toBe(1);
    expect(h.notifier.finals(ack.requestId)).toEqual([expect.objectContaining({ type: 'result', success: true, data: { tag: t, attempt: 1 } })]);
    expect(h.notifier.to('dd-a').filter((m) => m.type === 'progress' && 'requestId' in m && m.requestId === ack.requestId)).toHaveLength(1);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(h.metrics.of(METRICS.queueWait, { via: 'direct', action: 'job' }).length).toBeGreaterThan(0);
    // No second hop: the run happened in the claiming invocation.
    expect(runEventsFor(h, ack.requestId)).toEqual([]);
  });

  it('does nothing when the stream record arrives after the direct claim: one run, one final message, one lost claim counted', async () => {
    const t = tag();
    const lostBefore = lostClaims(h, 'stream');
    const ack = await submit(h, { tag: t, ms: 100 });
    await h.deliver(ack.requestId);
    await h.dispatcher.idle();
    expect(runs.get(t)).toBe(1);
    expect(runEventsFor(h, ack.requestId)).toEqual([]);
    expect(h.notifier.finals(ack.requestId)).toHaveLength(1);
    expect(lostClaims(h, 'stream')).toBe(lostBefore + 1);
  });

  it('runs the handler once when both paths race for the claim, and the client gets one final message', async () => {
    maxConcurrentRuns = 0;
    h.dispatcher.start = false; // hold the direct invoke back, to start it together with the stream's delivery
    const tags = Array.from({ length: 8 }, tag);
    const acks: AckMessage[] = [];
    for (const t of tags) acks.push(await submit(h, { tag: t, ms: 50 }));
    h.dispatcher.start = true;
    const lostBefore = lostClaims(h, 'direct') + lostClaims(h, 'stream');
    await Promise.all(
      acks.flatMap((ack) => [
        h.dispatcher.dispatch({ type: 'streamer.claim', requestId: ack.requestId }),
        h.deliver(ack.requestId),
      ]),
    );
    await h.dispatcher.idle();
    for (const [i, ack] of acks.entries()) {
      expect(runs.get(tags[i]!)).toBe(1);
      expect(h.notifier.finals(ack.requestId)).toHaveLength(1);
    }
    // Exactly one of the two claims per request lost, whichever came second.
    expect(lostClaims(h, 'direct') + lostClaims(h, 'stream') - lostBefore).toBe(acks.length);
  });

  it('still runs a job whose direct dispatch failed, from the stream, and never fails the ack', async () => {
    const t = tag();
    h.dispatcher.failWith = Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException' });
    const ack = await submit(h, { tag: t });
    expect(ack).toMatchObject({ type: 'ack', status: 'queued' });
    expect(h.metrics.of(METRICS.directDispatchFailures, { code: 'TooManyRequestsException' })).toHaveLength(1);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'queued' });
    h.dispatcher.failWith = undefined;
    await h.deliver(ack.requestId);
    expect(runs.get(t)).toBe(1);
    expect(runEventsFor(h, ack.requestId)).toHaveLength(1);
    expect(h.notifier.finals(ack.requestId)).toEqual([expect.objectContaining({ type: 'result', success: true })]);
  });

  it('dispatches nothing from the router when the switch is off: the stream starts every job', async () => {
    const t = tag();
    const ack = await submit(off, { tag: t });
    expect(off.dispatcher.events.filter((e) => e.requestId === ack.requestId)).toEqual([]);
    await off.deliver(ack.requestId);
    expect(off.dispatcher.events.filter((e) => e.requestId === ack.requestId).map((e) => e.type)).toEqual(['streamer.run']);
    expect(runs.get(t)).toBe(1);
    expect(off.notifier.finals(ack.requestId)).toHaveLength(1);
  });

  it('dispatches a request sent with one idempotency key once, however many senders repeat it', async () => {
    const t = tag();
    const idempotencyKey = `key-${t}`;
    h.dispatcher.start = false;
    // Five racing senders on five connections (the harness finds each sender's ack by its connection).
    for (const id of ['dd-k1', 'dd-k2', 'dd-k3', 'dd-k4', 'dd-k5']) await h.connect(id, 'alice', 'acme');
    const acks = await Promise.all(['dd-k1', 'dd-k2', 'dd-k3', 'dd-k4', 'dd-k5'].map((connectionId) => submit(h, { tag: t, ms: 50 }, { idempotencyKey }, connectionId)));
    h.dispatcher.start = true;
    const requestId = acks[0]!.requestId;
    expect(new Set(acks.map((a) => a.requestId))).toEqual(new Set([requestId]));
    expect(claimEventsFor(h, requestId)).toHaveLength(1);
    // A later repeat, once the job runs, dispatches nothing either.
    await h.dispatcher.dispatch({ type: 'streamer.claim', requestId });
    const repeat = await h.send('dd-a2', { id: `dd-${++sequence}`, action: 'job', payload: { tag: t, ms: 50 }, idempotencyKey });
    expect(repeat.find((m) => m.type === 'ack')).toMatchObject({ requestId, deduplicated: true });
    expect(claimEventsFor(h, requestId)).toHaveLength(2); // the one this test sent by hand, no more
    await h.deliver(requestId);
    await h.dispatcher.idle();
    expect(runs.get(t)).toBe(1);
  });

  it('leaves a retry to the stream: a late direct claim never takes a request that already ran', async () => {
    const t = tag();
    h.dispatcher.start = false; // the direct invoke is delayed (Lambda's async queue)…
    const ack = await submit(h, { tag: t, failFirst: true });
    h.dispatcher.start = true;
    await h.deliver(ack.requestId); // …so the stream runs the first attempt, which fails and is queued again
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'queued', attempts: 1 });
    const lostBefore = lostClaims(h, 'direct');
    // The late direct invoke arrives now: the request is queued, but it has run, so the claim is not its to take.
    await h.dispatcher.dispatch({ type: 'streamer.claim', requestId: ack.requestId });
    await h.dispatcher.idle();
    expect(lostClaims(h, 'direct')).toBe(lostBefore + 1);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(runs.get(t)).toBe(1);
    await h.deliver(ack.requestId); // the retry's own stream record
    expect(runs.get(t)).toBe(2);
    expect(h.notifier.finals(ack.requestId)).toEqual([expect.objectContaining({ type: 'result', data: { tag: t, attempt: 2 } })]);
    expect(claimEventsFor(h, ack.requestId)).toHaveLength(2); // the router's, and the late one sent by hand
  });

  it('continues a long job through the stream: only the first run is dispatched directly', async () => {
    const t = tag();
    const ack = await submit(h, { tag: t, chunks: 3 });
    await h.dispatcher.idle();
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'queued', continuations: 1 });
    await h.deliver(ack.requestId);
    await h.deliver(ack.requestId);
    expect(runs.get(t)).toBe(3);
    expect(claimEventsFor(h, ack.requestId)).toHaveLength(1);
    expect(runEventsFor(h, ack.requestId)).toHaveLength(2);
    expect(h.notifier.finals(ack.requestId)).toHaveLength(1);
  });

  it('does nothing for a claim of a request that was cancelled while queued', async () => {
    const t = tag();
    h.dispatcher.start = false;
    const ack = await submit(h, { tag: t });
    h.dispatcher.start = true;
    await h.send('dd-a', { id: `cancel-${t}`, action: 'cancel', payload: { requestId: ack.requestId } });
    await h.dispatcher.dispatch({ type: 'streamer.claim', requestId: ack.requestId });
    await h.dispatcher.idle();
    expect(runs.get(t)).toBeUndefined();
    expect(h.notifier.finals(ack.requestId)).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: 'CANCELLED' }) })]);
  });
});
