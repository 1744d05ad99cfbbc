/**
 * The SDK against the real local runtime (gateway emulation, DynamoDB Local,
 * stream poller, the shipped handlers): what a user of the client sees.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StreamerClient, StreamerError, type ProgressMessage, type StreamerClientOptions } from '../../client/node';
import { REPO_ROOT, startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { caught } from './caught';

jest.setTimeout(60_000);

interface ShippedActions {
  echo: { payload: Record<string, unknown>; result: Record<string, unknown> };
  generate_report: { payload: { rows: number; stepDelayMs?: number }; result: { summary: string; rows: number; sections: number } };
  process_data: { payload: { items?: number; stepDelayMs?: number }; result: { processed: number; stages: Record<string, number> } };
}

let runtime: LocalRuntimeHandle;
const clients: StreamerClient<ShippedActions>[] = [];

function connect(options: StreamerClientOptions = {}, who = { sub: 'alice', tenant: 'acme' }): StreamerClient<ShippedActions> {
  const client = new StreamerClient<ShippedActions>(runtime.wsUrl, {
    token: () => runtime.mintToken(who),
    reconnect: { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 20 },
    ...options,
  });
  clients.push(client);
  return client;
}


const waitFor = async (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'router', 'index.js'))) {
    throw new Error('The function bundles are missing: run `npm run build` first (npm test does)');
  }
  runtime = await startLocalRuntime();
}, 60_000);

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await runtime?.stop();
});

test('a sync request answers with its data', async () => {
  const client = connect();
  await expect(client.request('echo', { hello: 'world' })).resolves.toEqual({ hello: 'world' });
});

test('generate_report reports rising progress and resolves with its result', async () => {
  const client = connect();
  const progress: ProgressMessage[] = [];
  let requestId = '';
  const report = await client.request('generate_report', { rows: 120, stepDelayMs: 250 }, {
    onProgress: (p) => progress.push(p),
    onAccepted: (id) => (requestId = id),
  });
  expect(report).toMatchObject({ summary: 'Report over 120 rows', rows: 120, sections: 6 });
  expect(requestId).not.toBe('');
  expect(progress.length).toBeGreaterThanOrEqual(3);
  const fractions = progress.map((p) => p.progress);
  expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
  expect(progress.every((p) => p.requestId === requestId)).toBe(true);
  await expect(client.status(requestId)).resolves.toMatchObject({ requestId, status: 'completed', progress: 1 });
});

test('a validation failure rejects with VALIDATION_ERROR', async () => {
  const client = connect();
  const error = await caught(client.request('generate_report', { rows: -5 }));
  expect(error.code).toBe('VALIDATION_ERROR');
  expect(error.retryable).toBe(false);
});

test('aborting a running request cancels it on the server', async () => {
  const client = connect();
  const controller = new AbortController();
  let requestId = '';
  const pending = client.request('generate_report', { rows: 10, stepDelayMs: 1000 }, {
    signal: controller.signal,
    onAccepted: (id) => (requestId = id),
    onProgress: () => controller.abort(),
  });
  expect((await caught(pending)).code).toBe('CANCELLED');
  await waitFor(async () => (await client.status(requestId)).status === 'cancelled');
});

test('a server-side connection drop mid-request does not lose the result', async () => {
  let connects = 0;
  const client = connect({ onConnect: () => connects++ });
  await client.ready();
  const progress: ProgressMessage[] = [];
  const pending = client.request('generate_report', { rows: 300, stepDelayMs: 200 }, { onProgress: (p) => progress.push(p) });
  await waitFor(() => progress.length > 0);
  const connections = await runtime.listConnections();
  expect(connections).toHaveLength(1);
  await runtime.dropConnection(connections[0]!.connectionId);
  await expect(pending).resolves.toMatchObject({ summary: 'Report over 300 rows' });
  expect(connects).toBe(2);
  // Nothing is missed meanwhile: the resubscribe replays what was sent while away, in order.
  expect(progress.map((p) => p.seq)).toEqual(progress.map((_, i) => i + 1));
  expect(progress.at(-1)).toMatchObject({ progress: 1, message: 'Done' });
});

test('another client of the same user can follow a request to its end', async () => {
  const starter = connect();
  const watcher = connect();
  let requestId = '';
  const started = starter.request('process_data', { items: 7, stepDelayMs: 150 }, { onAccepted: (id) => (requestId = id) });
  await waitFor(() => requestId !== '');
  const subscription = watcher.subscribe<{ processed: number }>(requestId);
  await subscription.ready;
  await expect(subscription.result).resolves.toMatchObject({ processed: 7 });
  await expect(started).resolves.toMatchObject({ processed: 7 });
});

test('another tenant cannot follow the request', async () => {
  const owner = connect();
  const stranger = connect({}, { sub: 'alice', tenant: 'other' });
  let requestId = '';
  const started = owner.request('generate_report', { rows: 1, stepDelayMs: 0 }, { onAccepted: (id) => (requestId = id) });
  await waitFor(() => requestId !== '');
  const error = await caught(stranger.subscribe(requestId).ready);
  expect(['FORBIDDEN', 'NOT_FOUND']).toContain(error.code);
  await started;
});

test('a token signed with the wrong secret is refused with UNAUTHORIZED, once', async () => {
  const { mintDevToken } = await import('../../local/dev-token');
  const client = connect({ token: mintDevToken({ sub: 'mallory', tenant: 'acme', secret: 'not-the-secret' }) });
  await expect(client.ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  expect(client.state).toBe('closed');
});

test('the terminal client runs a report against the runtime and exits 0', async () => {
  const { runCli, EXIT } = await import('../../client/cli/main');
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['request', 'generate_report', '{"rows": 42, "stepDelayMs": 50}', '--url', runtime.wsUrl, '--sub', 'carol', '--tenant', 'acme'], {
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    env: {},
  });
  expect(code).toBe(EXIT.ok);
  expect(JSON.parse(out.join(''))).toMatchObject({ summary: 'Report over 42 rows' });
  expect(err.join('')).toMatch(/^accepted \S+\n/);
});
