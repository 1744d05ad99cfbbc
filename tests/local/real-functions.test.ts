/**
 * `npm start` end to end: the runtime around the real function bundles
 * (dist/<fn>/index.js, built by `node scripts/build.mjs`), driven over the
 * wire protocol only.
 */
import { existsSync } from 'node:fs';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { join } from 'node:path';
import { type LocalRuntimeHandle, REPO_ROOT, startLocalRuntime } from '../support/local-runtime';
import { openSocket } from '../support/socket-client';

jest.setTimeout(30_000);

const built = FUNCTION_NAMES.every((fn) => existsSync(join(REPO_ROOT, 'dist', fn, 'index.js')));

(built ? describe : describe.skip)('the local runtime around the real functions', () => {
  let runtime: LocalRuntimeHandle;

  beforeAll(async () => {
    runtime = await startLocalRuntime();
  });
  afterAll(() => runtime?.stop());

  it('refuses a connection without a valid token with 401', async () => {
    await expect(openSocket(`${runtime.wsUrl}/?token=garbage`)).rejects.toMatchObject({ statusCode: 401 });
  });

  it('answers ping at once, and runs a queued report to one final result with progress', async () => {
    const socket = await openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}`);
    socket.send({ id: '1', action: 'ping' });
    expect(await socket.next((m) => m.id === '1')).toEqual({ id: '1', type: 'pong' });

    socket.send({ id: '2', action: 'generate_report', payload: { rows: 100, stepDelayMs: 50 } });
    const ack = await socket.next((m) => m.id === '2' && m.type === 'ack');
    expect(ack).toMatchObject({ status: 'queued', requestId: expect.any(String) });
    const result = await socket.next((m) => m.id === '2' && m.type === 'result');
    expect(result).toMatchObject({ requestId: ack.requestId, success: true });
    const progress = socket.received.filter((m: any) => m.id === '2' && m.type === 'progress').map((m: any) => m.progress);
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    await socket.close();
  });
});
