/**
 * SIGKILL DynamoDB Local's Java process (not the runtime) while jobs run.
 *
 * In memory the tables are gone with it: the runtime must say so once and
 * exit non-zero, closing its clients' sockets, instead of answering
 * `/healthz` ok forever. Persisted (`--persist`), it restarts DynamoDB Local
 * on the same data and port, and the lease sweeper finishes every job with
 * exactly one final message.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket, type TestSocket } from '../support/socket-client';
import { startReportJobs } from '../support/report-jobs';
import { waitFor } from '../support/wait-for';

jest.setTimeout(180_000);

const JOBS = 10;
const env = { STREAMER_LOCAL_LOG_LEVEL: 'warn', STREAMER_LOCAL_SWEEP_MS: '500' };
// Short leases (stack config), so the sweeper re-queues the interrupted jobs within seconds.
const stack = { logLevel: 'ERROR', leaseMs: '2000', queueLeaseMs: '4000' };

type Message = { id?: string | null; type?: string; requestId?: string };
type Health = { status: number; body: { status?: string; reason?: string } };

/** The runtime's own DynamoDB Local: the Java child of its process. */
function dynamoDbLocalPid(runtime: LocalRuntimeHandle): number {
  const pids = execFileSync('pgrep', ['-P', String(runtime.process.pid), '-f', 'DynamoDBLocal']).toString().trim().split('\n').filter(Boolean);
  if (pids.length !== 1) throw new Error(`expected one DynamoDB Local under the runtime, found ${pids.length}`);
  return Number(pids[0]);
}

async function health(runtime: LocalRuntimeHandle): Promise<Health | undefined> {
  try {
    const response = await fetch(`${runtime.httpUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, body: (await response.json()) as Health['body'] };
  } catch {
    return undefined;
  }
}

/** Sends the jobs and resolves with their request ids once each is acknowledged and most report progress. */
const startJobs = (socket: TestSocket): Promise<string[]> => startReportJobs(socket, { count: JOBS, stepDelayMs: 500, runningAtLeast: JOBS / 2 });

const withinMs = <T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> =>
  Promise.race([promise, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref())]);

it('exits non-zero, naming DynamoDB Local, when its in-memory DynamoDB Local is killed, and closes the clients’ sockets', async () => {
  const runtime = await startLocalRuntime({ env, stack });
  try {
    const socket = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'ddb-death', tenant: 'acme' })}`);
    await startJobs(socket);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      runtime.process.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let running = true;
    void exited.then(() => (running = false));
    const answers: Health[] = [];
    const polling = (async () => {
      while (running) {
        const answer = await health(runtime);
        if (answer) answers.push(answer);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    process.kill(dynamoDbLocalPid(runtime), 'SIGKILL');

    const exit = await withinMs(exited, 30_000);
    running = false;
    await polling;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(runtime.output()).toMatch(/DynamoDB Local .*exited unexpectedly.*killed by SIGKILL.*in memory/);
    // Whatever /healthz answered after the kill, it never said ok while DynamoDB Local was gone but for the moment before the exit was seen.
    const unhealthy = answers.filter((answer) => answer.status === 503);
    for (const answer of unhealthy) expect(answer.body).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/DynamoDB Local/) });
    expect(await withinMs(socket.closed(), 5000)).not.toBe('timed out');
  } finally {
    await runtime.stop();
  }
});

it('restarts a persisted DynamoDB Local killed under 10 running jobs: one error line, unhealthy then healthy, one final message per job', async () => {
  const persistDir = mkdtempSync(join(tmpdir(), 'streamer-ddb-death-'));
  try {
    const runtime = await startLocalRuntime({ env, stack, persistDir });
    try {
      const token = runtime.mintToken({ sub: 'ddb-death', tenant: 'acme' });
      const socket = await openSocket(`${runtime.wsUrl}?token=${token}`);
      const requestIds = await startJobs(socket);
      const killed = dynamoDbLocalPid(runtime);

      process.kill(killed, 'SIGKILL');

      let unhealthy: Health | undefined;
      await waitFor(async () => {
        const answer = await health(runtime);
        if (answer?.status === 503) unhealthy = answer;
        return unhealthy !== undefined;
      }, 15_000, 50);
      expect(unhealthy!.body).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/DynamoDB Local/) });
      await waitFor(async () => (await health(runtime))?.status === 200, 60_000, 100);
      expect(dynamoDbLocalPid(runtime)).not.toBe(killed);

      const watcher = await openSocket(`${runtime.wsUrl}?token=${token}`);
      requestIds.forEach((requestId, i) => watcher.send({ id: `sub-${i}`, action: 'subscribe', payload: { requestId } }));
      const finals = (on: TestSocket): Message[] => (on.received as Message[]).filter((m) => m.type === 'result' || m.type === 'error');
      await waitFor(() => new Set(finals(watcher).map((m) => m.requestId)).size >= JOBS, 120_000, 100);
      // Let any duplicate that would come, come.
      await new Promise((resolve) => setTimeout(resolve, 3000));

      const perRequest = (on: TestSocket): number[] => requestIds.map((id) => finals(on).filter((m) => m.requestId === id).length);
      expect(perRequest(watcher)).toEqual(requestIds.map(() => 1));
      expect(perRequest(socket).filter((count) => count > 1)).toEqual([]);
      expect(finals(watcher).map((m) => m.type)).toEqual(requestIds.map(() => 'result'));
      const deathLines = runtime.output().split('\n').filter((line) => /ERROR .*DynamoDB Local/.test(line) && /exited unexpectedly/.test(line));
      expect(deathLines).toHaveLength(1);
      await Promise.all([watcher.close(), socket.close()]);
    } finally {
      await runtime.stop();
    }
  } finally {
    rmSync(persistDir, { recursive: true, force: true });
  }
});
