/**
 * The SDK's side of results by reference, against the scripted server and a
 * scripted `fetch`: the data arrives as if inline, a tampered body or a dead
 * URL rejects with a typed error, and an expired URL is renewed through
 * `status` once.
 */
import { createHash } from 'node:crypto';
import { StreamerClient, StreamerError, type FetchLike } from '../../client/node';
import { FakeStreamerServer } from './fake-server';

let server: FakeStreamerServer;
let client: StreamerClient | undefined;

beforeEach(async () => {
  server = await FakeStreamerServer.start();
});

afterEach(async () => {
  client?.close();
  client = undefined;
  await server.stop();
});

const DATA = { rows: [1, 2, 3] };
const BODY = Buffer.from(JSON.stringify(DATA));
const reference = (url: string, body: Buffer = BODY) => ({
  dataUrl: url,
  dataBytes: body.length,
  dataSha256: createHash('sha256').update(body).digest('hex'),
  dataExpiresAt: Date.now() + 60_000,
});

/** A fetch that answers each URL from a table (status 200 with the body, or the status given). */
function scriptedFetch(table: Record<string, Buffer | number>): FetchLike & { calls: string[] } {
  const calls: string[] = [];
  const fetch = async (url: string) => {
    calls.push(url);
    const answer = table[url];
    const body = typeof answer === 'number' || answer === undefined ? Buffer.alloc(0) : answer;
    const status = typeof answer === 'number' ? answer : answer === undefined ? 404 : 200;
    return { ok: status === 200, status, arrayBuffer: async () => new Uint8Array(body).buffer as ArrayBuffer, text: async () => body.toString() };
  };
  return Object.assign(fetch, { calls });
}

function connect(fetch: FetchLike): StreamerClient {
  client = new StreamerClient(server.url, { token: 't', heartbeat: false, reconnect: false, fetch });
  return client;
}

describe('results by reference in the SDK', () => {
  it('resolves request() with the fetched data after checking its length and SHA-256', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'result', requestId: 'r-1', success: true, ...reference('http://bucket/r-1') }));
    const fetch = scriptedFetch({ 'http://bucket/r-1': BODY });
    await expect(connect(fetch).request('export', {})).resolves.toEqual(DATA);
    expect(fetch.calls).toEqual(['http://bucket/r-1']);
  });

  it('rejects with RESULT_INTEGRITY when the fetched body is not the announced one', async () => {
    server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'result', success: true, ...reference('http://bucket/x') }));
    const tampered = Buffer.from(JSON.stringify({ rows: [9, 9, 9] }));
    const error = await connect(scriptedFetch({ 'http://bucket/x': tampered })).request('export', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamerError);
    expect(error).toMatchObject({ code: 'RESULT_INTEGRITY', retryable: false });
  });

  it('renews an expired URL through status once, then resolves', async () => {
    server.onFrame((frame, socket) => {
      if (frame.action === 'status') {
        server.send(socket, { id: frame.id, type: 'status', request: { requestId: 'r-2', action: 'export', status: 'completed', progress: 1, createdAt: 0, updatedAt: 0, ...reference('http://bucket/fresh') } });
      } else {
        server.send(socket, { id: frame.id, type: 'result', requestId: 'r-2', success: true, ...reference('http://bucket/stale') });
      }
    });
    const fetch = scriptedFetch({ 'http://bucket/stale': 403, 'http://bucket/fresh': BODY });
    await expect(connect(fetch).request('export', {})).resolves.toEqual(DATA);
    expect(fetch.calls).toEqual(['http://bucket/stale', 'http://bucket/fresh']);
  });

  it('rejects with RESULT_UNAVAILABLE (HTTP status in details) when the object is gone for good', async () => {
    server.onFrame((frame, socket) => {
      if (frame.action === 'status') server.send(socket, { id: frame.id, type: 'error', error: { code: 'NOT_FOUND', message: 'No request r-3', retryable: false } });
      else server.send(socket, { id: frame.id, type: 'result', requestId: 'r-3', success: true, ...reference('http://bucket/gone') });
    });
    const error = await connect(scriptedFetch({ 'http://bucket/gone': 404 })).request('export', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESULT_UNAVAILABLE', details: { status: 404 } });
  });

  it('delivers a referenced result to a subscription as data', async () => {
    server.onFrame((frame, socket) => {
      server.send(socket, { id: frame.id, type: 'subscribed', requestId: 'r-4' });
      server.send(socket, { id: frame.id, type: 'result', requestId: 'r-4', success: true, ...reference('http://bucket/r-4') });
    });
    const subscription = connect(scriptedFetch({ 'http://bucket/r-4': BODY })).subscribe('r-4');
    await expect(subscription.result).resolves.toEqual(DATA);
  });
});
