/**
 * Connections that ended without their `$disconnect` (API Gateway delivers
 * it on a best-effort basis; here, the runtime is killed with SIGKILL and
 * restarted on its persisted tables, so the records of the connections that
 * died with it stay behind, subscriptions included). The first send that
 * finds such a connection gone (410) prunes its record and its
 * subscriptions: from the router (a sync notice) and from the processor (a
 * queued one), each with its own role. Real bundles, real DynamoDB Local.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashRuntime } from '../support/crash-runtime';
import { type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket, openTrackedSocket, type TestSocket } from '../support/socket-client';
import { tableReader, type TableReader } from '../support/table-reader';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

const TENANT = 'gone-connections';
const env = { STREAMER_LOCAL_LOG_LEVEL: 'warn' };
const stack = { logLevel: 'ERROR' };

type Message = { id?: string; type?: string; requestId?: string; data?: unknown };

let persistDir: string;
let runtime: LocalRuntimeHandle;
let tables: TableReader;
/** The connections that died with the first runtime, by user. */
const leftOver: Record<string, string> = {};

/** A connection that runs a quick report and subscribes to it: a record and a subscription in the tables. */
async function connectionWithSubscription(first: LocalRuntimeHandle, sub: string): Promise<string> {
  const { socket, connectionId } = await openTrackedSocket(first, `${first.wsUrl}?token=${first.mintToken({ sub, tenant: TENANT })}`);
  socket.send({ id: 'job', action: 'generate_report', payload: { rows: 1, stepDelayMs: 0 } });
  const result = await socket.next<Message>((m) => m.id === 'job' && m.type === 'result', 20_000);
  socket.send({ id: 'sub', action: 'subscribe', payload: { requestId: result.requestId } });
  await socket.next((m: Message) => m.id === 'sub' && m.type === 'subscribed');
  return connectionId;
}

beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), 'streamer-gone-'));
  const first = await startLocalRuntime({ env, stack, persistDir });
  leftOver.alice = await connectionWithSubscription(first, 'alice');
  leftOver.bob = await connectionWithSubscription(first, 'bob');
  await crashRuntime(first, persistDir);
  runtime = await startLocalRuntime({ env, stack, persistDir });
  tables = tableReader(runtime);
});

afterAll(async () => {
  tables?.destroy();
  await runtime?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

const connect = (sub: string): Promise<TestSocket> => openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub, tenant: TENANT })}`);

it('keeps the records of connections that died with a crashed runtime, subscriptions included', async () => {
  for (const connectionId of Object.values(leftOver)) {
    expect(await tables.connectionRecord(connectionId)).toBeDefined();
    expect(await tables.subscriptionsOf(connectionId)).toBe(1);
  }
});

it.each([
  ['a sync notice, from the router', 'alice', 0],
  ['a queued notice, from the processor', 'bob', 100],
])('prunes a gone connection and its subscriptions once %s finds it gone, and still reaches the open one', async (_case, user, afterMs) => {
  const gone = leftOver[user]!;
  const socket = await connect(user);
  try {
    socket.send({ id: 'notice', action: 'notify', payload: { topic: 'hello', text: 'anyone there?', afterMs } });
    // Two connections on record for the user; the one that died with the first runtime answers 410.
    await expect(socket.next((m: Message) => m.id === 'notice' && m.type === 'result', 20_000)).resolves.toMatchObject({ data: { delivered: 1 } });
    expect(await socket.next((m: Message) => m.type === 'broadcast')).toMatchObject({ data: { from: user, text: 'anyone there?' } });
    await waitFor(async () => (await tables.connectionRecord(gone)) === undefined && (await tables.subscriptionsOf(gone)) === 0);
  } finally {
    await socket.close();
  }
});
