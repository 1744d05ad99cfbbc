/**
 * The SDK against a scripted server over real sockets: correlation,
 * progress, errors, cancellation, timeouts, reconnect + resubscribe,
 * offline behaviour, heartbeat and authentication.
 */
import { StreamerClient, StreamerError, type DisconnectInfo, type ProgressMessage, type StreamerClientOptions } from '../../client/node';
import { FakeStreamerServer, sleep, withTimeout, type ClientFrame } from './fake-server';
import { caught } from './caught';

let server: FakeStreamerServer;
const clients: StreamerClient[] = [];

/** Fast reconnects, no heartbeat unless a test asks: behaviour, not timing, is under test. */
function connect(options: StreamerClientOptions = {}): StreamerClient {
  const client = new StreamerClient(server.url, {
    token: 'test-token',
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    heartbeat: false,
    ...options,
  });
  clients.push(client);
  return client;
}

/** Answers like the real router: `echo` synchronously, anything else with an ack and a requestId. */
function ackEverything(frame: ClientFrame, socket: import('ws').WebSocket): string {
  const requestId = `r-${frame.id}`;
  server.send(socket, { id: frame.id, type: 'ack', requestId, status: 'queued' });
  return requestId;
}


beforeEach(async () => {
  server = await FakeStreamerServer.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.stop();
});

describe('requests', () => {
  test('a sync handler resolves with the result data of its single result message', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'result', success: true, data: frame.payload }));
    const client = connect();
    await expect(client.request('echo', { hello: 'world' })).resolves.toEqual({ hello: 'world' });
    expect(server.handshakes[0]!.token).toBe('test-token');
  });

  test('an async handler reports every progress update in order, then resolves with the result', async () => {
    server.onFrame((frame, socket) => {
      const requestId = ackEverything(frame, socket);
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.2, message: 'Querying' });
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.6, message: 'Rendering', metadata: { rows: 3 } });
      server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: { summary: 'ok' } });
    });
    const client = connect();
    const progress: ProgressMessage[] = [];
    const accepted: string[] = [];
    const data = await client.request('generate_report', { rows: 3 }, { onProgress: (p) => progress.push(p), onAccepted: (r) => accepted.push(r) });
    expect(data).toEqual({ summary: 'ok' });
    expect(progress.map((p) => [p.progress, p.message])).toEqual([
      [0.2, 'Querying'],
      [0.6, 'Rendering'],
    ]);
    expect(progress[1]!.metadata).toEqual({ rows: 3 });
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatch(/^r-c-/);
  });

  test('progress that overtakes its ack is still delivered to the right request', async () => {
    server.onFrame((frame, socket) => {
      const requestId = `r-${frame.id}`;
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.5, message: 'early' });
      server.send(socket, { id: frame.id, type: 'ack', requestId, status: 'queued' });
      server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: 42 });
    });
    const client = connect();
    const seen: number[] = [];
    await expect(client.request('generate_report', { rows: 1 }, { onProgress: (p) => seen.push(p.progress) })).resolves.toBe(42);
    expect(seen).toEqual([0.5]);
  });

  test('a final result that overtakes its ack settles the request, and the late ack changes nothing', async () => {
    // With route responses the ack leaves when the router returns; a quick job's worker may be faster.
    server.onFrame((frame, socket) => {
      const requestId = `r-${frame.id}`;
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 1, message: 'done' });
      server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: 'early' });
      server.send(socket, { id: frame.id, type: 'ack', requestId, status: 'queued' });
    });
    const client = connect();
    const accepted: string[] = [];
    await expect(client.request('generate_report', { rows: 1 }, { onAccepted: (r) => accepted.push(r) })).resolves.toBe('early');
    // The next request still works: the stray ack was dropped, not taken for another request's reply.
    await expect(client.request('generate_report', { rows: 2 })).resolves.toBe('early');
    expect(accepted).toHaveLength(1);
  });

  test('concurrent requests are correlated by their own unique ids', async () => {
    server.onFrame((frame, socket) => {
      // Answer in reverse order of arrival to prove correlation does not rely on order.
      setTimeout(() => server.send(socket, { id: frame.id, type: 'result', success: true, data: frame.payload.n as number }), 50 - (frame.payload.n as number) * 10);
    });
    const client = connect();
    const results = await Promise.all([1, 2, 3, 4].map((n) => client.request('echo', { n })));
    expect(results).toEqual([1, 2, 3, 4]);
    const ids = server.framesOf('echo').map((f) => f.id);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^c-\d+-[a-z0-9]+$/);
  });

  test('a server error rejects with a StreamerError carrying code, retryable, details and retryAfterMs', async () => {
    server.onFrame((frame, socket) =>
      server.send(socket, {
        id: frame.id,
        type: 'error',
        error: { code: 'RATE_LIMITED', message: 'slow down', retryable: true, details: { limit: 10 }, retryAfterMs: 1500 },
      }),
    );
    const client = connect();
    const error = await caught(client.request('echo', {}));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', message: 'slow down', retryable: true, details: { limit: 10 }, retryAfterMs: 1500 });
  });

  test('an async failure after progress rejects with the final error', async () => {
    server.onFrame((frame, socket) => {
      const requestId = ackEverything(frame, socket);
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.3 });
      server.send(socket, { id: frame.id, type: 'error', requestId, error: { code: 'VALIDATION_ERROR', message: 'rows must be a positive integer', retryable: false } });
    });
    const client = connect();
    const error = await caught(client.request('generate_report', { rows: -1 }));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.retryable).toBe(false);
  });

  test('malformed and unrelated server frames are ignored', async () => {
    server.onFrame((frame, socket) => {
      for (const junk of ['not json', '[]', '42', '{"type":5}', '{"id":7,"type":"result"}', '{"id":"nobody","type":"result","success":true,"data":1}']) {
        server.send(socket, junk);
      }
      socket.send(Buffer.from([1, 2, 3]));
      server.send(socket, { id: frame.id, type: 'surprise' });
      server.send(socket, { id: frame.id, type: 'result', success: true, data: 'fine' });
    });
    const errors: StreamerError[] = [];
    const client = connect({ onError: (e) => errors.push(e) });
    await expect(client.request('echo', {})).resolves.toBe('fine');
    expect(errors).toEqual([]);
  });

  test('an error without a usable id reaches onError, and the connection stays usable', async () => {
    let first = true;
    server.onFrame((frame, socket) => {
      if (first) {
        first = false;
        server.send(socket, { id: null, type: 'error', error: { code: 'INVALID_REQUEST', message: 'Frame is not valid JSON', retryable: false } });
      }
      server.send(socket, { id: frame.id, type: 'result', success: true, data: 'ok' });
    });
    const errors: StreamerError[] = [];
    const client = connect({ onError: (e) => errors.push(e) });
    await expect(client.request('echo', {})).resolves.toBe('ok');
    expect(errors.map((e) => e.code)).toEqual(['INVALID_REQUEST']);
  });

  test('a request over 128 KiB is refused with PAYLOAD_TOO_LARGE without being sent', async () => {
    const client = connect();
    await client.ready();
    const error = await caught(client.request('echo', { blob: 'x'.repeat(130 * 1024) }));
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    await sleep(20);
    expect(server.framesOf('echo')).toHaveLength(0);
  });
});

describe('cancellation and timeouts', () => {
  test('aborting an acknowledged request rejects with CANCELLED and sends a cancel frame with its requestId', async () => {
    server.onFrame((frame, socket) => {
      if (frame.action === 'cancel') server.send(socket, { id: frame.id, type: 'cancelled', requestId: frame.payload.requestId });
      else ackEverything(frame, socket);
    });
    const client = connect();
    const controller = new AbortController();
    let requestId = '';
    const pending = client.request('generate_report', { rows: 10 }, { signal: controller.signal, onAccepted: (r) => (requestId = r) });
    await server.waitForFrame((f) => f.action === 'generate_report');
    await withTimeout(waitUntil(() => requestId !== ''), 2000, 'ack');
    controller.abort();
    expect((await caught(pending)).code).toBe('CANCELLED');
    const cancel = await server.waitForFrame((f) => f.action === 'cancel');
    expect(cancel.frame.payload).toEqual({ requestId });
  });

  test('aborting before the ack cancels as soon as the ack arrives', async () => {
    let ackLater: (() => void) | undefined;
    server.onFrame((frame, socket) => {
      if (frame.action === 'generate_report') ackLater = () => ackEverything(frame, socket);
    });
    const client = connect();
    const controller = new AbortController();
    const pending = client.request('generate_report', { rows: 10 }, { signal: controller.signal });
    const sent = await server.waitForFrame((f) => f.action === 'generate_report');
    controller.abort();
    expect((await caught(pending)).code).toBe('CANCELLED');
    expect(server.framesOf('cancel')).toHaveLength(0);
    ackLater!();
    const cancel = await server.waitForFrame((f) => f.action === 'cancel');
    expect(cancel.frame.payload).toEqual({ requestId: `r-${sent.frame.id}` });
  });

  test('an already aborted signal rejects at once and sends nothing', async () => {
    const client = connect();
    await client.ready();
    const error = await caught(client.request('echo', {}, { signal: AbortSignal.abort() }));
    expect(error.code).toBe('CANCELLED');
    await sleep(20);
    expect(server.frames).toHaveLength(0);
  });

  test('timeoutMs rejects with a retryable TIMEOUT and cancels the acknowledged request on the server', async () => {
    server.onFrame((frame, socket) => {
      if (frame.action !== 'cancel') ackEverything(frame, socket);
    });
    const client = connect();
    const error = await caught(client.request('generate_report', { rows: 1 }, { timeoutMs: 100 }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true, details: { timeoutMs: 100, source: 'client' } });
    const cancel = await server.waitForFrame((f) => f.action === 'cancel');
    expect(cancel.frame.payload.requestId).toMatch(/^r-c-/);
  });

  test('cancel(requestId) resolves when the server confirms', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'cancelled', requestId: frame.payload.requestId }));
    const client = connect();
    await expect(client.cancel('r-1')).resolves.toBeUndefined();
    expect(server.framesOf('cancel')[0]!.payload).toEqual({ requestId: 'r-1' });
  });
});

describe('status and subscribe', () => {
  test('status(requestId) returns the stored request view', async () => {
    const view = { requestId: 'r-9', action: 'generate_report', status: 'processing', progress: 0.4, createdAt: 1, updatedAt: 2 };
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'status', request: view }));
    const client = connect();
    await expect(client.status('r-9')).resolves.toEqual(view);
  });

  test('status of an unknown request rejects with NOT_FOUND', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'error', error: { code: 'NOT_FOUND', message: 'No such request', retryable: false } }));
    const client = connect();
    expect((await caught(client.status('r-missing'))).code).toBe('NOT_FOUND');
  });

  test('subscribe yields progress then the final result through the async iterator and callbacks', async () => {
    server.onFrame((frame, socket) => {
      const requestId = frame.payload.requestId as string;
      server.send(socket, { id: frame.id, type: 'subscribed', requestId });
      // Updates for a subscriber carry the subscribe frame's id; the client routes them by requestId.
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.5, message: 'half' });
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.5, message: 'half' }); // duplicate
      server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: { done: true } });
    });
    const client = connect();
    const callbacks: number[] = [];
    const subscription = client.subscribe<{ done: boolean }>('r-7', { onProgress: (p) => callbacks.push(p.progress) });
    const events: string[] = [];
    for await (const event of subscription) events.push(event.type);
    expect(events).toEqual(['progress', 'result']);
    expect(callbacks).toEqual([0.5]);
    await expect(subscription.ready).resolves.toBeUndefined();
    await expect(subscription.result).resolves.toEqual({ done: true });
  });

  test('subscribing to a request that already failed delivers its error at once', async () => {
    server.onFrame((frame, socket) => {
      const requestId = frame.payload.requestId as string;
      server.send(socket, { id: frame.id, type: 'subscribed', requestId });
      server.send(socket, { id: frame.id, type: 'error', requestId, error: { code: 'CANCELLED', message: 'Cancelled by the client', retryable: false } });
    });
    const client = connect();
    const subscription = client.subscribe('r-8');
    expect((await caught(subscription.result)).code).toBe('CANCELLED');
  });

  test('a subscribe made before the connection opened is sent once', async () => {
    server.onFrame((frame, socket) => {
      const requestId = frame.payload.requestId as string;
      server.send(socket, { id: frame.id, type: 'subscribed', requestId });
      server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: { done: true } });
    });
    const client = connect();
    expect(client.state).toBe('connecting');
    const subscription = client.subscribe('r-early');
    await expect(subscription.result).resolves.toEqual({ done: true });
    await client.status('r-early').catch(() => undefined); // a round trip: any second subscribe has arrived by now
    expect(server.framesOf('subscribe').map((f) => f.payload)).toEqual([{ requestId: 'r-early', afterSeq: 0 }]);
  });

  test('a refused subscription rejects ready and makes the iterator throw', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'error', error: { code: 'NOT_FOUND', message: 'No such request', retryable: false } }));
    const client = connect();
    const subscription = client.subscribe('r-other-tenant');
    expect((await caught(subscription.ready)).code).toBe('NOT_FOUND');
    await expect(subscription[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('idempotency keys and progress sequence numbers', () => {
  test('sends the caller\'s idempotency key, and a fresh key per call otherwise', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'result', success: true, data: null }));
    const client = connect();
    await client.request('echo', {}, { idempotencyKey: 'order-42' });
    await client.request('echo', {});
    await client.request('echo', {});
    const keys = server.framesOf('echo').map((f) => f.idempotencyKey);
    expect(keys[0]).toBe('order-42');
    expect(new Set(keys).size).toBe(3);
  });

  /** Messages of one request, scripted by what they add to `{ id, requestId }`. */
  type Scripted = Record<string, unknown>;
  const progressMsg = (seq: number, message: string): Scripted => ({ type: 'progress', progress: seq / 10, message, seq });

  /** The request gets an ack and `onRequest`; a (re)subscribe gets `onSubscribe` (the replay, `subscribed`, …). */
  function scriptReport(onRequest: Scripted[], onSubscribe: Scripted[]): void {
    server.onFrame((frame, socket) => {
      if (frame.action === 'generate_report') {
        const requestId = ackEverything(frame, socket);
        for (const message of onRequest) server.send(socket, { id: frame.id, requestId, ...message });
      } else if (frame.action === 'subscribe') {
        for (const message of onSubscribe) server.send(socket, { id: frame.id, requestId: frame.payload.requestId, ...message });
      }
    });
  }
  const subscribed: Scripted = { type: 'subscribed' };
  const result = (data: unknown, lastSeq: number): Scripted => ({ type: 'result', success: true, data, lastSeq });

  async function progressMessagesOf(request: (client: StreamerClient, seen: string[]) => Promise<unknown>): Promise<{ outcome: unknown; seen: string[] }> {
    const client = connect();
    const seen: string[] = [];
    const outcome = await request(client, seen);
    return { outcome, seen };
  }
  const runReport = (client: StreamerClient, seen: string[]) => client.request('generate_report', { rows: 1 }, { onProgress: (p) => seen.push(p.message ?? '') });

  test('holds progress that comes after a gap, asks for a replay after the last seq it saw, and delivers in order', async () => {
    scriptReport([progressMsg(1, 'one'), progressMsg(3, 'three')], [progressMsg(2, 'two'), progressMsg(3, 'three'), subscribed, result('done', 3)]);
    await expect(progressMessagesOf(runReport)).resolves.toEqual({ outcome: 'done', seen: ['one', 'two', 'three'] });
    expect(server.framesOf('subscribe').map((f) => f.payload)).toEqual([{ requestId: expect.stringMatching(/^r-c-/), afterSeq: 1 }]);
  });

  test('holds a final message whose lastSeq is ahead until the missing progress is replayed', async () => {
    scriptReport([result('early result', 2)], [progressMsg(1, 'a'), progressMsg(2, 'b'), subscribed]);
    await expect(progressMessagesOf(runReport)).resolves.toEqual({ outcome: 'early result', seen: ['a', 'b'] });
  });

  test('delivers what it holds once a replay ends without the missing messages (dropped by the log bound)', async () => {
    scriptReport([progressMsg(7, 'late')], [subscribed, result('ok', 7)]);
    await expect(progressMessagesOf(runReport)).resolves.toEqual({ outcome: 'ok', seen: ['late'] });
  });

  test('resumes after a reconnect from the last seq seen and drops replayed duplicates', async () => {
    scriptReport([progressMsg(1, 'one'), progressMsg(2, 'two')], [progressMsg(2, 'two'), progressMsg(3, 'three'), subscribed, result('resumed', 3)]);
    const { outcome, seen } = await progressMessagesOf(async (client, seen) => {
      const pending = runReport(client, seen);
      await withTimeout(waitUntil(() => seen.length === 2), 2000, 'progress');
      server.dropAll();
      return pending;
    });
    expect(outcome).toBe('resumed');
    expect(seen).toEqual(['one', 'two', 'three']);
    expect(server.framesOf('subscribe').map((f) => f.payload.afterSeq)).toEqual([2]);
  });

  test('a subscription asks for the whole logged history by default and delivers it before live updates', async () => {
    server.onFrame((frame, socket) => {
      const requestId = frame.payload.requestId as string;
      server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.1, message: 'old', seq: 1 });
      server.send(socket, { id: frame.id, type: 'subscribed', requestId });
      server.send(socket, { id: 'live', type: 'progress', requestId, progress: 0.5, message: 'new', seq: 2 });
      server.send(socket, { id: 'live', type: 'result', requestId, success: true, data: 'seen', lastSeq: 2 });
    });
    const client = connect();
    const seen: string[] = [];
    const subscription = client.subscribe('r-history', { onProgress: (p) => seen.push(p.message ?? '') });
    await expect(subscription.result).resolves.toBe('seen');
    expect(seen).toEqual(['old', 'new']);
    expect(server.framesOf('subscribe')[0]!.payload).toEqual({ requestId: 'r-history', afterSeq: 0 });
  });
});

describe('connection management', () => {
  test('a dropped connection is re-established and the in-flight request resumes through a resubscribe', async () => {
    let requestId = '';
    server.onFrame((frame, socket) => {
      if (frame.action === 'generate_report') {
        requestId = ackEverything(frame, socket);
        server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.25, message: 'before the drop' });
      } else if (frame.action === 'subscribe') {
        server.send(socket, { id: frame.id, type: 'subscribed', requestId: frame.payload.requestId });
        server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.75, message: 'after the drop' });
        server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: { summary: 'survived' } });
      }
    });
    const disconnects: DisconnectInfo[] = [];
    let connects = 0;
    const client = connect({ onDisconnect: (d) => disconnects.push(d), onConnect: () => connects++ });
    const progress: string[] = [];
    const pending = client.request('generate_report', { rows: 5 }, { onProgress: (p) => progress.push(p.message ?? '') });
    await withTimeout(waitUntil(() => progress.length === 1), 2000, 'first progress');
    server.dropAll();
    await expect(pending).resolves.toEqual({ summary: 'survived' });
    expect(progress).toEqual(['before the drop', 'after the drop']);
    // The server's progress is unnumbered here (a v1 server): the resume asks for everything after 0.
    expect(server.framesOf('subscribe').map((f) => f.payload)).toEqual([{ requestId, afterSeq: 0 }]);
    expect(server.sockets).toHaveLength(2);
    expect(connects).toBe(2);
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]!.willReconnect).toBe(true);
  });

  test('a result that came while disconnected is delivered right after the resubscribe', async () => {
    let requestId = '';
    server.onFrame((frame, socket) => {
      if (frame.action === 'generate_report') requestId = ackEverything(frame, socket);
      if (frame.action === 'subscribe') {
        server.send(socket, { id: frame.id, type: 'subscribed', requestId });
        server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: 'finished while away' });
      }
    });
    const client = connect();
    let accepted = false;
    const pending = client.request('generate_report', { rows: 1 }, { onAccepted: () => (accepted = true) });
    await withTimeout(waitUntil(() => accepted), 2000, 'ack');
    server.dropAll();
    await expect(pending).resolves.toBe('finished while away');
  });

  test('a subscription is renewed on the new connection and ends with the result', async () => {
    let subscribes = 0;
    server.onFrame((frame, socket) => {
      const requestId = frame.payload.requestId as string;
      server.send(socket, { id: frame.id, type: 'subscribed', requestId });
      if (++subscribes === 1) server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.4, message: 'first connection' });
      else server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: 'after reconnect' });
    });
    const client = connect();
    const progress: string[] = [];
    const subscription = client.subscribe('r-watched', { onProgress: (p) => progress.push(p.message ?? '') });
    await withTimeout(waitUntil(() => progress.length === 1), 2000, 'progress');
    server.dropAll();
    await expect(subscription.result).resolves.toBe('after reconnect');
    expect(server.framesOf('subscribe').map((f) => f.payload)).toEqual([{ requestId: 'r-watched', afterSeq: 0 }, { requestId: 'r-watched', afterSeq: 0 }]);
  });

  test('reconnect attempts back off and the token provider is asked again for each one', async () => {
    const client0 = connect();
    await client0.ready();
    client0.close();
    server.refuseWith = 503;
    let tokens = 0;
    const states: string[] = [];
    const client = connect({
      token: () => `t${++tokens}`,
      reconnect: { initialDelayMs: 5, maxDelayMs: 40, jitter: 0 },
      onStateChange: (s) => states.push(s),
    });
    await withTimeout(waitUntil(() => server.handshakes.length >= 5), 3000, 'retries');
    server.refuseWith = null;
    await client.ready();
    expect(states.slice(0, 2)).toEqual(['connecting', 'reconnecting']);
    expect(states[states.length - 1]).toBe('open');
    const tokensSeen = server.handshakes.slice(1).map((h) => h.token);
    expect(tokensSeen.slice(0, 3)).toEqual(['t1', 't2', 't3']);
    expect(tokens).toBe(tokensSeen.length);
  });

  test('gives up with DISCONNECTED after maxAttempts reconnects', async () => {
    server.refuseWith = 503;
    const errors: StreamerError[] = [];
    const client = connect({ reconnect: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 }, onError: (e) => errors.push(e) });
    const error = await caught(client.request('echo', {}));
    expect(error.code).toBe('DISCONNECTED');
    expect(server.handshakes).toHaveLength(3);
    expect(client.state).toBe('closed');
    expect(errors.map((e) => e.code)).toEqual(['DISCONNECTED']);
  });

  test("requests made while disconnected are queued and sent once connected (whileDisconnected: 'queue')", async () => {
    server.refuseWith = 503;
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'result', success: true, data: frame.payload }));
    const client = connect();
    await withTimeout(waitUntil(() => client.state === 'reconnecting'), 2000, 'reconnecting');
    const pending = client.request('echo', { queued: true });
    await sleep(30);
    server.refuseWith = null;
    await expect(pending).resolves.toEqual({ queued: true });
  });

  test("requests made while disconnected fail fast with DISCONNECTED (whileDisconnected: 'fail')", async () => {
    server.refuseWith = 503;
    const client = connect({ whileDisconnected: 'fail' });
    await withTimeout(waitUntil(() => client.state === 'reconnecting'), 2000, 'reconnecting');
    const error = await caught(client.request('echo', {}));
    expect(error).toMatchObject({ code: 'DISCONNECTED', retryable: true });
  });

  test('a request sent but not acknowledged when the connection drops is sent again, with the same id and idempotency key', async () => {
    server.onFrame((frame, socket) => {
      // The first copy is swallowed by the drop; the second is answered.
      if (server.framesOf('generate_report').length === 1) return;
      const requestId = ackEverything(frame, socket);
      server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: 'once', lastSeq: 0 });
    });
    const client = connect();
    const pending = client.request('generate_report', { rows: 1 });
    await server.waitForFrame((f) => f.action === 'generate_report');
    server.dropAll();
    await expect(pending).resolves.toBe('once');
    const [first, second] = server.frames.filter((f) => f.frame.action === 'generate_report');
    expect([first!.connection, second!.connection]).toEqual([0, 1]);
    expect(second!.frame).toEqual(first!.frame);
    expect(first!.frame.idempotencyKey).toMatch(/^[0-9a-f-]{32,36}$/);
  });

  test('with resendOnReconnect: false, a request not acknowledged when the connection drops rejects with a retryable DISCONNECTED', async () => {
    const client = connect();
    const pending = client.request('generate_report', { rows: 1 }, { resendOnReconnect: false });
    await server.waitForFrame((f) => f.action === 'generate_report');
    server.dropAll();
    expect(await caught(pending)).toMatchObject({ code: 'DISCONNECTED', retryable: true });
  });

  test('a silent server (no pong) is detected by the heartbeat and the client reconnects', async () => {
    server.answerPings = false;
    const disconnects: DisconnectInfo[] = [];
    const client = connect({ heartbeat: { intervalMs: 30, timeoutMs: 60 }, onDisconnect: (d) => disconnects.push(d) });
    await server.waitForConnections(2);
    expect(server.framesOf('ping').length).toBeGreaterThanOrEqual(1);
    expect(disconnects[0]).toMatchObject({ code: 4000, willReconnect: true });
    server.answerPings = true;
    await withTimeout(waitUntil(() => client.state === 'open'), 2000, 'open');
  });

  test('pongs keep the connection open', async () => {
    const client = connect({ heartbeat: { intervalMs: 10, timeoutMs: 200 } });
    await client.ready();
    await withTimeout(waitUntil(() => server.framesOf('ping').length >= 3), 2000, 'pings');
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe('open');
  });

  test('a 401 handshake refusal surfaces as UNAUTHORIZED and is not retried', async () => {
    server.refuseWith = 401;
    const errors: StreamerError[] = [];
    const client = connect({ onError: (e) => errors.push(e) });
    const error = await caught(client.request('echo', {}));
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', retryable: false, details: { httpStatus: 401 } });
    await expect(client.ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await sleep(100); // many backoff periods (10 ms): a loop would have retried by now
    expect(server.handshakes).toHaveLength(1);
    expect(client.state).toBe('closed');
    expect(errors.map((e) => e.code)).toEqual(['UNAUTHORIZED']);
  });

  test('a token provider that throws stops the client with UNAUTHORIZED', async () => {
    const client = connect({
      token: () => {
        throw new Error('signed out');
      },
    });
    await expect(client.ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(server.handshakes).toHaveLength(0);
  });

  test('close() rejects unfinished requests and stops reconnecting', async () => {
    server.onFrame((frame, socket) => ackEverything(frame, socket));
    const client = connect();
    const pending = client.request('generate_report', { rows: 1 });
    await server.waitForFrame((f) => f.action === 'generate_report');
    client.close();
    expect((await caught(pending)).code).toBe('DISCONNECTED');
    await sleep(50);
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe('closed');
  });
});

describe('typed actions', () => {
  interface DemoActions {
    echo: { payload: { text: string }; result: { text: string } };
    generate_report: { payload: { rows: number; stepDelayMs?: number }; result: { summary: string } };
  }

  test('an action map types payloads and results', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'result', success: true, data: { summary: `${frame.payload.rows} rows` } }));
    const client = new StreamerClient<DemoActions>(server.url, { token: 't', heartbeat: false });
    try {
      const report = await client.request('generate_report', { rows: 2 });
      const summary: string = report.summary;
      expect(summary).toBe('2 rows');
      // @ts-expect-error rows must be a number
      void client.request('generate_report', { rows: 'many' }).catch(() => {});
      // @ts-expect-error unknown action
      void client.request('launch_rocket', {}).catch(() => {});
    } finally {
      client.close();
    }
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}
