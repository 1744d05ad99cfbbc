/**
 * Idempotency keys and progress replay, seen by the SDK against the real
 * local runtime (the rendered deployment, DynamoDB Local, the shipped
 * handlers): a repeated key never starts a second job, a connection lost
 * before the `ack` never starts one twice, and a client that was away for
 * 2 s still ends with every progress message, in order.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { StreamerClient, type ProgressMessage, type StreamerClientOptions, type WebSocketConstructor } from '../../client/node';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

interface Report {
  summary: string;
  rows: number;
  sections: number;
}
interface Actions {
  generate_report: { payload: { rows: number; stepDelayMs?: number; sections?: number }; result: Report };
}

let runtime: LocalRuntimeHandle;
let db: DynamoDBDocumentClient;
const clients: StreamerClient<Actions>[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'ERROR' } });
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }),
  );
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  db?.destroy();
  await runtime?.stop();
});

function connect(who: { sub: string; tenant: string }, options: StreamerClientOptions = {}): StreamerClient<Actions> {
  const client = new StreamerClient<Actions>(runtime.wsUrl, {
    token: () => runtime.mintToken(who),
    reconnect: { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 20 },
    heartbeat: false,
    ...options,
  });
  clients.push(client);
  return client;
}

/** The requests a user has stored, whatever their state: "one job" is one of these. */
async function storedRequestsOf(userId: string, tenantId: string): Promise<Array<{ request_id: string; attempts: number; status: string }>> {
  const out = await db.send(
    new ScanCommand({
      TableName: runtime.tableName('requests'),
      FilterExpression: 'user_id = :u AND tenant_id = :t',
      ExpressionAttributeValues: { ':u': userId, ':t': tenantId },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as Array<{ request_id: string; attempts: number; status: string }>;
}

const unique = (name: string): string => `${name}-${Math.random().toString(36).slice(2, 8)}`;

test('the same key sent by two clients of one user starts one job, and both calls get its result', async () => {
  const alice = { sub: unique('alice'), tenant: 'acme' };
  const [first, second] = [connect(alice), connect(alice)];
  const accepted: string[] = [];
  const options = { idempotencyKey: 'report-2026-12', onAccepted: (id: string) => accepted.push(id) };
  const one = first.request('generate_report', { rows: 40, stepDelayMs: 100 }, options);
  await waitFor(() => accepted.length === 1);
  const two = second.request('generate_report', { rows: 40, stepDelayMs: 100 }, options);
  const [a, b] = await Promise.all([one, two]);
  expect(a).toEqual(b);
  expect(a).toMatchObject({ summary: 'Report over 40 rows' });
  expect(accepted).toHaveLength(2);
  expect(accepted[1]).toBe(accepted[0]);
  expect(await storedRequestsOf(alice.sub, alice.tenant)).toEqual([expect.objectContaining({ request_id: accepted[0], attempts: 1, status: 'completed' })]);
});

test('the same key from another tenant starts its own job', async () => {
  const sub = unique('alice');
  const here = connect({ sub, tenant: 'acme' });
  const there = connect({ sub, tenant: 'globex' });
  const ids: string[] = [];
  const options = { idempotencyKey: 'shared-key', onAccepted: (id: string) => ids.push(id) };
  await Promise.all([
    here.request('generate_report', { rows: 1, stepDelayMs: 0 }, options),
    there.request('generate_report', { rows: 1, stepDelayMs: 0 }, options),
  ]);
  expect(new Set(ids).size).toBe(2);
  expect(await storedRequestsOf(sub, 'acme')).toHaveLength(1);
  expect(await storedRequestsOf(sub, 'globex')).toHaveLength(1);
});

/**
 * `ws`, recording every message each socket received. With `cutAtFirstAck`,
 * the first connection dies the moment the server's `ack` reaches it, before
 * the client sees it: the request is stored, the client cannot know.
 */
function recordingWebSocket(received: Array<Record<string, unknown>[]>, { cutAtFirstAck = false } = {}): WebSocketConstructor {
  let cut = !cutAtFirstAck;
  class RecordingWebSocket extends WebSocket {
    private readonly log: Record<string, unknown>[] = [];

    constructor(url: string) {
      super(url);
      received.push(this.log);
    }

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message') {
        const message = JSON.parse(String(args[0])) as Record<string, unknown>;
        this.log.push(message);
        if (!cut && message.type === 'ack') {
          cut = true;
          // The ack never reaches the SDK: the socket dies with it.
          this.terminate();
          return false;
        }
      }
      return super.emit(event, ...args);
    }
  }
  return RecordingWebSocket as unknown as WebSocketConstructor;
}

test('a connection lost after the request was stored but before its ack reached the client starts one job', async () => {
  const bob = { sub: unique('bob'), tenant: 'acme' };
  const received: Array<Record<string, unknown>[]> = [];
  let connects = 0;
  const client = connect(bob, { WebSocket: recordingWebSocket(received, { cutAtFirstAck: true }), onConnect: () => connects++ });
  const progress: ProgressMessage[] = [];
  const report = await client.request('generate_report', { rows: 9, stepDelayMs: 250 }, { onProgress: (p) => progress.push(p) });
  expect(report).toMatchObject({ summary: 'Report over 9 rows' });
  expect(connects).toBe(2);
  // The first socket saw the ack and died; the second got the same request back, marked as such.
  expect(received[0]!.find((m) => m.type === 'ack')).toBeDefined();
  const again = received[1]!.find((m) => m.type === 'ack');
  expect(again).toMatchObject({ deduplicated: true, requestId: received[0]!.find((m) => m.type === 'ack')!.requestId });
  const stored = await storedRequestsOf(bob.sub, bob.tenant);
  expect(stored).toEqual([expect.objectContaining({ request_id: again!.requestId, attempts: 1, status: 'completed' })]);
  // Every progress message of the one run (six steps and Done, each past the batching window) reached the caller once, in order.
  expect(progress.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
});

test('a client away for 2 s during a 20-report job ends with all 20 progress messages in order', async () => {
  const carol = { sub: unique('carol'), tenant: 'acme' };
  const received: Array<Record<string, unknown>[]> = [];
  // Reconnect exactly 2 s after the drop: no jitter, no shorter first attempt.
  const client = connect(carol, {
    WebSocket: recordingWebSocket(received),
    reconnect: { initialDelayMs: 2000, maxDelayMs: 2000, jitter: 0, maxAttempts: 5 },
  });
  await client.ready();
  const progress: ProgressMessage[] = [];
  let droppedAt = 0;
  let reconnectedAt = 0;
  const pending = client.request('generate_report', { rows: 20, sections: 19, stepDelayMs: 300 }, { onProgress: (p) => progress.push(p) });
  await waitFor(() => progress.length >= 3);
  const before = progress.length;
  // The clients of earlier tests are closed: this one's is the only connection.
  const connections = await runtime.listConnections();
  expect(connections).toHaveLength(1);
  await runtime.dropConnection(connections[0]!.connectionId);
  droppedAt = Date.now();
  await waitFor(() => client.state === 'reconnecting');
  await waitFor(() => client.state === 'open', 10_000);
  reconnectedAt = Date.now();
  const report = await pending;
  expect(report).toMatchObject({ summary: 'Report over 20 rows', sections: 19 });
  expect(reconnectedAt - droppedAt).toBeGreaterThanOrEqual(1900);
  // Messages were sent while the client was away: the new connection's replay brought them, before its `subscribed`.
  expect(progress.length - before).toBeGreaterThan(0);
  const lastBeforeDrop = Math.max(...received[0]!.filter((m) => m.type === 'progress').map((m) => Number(m.seq)));
  const second = received[1]!;
  const replayed = second.slice(0, second.findIndex((m) => m.type === 'subscribed')).filter((m) => m.type === 'progress');
  expect(replayed.length).toBeGreaterThanOrEqual(3);
  expect(replayed[0]).toMatchObject({ seq: lastBeforeDrop + 1 });
  // And none of them is missing.
  expect(progress.map((p) => p.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(progress.map((p) => p.message)).toEqual([...Array.from({ length: 19 }, (_, i) => `Section ${i + 1} of 19…`), 'Done']);
  const fractions = progress.map((p) => p.progress);
  expect([...fractions].sort((x, y) => x - y)).toEqual(fractions);
});
