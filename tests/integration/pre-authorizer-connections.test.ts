/**
 * Connections opened before the `$connect` route had its token authorizer:
 * API Gateway hands their later events no authorizer context, so the router
 * reads who is calling from the connection record (its `GetItem` fallback).
 * The deployment here is the one from before the authorizer (the route
 * open, `withoutConnectAuthorizer`), and `connect` is a stand-in for that
 * release's (it stores the record through the shipped bundle, see the
 * fixture); the router, the processor and every role and environment are
 * the shipped ones. The frames travel through the emulated gateway exactly
 * as such a connection's do on AWS.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { type LocalRuntimeHandle, REPO_ROOT, startLocalRuntime } from '../support/local-runtime';
import { withoutConnectAuthorizer } from '../support/manifest-edits';
import { openSocket, openTrackedSocket, type TestSocket } from '../support/socket-client';
import { tableReader, type TableReader } from '../support/table-reader';

jest.setTimeout(60_000);

type Message = { id?: string; type?: string; requestId?: string; error?: { code: string }; request?: { status: string } };

const PRE_AUTHORIZER_CONNECT = join(__dirname, 'fixtures', 'pre-authorizer-connect');

let functionsDir: string;
let runtime: LocalRuntimeHandle;
let tables: TableReader;

beforeAll(async () => {
  // The shipped bundles, but for connect.
  functionsDir = mkdtempSync(join(tmpdir(), 'streamer-pre-authorizer-'));
  for (const fn of FUNCTION_NAMES) symlinkSync(fn === 'connect' ? PRE_AUTHORIZER_CONNECT : join(REPO_ROOT, 'dist', fn), join(functionsDir, fn), 'dir');
  runtime = await startLocalRuntime({
    env: { STREAMER_LOCAL_FUNCTIONS_DIR: functionsDir, STREAMER_LOCAL_LOG_LEVEL: 'warn' },
    stack: { logLevel: 'ERROR' },
    editManifest: withoutConnectAuthorizer,
  });
  tables = tableReader(runtime);
});
afterAll(async () => {
  tables?.destroy();
  await runtime?.stop();
  rmSync(functionsDir, { recursive: true, force: true });
});

const url = (sub: string, tenant = 'acme'): string => `${runtime.wsUrl}?token=${runtime.mintToken({ sub, tenant })}`;

describe('a connection opened before the $connect authorizer', () => {
  let alice: TestSocket;
  let bob: TestSocket;
  beforeAll(async () => {
    [alice, bob] = await Promise.all([openSocket(url('alice')), openSocket(url('bob'))]);
  });
  afterAll(() => Promise.all([alice?.close(), bob?.close()]));

  it('is answered as the user its record names: sync and queued requests run, and their results are its own', async () => {
    alice.send({ id: 'e', action: 'echo', payload: { hello: 'old connection' } });
    await expect(alice.next((m: Message) => m.id === 'e')).resolves.toMatchObject({ type: 'result', data: { hello: 'old connection' } });

    alice.send({ id: 'job', action: 'generate_report', payload: { rows: 3, stepDelayMs: 0 } });
    const result = await alice.next<Message>((m) => m.id === 'job' && m.type === 'result', 20_000);
    alice.send({ id: 'mine', action: 'status', payload: { requestId: result.requestId } });
    await expect(alice.next((m: Message) => m.id === 'mine')).resolves.toMatchObject({ type: 'status', request: { status: 'completed' } });

    // Another user of the same tenant, on an old connection too, cannot see it.
    bob.send({ id: 'theirs', action: 'status', payload: { requestId: result.requestId } });
    await expect(bob.next((m: Message) => m.id === 'theirs')).resolves.toMatchObject({ type: 'error', error: { code: 'NOT_FOUND' } });
  });
});

it('asks a connection without a record to reconnect, and keeps it open', async () => {
  const { socket, connectionId } = await openTrackedSocket(runtime, url('carol'));
  try {
    await tables.db.send(new DeleteCommand({ TableName: runtime.tableName('connections'), Key: { connection_id: connectionId } }));
    socket.send({ id: 'who', action: 'ping' });
    await expect(socket.next((m: Message) => m.id === 'who')).resolves.toMatchObject({ type: 'error', error: { code: 'UNAUTHORIZED' } });
    socket.send({ id: 'still', action: 'echo', payload: {} });
    await expect(socket.next((m: Message) => m.id === 'still')).resolves.toMatchObject({ type: 'error', error: { code: 'UNAUTHORIZED' } });
  } finally {
    await socket.close();
  }
});
