/**
 * Every row of the wire protocol, end to end: real `ws` clients against the
 * local runtime running the real function bundles and DynamoDB Local.
 */
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { DEV_JWT_SECRET } from '../../local/dev-token';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { openSocket, openTrackedSocket, type TestSocket } from '../support/socket-client';
import { tableReader, type TableReader } from '../support/table-reader';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

type Message = {
  id?: string | null;
  type?: string;
  requestId?: string;
  progress?: number;
  error?: { code: string; retryable: boolean; details?: Record<string, unknown> };
  request?: { status: string; progress: number };
  data?: unknown;
};

let runtime: LocalRuntimeHandle;
let tables: TableReader;

beforeAll(async () => {
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'ERROR' } });
  tables = tableReader(runtime);
});
afterAll(async () => {
  tables.destroy();
  await runtime.stop();
});

const token = (sub = 'alice', tenant = 'acme') => runtime.mintToken({ sub, tenant });
const connect = (sub?: string, tenant?: string) => openSocket(`${runtime.wsUrl}?token=${token(sub, tenant)}`);

async function handshakeStatus(url: string, headers?: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', reject);
  });
}

/** Connects and returns the socket with the connection id the runtime gave it. */
const connectTracked = (sub: string): Promise<{ socket: TestSocket; connectionId: string }> => openTrackedSocket(runtime, `${runtime.wsUrl}?token=${token(sub)}`);

describe('connecting', () => {
  it('accepts the token as ?token=, ?Authorization=Bearer and an Authorization header', async () => {
    expect(await handshakeStatus(`${runtime.wsUrl}?token=${token()}`)).toBe(101);
    expect(await handshakeStatus(`${runtime.wsUrl}?Authorization=${encodeURIComponent(`Bearer ${token()}`)}`)).toBe(101);
    expect(await handshakeStatus(runtime.wsUrl, { Authorization: `Bearer ${token()}` })).toBe(101);
  });

  it.each([
    ['no token', ''],
    ['a malformed token', '?token=not-a-jwt'],
    ['an expired token', `?token=${jwt.sign({ sub: 'a', tenant_id: 't' }, DEV_JWT_SECRET, { expiresIn: -60 })}`],
    ['a token signed with another secret', `?token=${jwt.sign({ sub: 'a', tenant_id: 't' }, 'wrong-secret', { expiresIn: 60 })}`],
    ['a token without tenant_id', `?token=${jwt.sign({ sub: 'a' }, DEV_JWT_SECRET, { expiresIn: 60 })}`],
  ])('refuses %s with HTTP 401 and stores no connection', async (_case, query) => {
    const before = new Set((await runtime.listConnections()).map((c) => c.connectionId));
    expect(await handshakeStatus(`${runtime.wsUrl}${query}`)).toBe(401);
    // Earlier tests' connections may still be closing; what matters is that none was added.
    const added = (await runtime.listConnections()).filter((c) => !before.has(c.connectionId));
    expect(added).toEqual([]);
  });
});

describe('requests', () => {
  let socket: TestSocket;
  beforeAll(async () => {
    socket = await connect();
  });
  afterAll(() => socket.close());

  it('answers ping with pong', async () => {
    socket.send({ id: 'p1', action: 'ping' });
    await expect(socket.next((m: Message) => m.id === 'p1')).resolves.toEqual({ id: 'p1', type: 'pong' });
  });

  it('answers ping, a sync handler and a bad frame as route responses, with no PostToConnection', async () => {
    const counters = async (): Promise<{ postToConnection: number; routeResponse: number }> =>
      (await fetch(`${runtime.httpUrl}/_local/gateway`)).json() as Promise<{ postToConnection: number; routeResponse: number }>;
    const before = await counters();
    socket.send({ id: 'rr-p', action: 'ping' });
    socket.send({ id: 'rr-e', action: 'echo', payload: { n: 1 } });
    socket.send({ id: 'rr-x', action: 'no_such_action' });
    await socket.next((m: Message) => m.id === 'rr-p');
    await socket.next((m: Message) => m.id === 'rr-e');
    await expect(socket.next((m: Message) => m.id === 'rr-x')).resolves.toMatchObject({ type: 'error', error: { code: 'UNKNOWN_ACTION' } });
    const after = await counters();
    expect({ posts: after.postToConnection - before.postToConnection, routeResponses: after.routeResponse - before.routeResponse }).toEqual({
      posts: 0,
      routeResponses: 3,
    });
  });

  it('answers a sync handler with one result', async () => {
    socket.send({ id: 'e1', action: 'echo', payload: { hello: 'world' } });
    await expect(socket.next((m: Message) => m.id === 'e1')).resolves.toEqual({ id: 'e1', type: 'result', success: true, data: { hello: 'world' } });
  });

  it('acknowledges an async request, streams never-decreasing progress, then sends exactly one final result', async () => {
    socket.send({ id: 'g1', action: 'generate_report', payload: { rows: 42, stepDelayMs: 100 } });
    const final = await socket.next((m: Message) => m.id === 'g1' && (m.type === 'result' || m.type === 'error'));
    expect(final).toMatchObject({ type: 'result', success: true, data: { rows: 42 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const mine = (socket.received as Message[]).filter((m) => m.id === 'g1');
    expect(mine[0]).toMatchObject({ type: 'ack', status: 'queued', requestId: expect.any(String) });
    const progress = mine.filter((m) => m.type === 'progress').map((m) => m.progress!);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(mine.filter((m) => m.type === 'result' || m.type === 'error')).toHaveLength(1);
    expect(mine.every((m) => m.requestId === mine[0].requestId)).toBe(true);
  });

  it('gives a v1 client that sends neither idempotencyKey nor afterSeq the v1 replies, with the new fields only added', async () => {
    socket.send({ id: 'old', action: 'generate_report', payload: { rows: 4, stepDelayMs: 250 } });
    const final = await socket.next<Message & { lastSeq?: number }>((m) => m.id === 'old' && m.type === 'result', 20_000);
    const mine = (socket.received as Array<Message & { seq?: number; lastSeq?: number }>).filter((m) => m.id === 'old');
    expect(mine.map((m) => m.type)).toEqual(['ack', ...Array(7).fill('progress'), 'result']);
    expect(mine[0]).toEqual({ id: 'old', type: 'ack', requestId: final.requestId, status: 'queued' });
    expect(mine.filter((m) => m.type === 'progress').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(final).toMatchObject({ success: true, data: { rows: 4 }, lastSeq: 7 });
    // A v1 subscribe (no afterSeq) replays nothing: subscribed, then the final message.
    const late = await connect();
    late.send({ id: 'old-sub', action: 'subscribe', payload: { requestId: final.requestId } });
    await late.next((m: Message) => m.id === 'old-sub' && m.type === 'result');
    expect((late.received as Message[]).map((m) => m.type)).toEqual(['subscribed', 'result']);
    await late.close();
  });

  it('answers a repeated idempotencyKey with the request it started and refuses a malformed one', async () => {
    socket.send({ id: 'k1', action: 'generate_report', payload: { rows: 2, stepDelayMs: 0 }, idempotencyKey: 'protocol-key' });
    const ack = await socket.next<Message>((m) => m.id === 'k1' && m.type === 'ack');
    await socket.next<Message>((m) => m.id === 'k1' && m.type === 'result');
    socket.send({ id: 'k2', action: 'generate_report', payload: { rows: 2, stepDelayMs: 0 }, idempotencyKey: 'protocol-key' });
    await expect(socket.next((m: Message) => m.id === 'k2' && m.type === 'ack')).resolves.toEqual({
      id: 'k2', type: 'ack', requestId: ack.requestId, status: 'queued', deduplicated: true,
    });
    await expect(socket.next((m: Message) => m.id === 'k2' && m.type === 'result')).resolves.toMatchObject({ requestId: ack.requestId, data: { rows: 2 } });
    socket.send({ id: 'k3', action: 'generate_report', payload: { rows: 2 }, idempotencyKey: { not: 'a string' } });
    await expect(socket.next((m: Message) => m.id === 'k3')).resolves.toMatchObject({
      type: 'error', error: { code: 'INVALID_REQUEST', retryable: false, details: { field: 'idempotencyKey' } },
    });
  });

  it.each([
    [{ id: 'v1', action: 'generate_report', payload: { rows: 'many' } }, 'VALIDATION_ERROR', 'v1'],
    [{ id: 'u1', action: 'make_coffee' }, 'UNKNOWN_ACTION', 'u1'],
    ['{"id":"x1","action":', 'INVALID_REQUEST', null],
    [{ action: 'ping' }, 'INVALID_REQUEST', null],
    [{ id: 'n1', action: 'status', payload: { requestId: '01NOPE' } }, 'NOT_FOUND', 'n1'],
  ])('answers %j with %s and keeps the connection open', async (frame, code, id) => {
    const before = socket.received.length;
    socket.send(frame);
    const reply = await socket.next<Message>((m) => socket.received.indexOf(m) >= before && m.type === 'error');
    expect(reply).toMatchObject({ id, type: 'error', error: { code, retryable: false } });
    socket.send({ id: `alive-${before}`, action: 'ping' });
    await socket.next((m: Message) => m.id === `alive-${before}`);
  });

  it('reports a request\'s stored state with status', async () => {
    socket.send({ id: 's1', action: 'generate_report', payload: { rows: 3, stepDelayMs: 10 } });
    const ack = await socket.next<Message>((m) => m.id === 's1' && m.type === 'ack');
    await socket.next<Message>((m) => m.id === 's1' && m.type === 'result');
    socket.send({ id: 's2', action: 'status', payload: { requestId: ack.requestId } });
    await expect(socket.next((m: Message) => m.id === 's2')).resolves.toMatchObject({
      type: 'status',
      request: { requestId: ack.requestId, action: 'generate_report', status: 'completed', progress: 1, result: expect.objectContaining({ rows: 3 }) },
    });
  });
});

describe('connections', () => {
  it('lets a client that reconnected subscribe to its request and receive the rest of it', async () => {
    const first = await connect('bob');
    first.send({ id: 'r1', action: 'generate_report', payload: { rows: 5, stepDelayMs: 300 } });
    const ack = await first.next<Message>((m) => m.id === 'r1' && m.type === 'ack');
    await first.close();
    const second = await connect('bob');
    second.send({ id: 'sub', action: 'subscribe', payload: { requestId: ack.requestId } });
    await expect(second.next((m: Message) => m.id === 'sub')).resolves.toEqual({ id: 'sub', type: 'subscribed', requestId: ack.requestId });
    const final = await second.next<Message>((m) => m.id === 'sub' && m.type === 'result', 20_000);
    expect(final).toMatchObject({ requestId: ack.requestId, success: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((second.received as Message[]).filter((m) => m.type === 'result')).toHaveLength(1);
    await second.close();
  });

  it('sends no final message to a connection that unsubscribed', async () => {
    const owner = await connect('carol');
    owner.send({ id: 'r2', action: 'generate_report', payload: { rows: 5, stepDelayMs: 300 } });
    const ack = await owner.next<Message>((m) => m.id === 'r2' && m.type === 'ack');
    const watcher = await connect('carol');
    watcher.send({ id: 'sub', action: 'subscribe', payload: { requestId: ack.requestId } });
    await watcher.next((m: Message) => m.id === 'sub' && m.type === 'subscribed');
    watcher.send({ id: 'unsub', action: 'unsubscribe', payload: { requestId: ack.requestId } });
    await expect(watcher.next((m: Message) => m.id === 'unsub')).resolves.toEqual({ id: 'unsub', type: 'unsubscribed', requestId: ack.requestId });
    const countAfterUnsubscribe = watcher.received.length;
    await owner.next<Message>((m) => m.id === 'r2' && m.type === 'result', 20_000);
    // Progress already batched for the old audience may still arrive; the final message goes to the audience at the end.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const later = (watcher.received.slice(countAfterUnsubscribe) as Message[]).filter((m) => m.requestId === ack.requestId);
    expect(later.filter((m) => m.type === 'result' || m.type === 'error')).toEqual([]);
    await Promise.all([owner.close(), watcher.close()]);
  });

  it('removes the connection and its subscriptions from the tables when the client disconnects', async () => {
    const { socket: watcher, connectionId } = await connectTracked('carol');
    watcher.send({ id: 'j', action: 'generate_report', payload: { rows: 1, stepDelayMs: 5000 } });
    const ack = await watcher.next<Message>((m) => m.id === 'j' && m.type === 'ack');
    watcher.send({ id: 'sub', action: 'subscribe', payload: { requestId: ack.requestId } });
    await watcher.next((m: Message) => m.id === 'sub');
    expect(await tables.connectionRecord(connectionId)).toBeDefined();
    expect(await tables.subscriptionsOf(connectionId)).toBe(1);
    await watcher.close();
    await waitFor(async () => (await tables.connectionRecord(connectionId)) === undefined && (await tables.subscriptionsOf(connectionId)) === 0);
  });

  it('prunes a connection that vanished mid-job (410) and still completes the job', async () => {
    const { socket: client, connectionId } = await connectTracked('dave');
    client.send({ id: 'v', action: 'generate_report', payload: { rows: 2, stepDelayMs: 400 } });
    const ack = await client.next<Message>((m) => m.id === 'v' && m.type === 'progress');
    // Vanish without a close handshake, as a phone losing its network would.
    client.socket.terminate();
    const watcher = await connect('dave');
    watcher.send({ id: 'st', action: 'subscribe', payload: { requestId: ack.requestId } });
    await watcher.next<Message>((m) => m.id === 'st' && m.type === 'result', 20_000);
    await waitFor(async () => (await tables.connectionRecord(connectionId)) === undefined);
    await watcher.close();
  });
});
