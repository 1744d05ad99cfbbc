import * as z from 'zod';
import { defineHandler, pause, RetryableError, FatalError } from '../../functions/core';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { sweepExpiredLeases } from '../../functions/core/lifecycle/sweep-expired-leases';
import type { StreamerDeps } from '../../functions/core/lifecycle/deps';
import { generateReport } from '../../functions/handlers/generate-report';
import { echo } from '../../functions/handlers/echo';
import type { AckMessage, ServerMessage } from '../../functions/core/protocol/messages';
import { waitFor } from '../support/wait-for';
import { startHarness, stopDynamoDb, type Harness } from './core-harness';

jest.setTimeout(30_000);

let attemptsSeen = 0;
let concurrentRuns = 0;
let maxConcurrentRuns = 0;

const flaky = defineHandler({
  name: 'flaky',
  payload: z.object({ failTimes: z.number().int(), fatal: z.boolean().optional() }),
  shouldQueue: () => true,
  maxRetries: 2,
  async process({ payload, attempt }) {
    attemptsSeen++;
    if (payload.fatal) throw new FatalError('cannot ever work');
    if (attempt <= payload.failTimes) throw new RetryableError(`attempt ${attempt} failed`, { retryAfterMs: 10 });
    return { attempt };
  },
});

const slow = defineHandler({
  name: 'slow',
  payload: z.object({ ms: z.number().int() }),
  shouldQueue: () => true,
  async process({ payload, signal, progress }) {
    concurrentRuns++;
    maxConcurrentRuns = Math.max(maxConcurrentRuns, concurrentRuns);
    try {
      progress.report(0.1, 'started');
      await pause(payload.ms, signal);
      return { slept: payload.ms };
    } finally {
      concurrentRuns--;
    }
  },
});

const longRunning = defineHandler({
  name: 'resumable',
  payload: z.object({ chunks: z.number().int() }),
  shouldQueue: () => true,
  async process({ payload, checkpoint, continueWith, progress }) {
    const done = typeof checkpoint === 'number' ? checkpoint : 0;
    progress.report((done + 1) / payload.chunks);
    if (done + 1 < payload.chunks) return continueWith(done + 1);
    return { chunks: done + 1 };
  },
});

const announce = defineHandler({
  name: 'announce',
  payload: z.object({ scope: z.enum(['user', 'tenant']) }),
  estimatedDurationMs: 1,
  async process({ payload, broadcast }) {
    return { delivered: await broadcast(payload.scope, 'news', { hello: payload.scope }) };
  },
});

/** Reports progress every `everyMs`, `ticks` times: a job that runs long enough for the lease's timers to matter. */
const ticker = defineHandler({
  name: 'ticker',
  payload: z.object({ ticks: z.number().int(), everyMs: z.number().int() }),
  shouldQueue: () => true,
  async process({ payload, progress, signal }) {
    for (let i = 1; i <= payload.ticks; i++) {
      await pause(payload.everyMs, signal);
      progress.report(i / payload.ticks, `tick ${i}`);
    }
    return { ticks: payload.ticks };
  },
});

const handlers = [echo, generateReport, flaky, slow, longRunning, announce, ticker] as unknown as AnyHandler[];

let h: Harness;
beforeAll(async () => {
  h = await startHarness(handlers);
  await h.connect('conn-a', 'alice', 'acme');
  await h.connect('conn-a2', 'alice', 'acme');
  await h.connect('conn-b', 'bob', 'acme');
  await h.connect('conn-c', 'alice', 'other-tenant');
});
afterAll(async () => {
  await h.stop();
  await stopDynamoDb();
});

async function submit(connectionId: string, action: string, payload: object): Promise<AckMessage> {
  const [ack] = await h.send(connectionId, { id: `c-${Math.random()}`, action, payload });
  if (ack.type !== 'ack') throw new Error(`expected ack, got ${JSON.stringify(ack)}`);
  return ack;
}

const finalsOf = (requestId: string) => h.notifier.finals(requestId);

describe('request lifecycle on DynamoDB Local', () => {
  it('answers a sync handler with one result and stores nothing', async () => {
    const replies = await h.send('conn-a', { id: 's1', action: 'echo', payload: { x: 1 } });
    expect(replies).toEqual([{ id: 's1', type: 'result', success: true, data: { x: 1 } }]);
  });

  it('stores an async request as queued before acknowledging it', async () => {
    const ack = await submit('conn-a', 'generate_report', { rows: 10, stepDelayMs: 0 });
    const stored = await h.deps.requests.get(ack.requestId, true);
    expect(stored).toMatchObject({ status: 'queued', action: 'generate_report', user_id: 'alice', tenant_id: 'acme', attempts: 0 });
  });

  it('runs a queued request to one result with ordered progress carrying the client id', async () => {
    const ack = await submit('conn-a', 'generate_report', { rows: 10, stepDelayMs: 0 });
    await h.deliver(ack.requestId);
    const messages = h.notifier.to('conn-a').filter((m): m is ServerMessage & { requestId: string } => 'requestId' in m && m.requestId === ack.requestId);
    const progress = messages.filter((m) => m.type === 'progress').map((m) => (m as { progress: number }).progress);
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(messages.every((m) => m.id === ack.id)).toBe(true);
    expect(finalsOf(ack.requestId)).toEqual([expect.objectContaining({ type: 'result', success: true, data: expect.objectContaining({ rows: 10 }) })]);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'completed', progress: 1, attempts: 1 });
  });

  it('never runs a handler twice when the stream record is redelivered', async () => {
    maxConcurrentRuns = 0;
    const ack = await submit('conn-a', 'slow', { ms: 300 });
    // The same record delivered three times, concurrently and again later.
    await Promise.all([h.deliver(ack.requestId), h.deliver(ack.requestId), h.deliver(ack.requestId)]);
    await h.deliver(ack.requestId);
    expect(maxConcurrentRuns).toBe(1);
    expect(h.dispatcher.events.filter((e) => e.requestId === ack.requestId)).toHaveLength(1);
    expect(finalsOf(ack.requestId)).toHaveLength(1);
  });

  it('retries retryable failures with backoff, storing attempts and the last error, then succeeds', async () => {
    attemptsSeen = 0;
    const ack = await submit('conn-a', 'flaky', { failTimes: 2 });
    for (let i = 0; i < 3; i++) await h.deliver(ack.requestId); // each retry is re-queued and re-delivered
    const stored = await h.deps.requests.get(ack.requestId, true);
    expect(stored).toMatchObject({ status: 'completed', attempts: 3, last_error: expect.objectContaining({ message: 'attempt 2 failed' }) });
    expect(attemptsSeen).toBe(3);
    expect(finalsOf(ack.requestId)).toEqual([expect.objectContaining({ type: 'result', data: { attempt: 3 } })]);
  });

  it('fails with the last error once retries are used up', async () => {
    const ack = await submit('conn-a', 'flaky', { failTimes: 10 });
    for (let i = 0; i < 5; i++) await h.deliver(ack.requestId);
    const stored = await h.deps.requests.get(ack.requestId, true);
    expect(stored).toMatchObject({ status: 'failed', attempts: 3, error: expect.objectContaining({ message: 'attempt 3 failed' }) });
    expect(finalsOf(ack.requestId)).toEqual([expect.objectContaining({ type: 'error' })]);
  });

  it('never retries a fatal error', async () => {
    attemptsSeen = 0;
    const ack = await submit('conn-a', 'flaky', { failTimes: 0, fatal: true });
    await h.deliver(ack.requestId);
    await h.deliver(ack.requestId);
    expect(attemptsSeen).toBe(1);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('cancels a queued request at once with one CANCELLED final message', async () => {
    const ack = await submit('conn-a', 'slow', { ms: 10 });
    const [reply] = await h.send('conn-a', { id: 'x1', action: 'cancel', payload: { requestId: ack.requestId } });
    expect(reply).toEqual({ id: 'x1', type: 'cancelled', requestId: ack.requestId });
    await h.deliver(ack.requestId); // a late stream record finds nothing to run
    expect(finalsOf(ack.requestId)).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: 'CANCELLED' }) })]);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'cancelled' });
  });

  it('cancels a running request: the handler sees its abort signal and the request ends cancelled', async () => {
    const ack = await submit('conn-a', 'slow', { ms: 20_000 });
    const running = h.deliver(ack.requestId);
    await waitFor(async () => (await h.deps.requests.get(ack.requestId, true))?.status === 'processing', 8000);
    // The running job's progress goes to the same connection: correlate the cancel's reply by its id, as clients do.
    const replies = await h.send('conn-a', { id: 'x2', action: 'cancel', payload: { requestId: ack.requestId } });
    expect(replies.find((message) => 'id' in message && message.id === 'x2')).toMatchObject({ type: 'cancelled' });
    await running;
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'cancelled' });
    expect(finalsOf(ack.requestId)).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: 'CANCELLED' }) })]);
  });

  it('recovers a run that died: the sweeper re-queues it from its stored state and it completes once', async () => {
    h.dispatcher.start = false; // the worker "crashes" before running
    const ack = await submit('conn-a', 'slow', { ms: 1 });
    await h.deliver(ack.requestId);
    h.dispatcher.start = true;
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'processing' });
    // Let the claim's lease expire (move it back instead of waiting a lease).
    await expireLease(ack.requestId);
    const swept = await sweepExpiredLeases(h.deps);
    expect(swept.requeued).toBeGreaterThanOrEqual(1);
    await h.deliver(ack.requestId);
    await h.dispatcher.idle();
    // The retry waits for its backoff (not_before) before running.
    await waitFor(async () => (await h.deps.requests.get(ack.requestId, true))?.status === 'completed', 10_000);
    expect(finalsOf(ack.requestId)).toHaveLength(1);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ attempts: 2, last_error: expect.objectContaining({ code: 'TIMEOUT' }) });
  });

  it('re-offers a queued request nobody claimed once its queue lease expires', async () => {
    const ack = await submit('conn-a', 'slow', { ms: 1 });
    await expireLease(ack.requestId);
    const swept = await sweepExpiredLeases(h.deps);
    expect(swept.reoffered).toBeGreaterThanOrEqual(1);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'queued' });
  });

  it('continues a long job across runs from its checkpoint without using up retries', async () => {
    const ack = await submit('conn-a', 'resumable', { chunks: 4 });
    for (let i = 0; i < 4; i++) await h.deliver(ack.requestId);
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'completed', continuations: 3, result: { chunks: 4 } });
    expect(finalsOf(ack.requestId)).toHaveLength(1);
  });

  it('lets a subscriber on another connection follow a request and get its final message', async () => {
    const ack = await submit('conn-a', 'generate_report', { rows: 5, stepDelayMs: 0 });
    const [subscribed] = await h.send('conn-a2', { id: 'sub-1', action: 'subscribe', payload: { requestId: ack.requestId } });
    expect(subscribed).toEqual({ id: 'sub-1', type: 'subscribed', requestId: ack.requestId });
    await h.deliver(ack.requestId);
    const toSubscriber = h.notifier.to('conn-a2').filter((m) => 'requestId' in m && m.requestId === ack.requestId && m.type !== 'subscribed');
    expect(toSubscriber.every((m) => m.id === 'sub-1')).toBe(true);
    expect(toSubscriber.filter((m) => m.type === 'result')).toHaveLength(1);
  });

  it('sends the final message at once to a subscriber of a request that already ended', async () => {
    const ack = await submit('conn-a', 'generate_report', { rows: 5, stepDelayMs: 0 });
    await h.deliver(ack.requestId);
    const replies = await h.send('conn-a2', { id: 'late', action: 'subscribe', payload: { requestId: ack.requestId } });
    expect(replies.map((m) => m.type)).toEqual(['subscribed', 'result']);
  });

  it('gives a subscriber\'s final message to exactly one sender when the run and a subscribe race', async () => {
    const ack = await submit('conn-a', 'generate_report', { rows: 5, stepDelayMs: 0 });
    await h.send('conn-a2', { id: 'race', action: 'subscribe', payload: { requestId: ack.requestId } });
    const claims = await Promise.all([1, 2, 3].map(() => h.deps.subscriptions.claimFinalDelivery(ack.requestId, 'conn-a2')));
    expect(claims.filter(Boolean)).toHaveLength(1);
    // The run finds the delivery taken and does not send a second final message to that subscriber.
    await h.deliver(ack.requestId);
    expect(h.notifier.to('conn-a2').filter((m) => 'requestId' in m && m.requestId === ack.requestId && m.type === 'result')).toHaveLength(0);
    expect(h.notifier.to('conn-a').filter((m) => 'requestId' in m && m.requestId === ack.requestId && m.type === 'result')).toHaveLength(1);
  });

  it('answers status with the stored state', async () => {
    const ack = await submit('conn-a', 'generate_report', { rows: 7, stepDelayMs: 0 });
    await h.deliver(ack.requestId);
    const [status] = await h.send('conn-a', { id: 'st', action: 'status', payload: { requestId: ack.requestId } });
    expect(status).toMatchObject({ type: 'status', request: { requestId: ack.requestId, status: 'completed', progress: 1, result: expect.objectContaining({ rows: 7 }) } });
  });

  it('never shows, cancels or subscribes another user\'s or tenant\'s request', async () => {
    const ack = await submit('conn-a', 'slow', { ms: 1 });
    for (const connectionId of ['conn-b', 'conn-c']) {
      for (const action of ['status', 'subscribe', 'cancel', 'unsubscribe']) {
        const [reply] = await h.send(connectionId, { id: 'snoop', action, payload: { requestId: ack.requestId } });
        expect(reply).toMatchObject({ type: 'error', error: { code: 'NOT_FOUND' } });
      }
    }
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'queued' });
  });

  it('answers every bad frame with an error and keeps going', async () => {
    const cases: Array<[string | object, string]> = [
      ['not json', 'INVALID_REQUEST'],
      [{ id: 'u', action: 'nope' }, 'UNKNOWN_ACTION'],
      [{ id: 'v', action: 'generate_report', payload: { rows: -5 } }, 'VALIDATION_ERROR'],
      [{ id: 'w', action: 'status', payload: {} }, 'VALIDATION_ERROR'],
      [{ id: 'x', action: 'status', payload: { requestId: 'missing' } }, 'NOT_FOUND'],
    ];
    for (const [frame, code] of cases) {
      const [reply] = await h.send('conn-a', frame);
      expect(reply).toMatchObject({ type: 'error', error: { code } });
    }
    const [pong] = await h.send('conn-a', { id: 'p', action: 'ping' });
    expect(pong).toEqual({ id: 'p', type: 'pong' });
  });

  it('broadcasts to exactly the caller\'s user or tenant connections', async () => {
    const receivers = (topicData: string) =>
      h.notifier.sent
        .filter((s) => s.message.type === 'broadcast' && JSON.stringify(s.message.data) === topicData)
        .map((s) => s.connectionId)
        .sort();
    const userReply = (await h.send('conn-a', { id: 'b1', action: 'announce', payload: { scope: 'user' } })).find((m) => m.type === 'result');
    expect(userReply).toMatchObject({ type: 'result', data: { delivered: 2 } });
    expect(receivers('{"hello":"user"}')).toEqual(['conn-a', 'conn-a2']);
    const tenantReply = (await h.send('conn-b', { id: 'b2', action: 'announce', payload: { scope: 'tenant' } })).find((m) => m.type === 'result');
    expect(tenantReply).toMatchObject({ type: 'result', data: { delivered: 3 } });
    expect(receivers('{"hello":"tenant"}')).toEqual(['conn-a', 'conn-a2', 'conn-b']);
  });

  it('refuses frames from a connection it does not know with UNAUTHORIZED', async () => {
    const [reply] = await h.send('conn-unknown', { id: 'z', action: 'ping' });
    expect(reply).toMatchObject({ type: 'error', error: { code: 'UNAUTHORIZED' } });
  });
});


function expireLease(requestId: string): Promise<void> {
  return h.expireLease(requestId);
}

/** The worker's deps with its subscriber queries and run-control reads counted. */
function countingWorkerDeps(): { deps: StreamerDeps; calls: { subscribersOf: number; readRunControl: number } } {
  const calls = { subscribersOf: 0, readRunControl: 0 };
  const count = <T extends object>(store: T): T =>
    new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (property === 'subscribersOf' || property === 'readRunControl') calls[property] += 1;
          return value.apply(target, args);
        };
      },
    });
  return { deps: { ...h.deps, subscriptions: count(h.deps.subscriptions), requests: count(h.deps.requests) }, calls };
}

describe('what a running request reads (lease 1.5 s: renewed every 500 ms; cancel polls after 50, 100, 200 and 400 ms)', () => {
  afterEach(() => {
    h.dispatcher.deps = h.deps;
  });

  it('reads its subscribers at the start and for the final message only, when nobody subscribes or leaves', async () => {
    const counted = countingWorkerDeps();
    h.dispatcher.deps = counted.deps;
    const ack = await submit('conn-a', 'ticker', { ticks: 25, everyMs: 100 });
    await h.deliver(ack.requestId);
    expect(finalsOf(ack.requestId)).toEqual([expect.objectContaining({ type: 'result' })]);
    expect(counted.calls.subscribersOf).toBe(2);
  });

  it('polls for cancellation only while the run is young, then leaves it to the lease renewals', async () => {
    const counted = countingWorkerDeps();
    h.dispatcher.deps = counted.deps;
    const ack = await submit('conn-a', 'ticker', { ticks: 25, everyMs: 100 });
    await h.deliver(ack.requestId);
    expect(counted.calls.readRunControl).toBe(4);
  });

  it('is cancelled through its lease renewal once the polls have stopped', async () => {
    const ack = await submit('conn-a', 'slow', { ms: 20_000 });
    const running = h.deliver(ack.requestId);
    await waitFor(async () => (await h.deps.requests.get(ack.requestId, true))?.status === 'processing', 8000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await h.send('conn-a', { id: 'late-cancel', action: 'cancel', payload: { requestId: ack.requestId } });
    await running;
    expect(await h.deps.requests.get(ack.requestId, true)).toMatchObject({ status: 'cancelled' });
  });

  it('re-reads its subscribers when one joins while it runs, so the new subscriber gets progress before the end', async () => {
    const counted = countingWorkerDeps();
    h.dispatcher.deps = counted.deps;
    const ack = await submit('conn-a', 'ticker', { ticks: 25, everyMs: 100 });
    const running = h.deliver(ack.requestId);
    await waitFor(async () => (await h.deps.requests.get(ack.requestId, true))?.status === 'processing', 8000);
    await h.send('conn-a2', { id: 'joiner', action: 'subscribe', payload: { requestId: ack.requestId } });
    await running;
    const toJoiner = h.notifier.to('conn-a2').filter((m) => m.id === 'joiner');
    expect(toJoiner.filter((m) => m.type === 'progress').length).toBeGreaterThan(0);
    expect(toJoiner.filter((m) => m.type === 'result')).toHaveLength(1);
    // At the start, once after the subscribe (its version bump), and for the final message.
    expect(counted.calls.subscribersOf).toBe(3);
  });
});
