import * as z from 'zod';
import { defineHandler, pause } from '../../functions/core';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import type { StreamerDeps } from '../../functions/core/lifecycle/deps';
import { sweepExpiredLeases } from '../../functions/core/lifecycle/sweep-expired-leases';
import type { Notifier } from '../../functions/core/notify/notifier';
import type { RequestStore } from '../../functions/core/stores/request-store';
import { waitFor } from '../support/wait-for';
import { routeFrame, startHarness, stopDynamoDb, type Harness } from './core-harness';

jest.setTimeout(30_000);

let runs = 0;
const work = defineHandler({
  name: 'work',
  payload: z.object({ steps: z.number().int() }),
  shouldQueue: () => true,
  async process({ payload, progress, signal }) {
    runs++;
    for (let i = 1; i <= payload.steps; i++) {
      await pause(20, signal);
      progress.report(i / payload.steps);
    }
    return { steps: payload.steps };
  },
});

function throttling(): Error {
  const error = new Error('Rate of requests exceeds the allowed throughput.');
  error.name = 'ProvisionedThroughputExceededException';
  return error;
}

/** Wraps a request store so chosen operations fail the next `times` calls, as DynamoDB throttling or a 5xx would. */
function faulty(store: RequestStore, failures: Partial<Record<keyof RequestStore, number>>): RequestStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const left = failures[property as keyof RequestStore];
        if (left !== undefined && left > 0) {
          failures[property as keyof RequestStore] = left - 1;
          throw throttling();
        }
        return value.apply(target, args);
      };
    },
  });
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness([work as unknown as AnyHandler], { leaseMs: 1200, cancelPollMs: 100 });
  await h.connect('f-1');
});
afterAll(async () => {
  await h.stop();
  await stopDynamoDb();
});

function withDeps(deps: StreamerDeps): void {
  h.dispatcher.deps = deps;
}

async function ack(deps: StreamerDeps, payload: object): Promise<string> {
  const before = h.notifier.sent.length;
  await routeFrame(h.notifier, deps, { connectionId: 'f-1', body: JSON.stringify({ id: `f-${Math.random()}`, action: 'work', payload }), remainingTimeMs: 30_000 });
  const reply = h.notifier.sent.slice(before).find((s) => s.connectionId === 'f-1')!.message;
  if (reply.type !== 'ack') throw new Error(JSON.stringify(reply));
  return reply.requestId;
}

describe('faults injected into DynamoDB and the management API', () => {
  afterEach(() => withDeps(h.deps));

  it('tells the client to retry when storing the request is throttled, and stores nothing half-done', async () => {
    const deps = { ...h.deps, requests: faulty(h.deps.requests, { create: 1 }) };
    const before = h.notifier.sent.length;
    await routeFrame(h.notifier, deps, { connectionId: 'f-1', body: '{"id":"t1","action":"work","payload":{"steps":1}}', remainingTimeMs: 30_000 });
    expect(h.notifier.sent.slice(before).map((s) => s.message)).toEqual([
      { id: 't1', type: 'error', error: expect.objectContaining({ code: 'INTERNAL_ERROR', retryable: true }) },
    ]);
  });

  it('completes a run whose lease renewals and cancel polls are throttled', async () => {
    const deps = { ...h.deps, requests: faulty(h.deps.requests, { heartbeat: 3, readRunControl: 5 }) };
    withDeps(deps);
    const requestId = await ack(deps, { steps: 10 });
    await h.deliver(requestId);
    expect(await h.deps.requests.get(requestId, true)).toMatchObject({ status: 'completed' });
    expect(h.notifier.finals(requestId)).toHaveLength(1);
  });

  it('recovers a run whose terminal write failed: the sweeper re-queues it and it ends once', async () => {
    runs = 0;
    const deps = { ...h.deps, requests: faulty(h.deps.requests, { finish: 1 }) };
    withDeps(deps);
    const requestId = await ack(deps, { steps: 2 });
    await h.deliver(requestId);
    expect(await h.deps.requests.get(requestId, true)).toMatchObject({ status: 'processing' });
    expect(h.notifier.finals(requestId)).toHaveLength(0);
    await h.expireLease(requestId);
    await sweepExpiredLeases(deps);
    await h.deliver(requestId);
    await waitFor(async () => (await h.deps.requests.get(requestId, true))?.status === 'completed', 8000);
    expect(h.notifier.finals(requestId)).toHaveLength(1);
    // At-least-once execution: the handler ran again after the lost write.
    expect(runs).toBe(2);
  });

  it('finishes a request and stores its result when every PostToConnection fails with 5xx', async () => {
    const failing: Notifier = { send: async () => 'failed' };
    const deps = { ...h.deps, notifier: failing };
    const requestId = await ack(h.deps, { steps: 3 });
    withDeps(deps);
    await h.deliver(requestId);
    expect(await h.deps.requests.get(requestId, true)).toMatchObject({ status: 'completed', result: { steps: 3 } });
  });

  it('reports a stream record as failed when the claim itself is throttled, so it is retried', async () => {
    const { claimAndDispatch } = await import('../../functions/core/lifecycle/claim-and-dispatch');
    const deps = { ...h.deps, requests: faulty(h.deps.requests, { claim: 1 }) };
    const requestId = await ack(h.deps, { steps: 1 });
    const first = await claimAndDispatch(deps, [{ requestId, sequenceNumber: '42' }]);
    expect(first.failedSequenceNumbers).toEqual(['42']);
    const second = await claimAndDispatch(deps, [{ requestId, sequenceNumber: '42' }]);
    expect(second.claimed).toBe(1);
    await h.dispatcher.idle();
    await waitFor(async () => (await h.deps.requests.get(requestId, true))?.status === 'completed', 8000);
  });
});
