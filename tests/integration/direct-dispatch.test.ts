/**
 * Direct dispatch through the local runtime, with the real bundles, the
 * router's role checked on its `lambda:Invoke`, and the requests stream
 * running as the event source mapping does: the router starts a job it
 * stored `queued` itself, the stream starts it when the router could not,
 * and when both reach it the handler still runs once.
 *
 * "Without the stream" uses the runtime's own poll setting: at
 * `STREAMER_LOCAL_STREAM_POLL_MS=60000` the poller reads the (empty) stream
 * at start-up and then sleeps for a minute, longer than each of these tests.
 */
import type { MetricSeriesSummary } from '../../local/emf-metrics';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { withoutStatement } from '../support/manifest-edits';
import { openSocket, type TestSocket } from '../support/socket-client';
import { waitFor } from '../support/wait-for';

jest.setTimeout(90_000);

type Message = { id?: string; type?: string; requestId?: string; request?: { status: string }; error?: { code: string } };

const STREAM_ASLEEP = { STREAMER_LOCAL_LOG_LEVEL: 'warn', STREAMER_LOCAL_STREAM_POLL_MS: '60000' };

async function series(runtime: LocalRuntimeHandle, name: string): Promise<MetricSeriesSummary[]> {
  const response = await fetch(`${runtime.httpUrl}/_local/metrics?name=${name}`);
  return ((await response.json()) as { series: MetricSeriesSummary[] }).series;
}

/** Data points of a metric across its series that carry these dimensions (the `{ service }` set alone is left out, or each point would count twice). */
async function points(runtime: LocalRuntimeHandle, name: string, dimensions: Record<string, string>): Promise<number> {
  const matching = (await series(runtime, name)).filter((s) => Object.entries(dimensions).every(([key, value]) => s.dimensions[key] === value));
  return matching.reduce((total, s) => total + s.count, 0);
}

async function socketFor(runtime: LocalRuntimeHandle): Promise<TestSocket> {
  return openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}`);
}

/** Sends `count` five-step jobs and returns their request ids, in order. */
async function sendJobs(socket: TestSocket, count: number, prefix: string): Promise<string[]> {
  for (let i = 0; i < count; i++) socket.send({ id: `${prefix}-${i}`, action: 'process_data', payload: { items: 5, stepDelayMs: 20 } });
  const acks = await Promise.all(Array.from({ length: count }, (_, i) => socket.next<Message>((m) => m.id === `${prefix}-${i}` && m.type === 'ack')));
  return acks.map((ack) => ack.requestId!);
}

const finalsOf = (socket: TestSocket, requestId: string): Message[] =>
  (socket.received as Message[]).filter((m) => m.requestId === requestId && (m.type === 'result' || m.type === 'error'));

describe('direct dispatch on the local runtime', () => {
  it('starts a queued job without the stream and ends it with exactly one final message', async () => {
    const runtime = await startLocalRuntime({ env: STREAM_ASLEEP });
    try {
      const socket = await socketFor(runtime);
      const [requestId] = await sendJobs(socket, 1, 'direct');
      await socket.next<Message>((m) => m.requestId === requestId && m.type === 'result', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(finalsOf(socket, requestId!)).toEqual([expect.objectContaining({ type: 'result', success: true })]);
      expect((socket.received as Message[]).some((m) => m.requestId === requestId && m.type === 'progress')).toBe(true);
      // The claim came from the router's invoke.
      expect(await points(runtime, 'QueueWaitMs', { via: 'direct' })).toBe(1);
      expect(await points(runtime, 'QueueWaitMs', { via: 'stream' })).toBe(0);
      expect(runtime.output()).not.toContain('ACCESS DENIED');
      await socket.close();
    } finally {
      await runtime.stop();
    }
  });

  it('leaves a queued job to the stream when the stack turns the switch off: the router invokes nothing', async () => {
    const runtime = await startLocalRuntime({ env: STREAM_ASLEEP, stack: { directDispatch: 'false' } });
    try {
      const socket = await socketFor(runtime);
      const [requestId] = await sendJobs(socket, 1, 'off');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      socket.send({ id: 'status', action: 'status', payload: { requestId } });
      expect(await socket.next<Message>((m) => m.id === 'status')).toMatchObject({ type: 'status', request: { status: 'queued' } });
      expect((await series(runtime, 'QueueWaitMs')).length).toBe(0);
      const processor = ((await (await fetch(`${runtime.httpUrl}/_local/functions`)).json()) as Record<string, { invocations: number }>)[
        runtime.functionName('processor')
      ];
      expect(processor?.invocations ?? 0).toBe(0);
      await socket.close();
    } finally {
      await runtime.stop();
    }
  });

  it('runs a job whose direct dispatch is denied (the router role without its grant) from the stream, and the request never fails', async () => {
    const runtime = await startLocalRuntime({
      env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' },
      editManifest: (manifest) => withoutStatement(manifest, 'router', 'InvokeWorker'),
    });
    try {
      const socket = await socketFor(runtime);
      const [requestId] = await sendJobs(socket, 1, 'denied');
      await socket.next<Message>((m) => m.requestId === requestId && m.type === 'result', 20_000);
      expect(finalsOf(socket, requestId!)).toEqual([expect.objectContaining({ type: 'result', success: true })]);
      expect(runtime.output()).toMatch(new RegExp(`ACCESS DENIED: ${runtime.functionName('router')} \\(role streamer-router-[0-9a-f]{7}\\) may not lambda:InvokeFunction`));
      await waitFor(async () => (await points(runtime, 'DirectDispatchFailures', { code: 'AccessDeniedException' })) === 1, 5000);
      expect(await points(runtime, 'QueueWaitMs', { via: 'stream' })).toBe(1);
      expect(await points(runtime, 'QueueWaitMs', { via: 'direct' })).toBe(0);
      await socket.close();
    } finally {
      await runtime.stop();
    }
  });

  it('runs each handler once when the direct invoke and a fast stream race, and the client gets one final message each', async () => {
    const JOBS = 20;
    // The stream at its quickest (a 10 ms poll): both paths reach most requests within milliseconds of each other.
    const runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn', STREAMER_LOCAL_STREAM_POLL_MS: '10' } });
    try {
      const socket = await socketFor(runtime);
      const requestIds = await sendJobs(socket, JOBS, 'race');
      await waitFor(() => requestIds.every((id) => finalsOf(socket, id).length > 0), 30_000);
      // Let a duplicate that would come, come.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(requestIds.map((id) => finalsOf(socket, id).length)).toEqual(requestIds.map(() => 1));
      // Handler runs: one per job. Claims: one won and one lost per job, from whichever path.
      await waitFor(async () => (await points(runtime, 'HandlerDurationMs', { action: 'process_data' })) === JOBS, 5000);
      const won = (await points(runtime, 'QueueWaitMs', { via: 'direct' })) + (await points(runtime, 'QueueWaitMs', { via: 'stream' }));
      const lost = (await points(runtime, 'ClaimsLost', { via: 'direct' })) + (await points(runtime, 'ClaimsLost', { via: 'stream' }));
      expect({ won, lost }).toEqual({ won: JOBS, lost: JOBS });
      await socket.close();
    } finally {
      await runtime.stop();
    }
  });
});
