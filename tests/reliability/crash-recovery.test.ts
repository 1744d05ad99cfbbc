/**
 * Kill the whole runtime with SIGKILL in the middle of 100 running jobs,
 * restart it on the same persisted DynamoDB Local data, and check that every
 * accepted request ends in exactly one terminal state with one final message.
 *
 * `STREAMER_CRASH_JOBS` raises the job count for a longer soak.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashRuntime, dynamoDbLocalProcessesFor } from '../support/crash-runtime';
import { openSocket } from '../support/socket-client';
import { startLocalRuntime } from '../support/local-runtime';
import { startReportJobs } from '../support/report-jobs';
import { waitFor } from '../support/wait-for';

const JOBS = Number(process.env.STREAMER_CRASH_JOBS ?? 100);
jest.setTimeout(240_000);

// A frequent sweep (the runtime's schedule) so recovery takes seconds, not minutes.
const env = { STREAMER_LOCAL_LOG_LEVEL: 'warn', STREAMER_LOCAL_SWEEP_MS: '500', STREAMER_LOCAL_ASYNC_CONCURRENCY: '128' };
// Short leases (stack config, as an operator would set them) and limits that never refuse the load.
const stack = {
  logLevel: 'ERROR',
  leaseMs: '2000',
  queueLeaseMs: '4000',
  rateLimitConnection: '100000/100000',
  rateLimitUser: '100000/100000',
};

type Message = { id?: string | null; type?: string; requestId?: string; request?: { status: string } };

it(`recovers ${JOBS} jobs after SIGKILL: every request ends once, none twice`, async () => {
  const persistDir = mkdtempSync(join(tmpdir(), 'streamer-crash-'));
  try {
    const first = await startLocalRuntime({ env, stack, persistDir });
    const token = first.mintToken({ sub: 'crash', tenant: 'acme' });
    const socket = await openSocket(`${first.wsUrl}?token=${token}`);
    // Kill once many jobs are running (they report progress).
    const requestIds = await startReportJobs(socket, { count: JOBS, stepDelayMs: 400, runningAtLeast: Math.min(JOBS / 2, 50) });
    const finishedBeforeCrash = (socket.received as Message[]).filter((m) => m.type === 'result').length;
    await crashRuntime(first, persistDir);

    const second = await startLocalRuntime({ env, stack, persistDir });
    try {
      const watcher = await openSocket(`${second.wsUrl}?token=${second.mintToken({ sub: 'crash', tenant: 'acme' })}`);
      requestIds.forEach((requestId, i) => watcher.send({ id: `sub-${i}`, action: 'subscribe', payload: { requestId } }));
      const finals = () => (watcher.received as Message[]).filter((m) => m.type === 'result' || m.type === 'error');
      // A subscriber hears a request's final message once: at once for one that ended before the crash, later for the rest.
      await waitFor(() => new Set(finals().map((m) => m.requestId)).size >= JOBS, 150_000);
      // Let any duplicate that would come, come.
      await new Promise((resolve) => setTimeout(resolve, 3000));

      requestIds.forEach((requestId, i) => watcher.send({ id: `st-${i}`, action: 'status', payload: { requestId } }));
      const statuses = await Promise.all(requestIds.map((_r, i) => watcher.next<Message>((m) => m.id === `st-${i}`, 30_000)));
      const terminal = statuses.filter((s) => ['completed', 'failed', 'cancelled'].includes(s.request!.status));
      const completed = statuses.filter((s) => s.request!.status === 'completed');
      const finalsPerRequest = new Map<string, number>();
      for (const message of finals()) finalsPerRequest.set(message.requestId!, (finalsPerRequest.get(message.requestId!) ?? 0) + 1);
      const duplicates = [...finalsPerRequest.values()].filter((count) => count > 1).length;

      expect({ accepted: requestIds.length, terminal: terminal.length, completed: completed.length, duplicates }).toEqual({
        accepted: JOBS,
        terminal: JOBS,
        completed: JOBS,
        duplicates: 0,
      });
      // Requests that finished before the crash were already told; every other one got exactly one final message now.
      expect(finalsPerRequest.size + finishedBeforeCrash).toBeGreaterThanOrEqual(JOBS);
      await watcher.close();
    } finally {
      await second.stop();
    }
    expect(dynamoDbLocalProcessesFor(persistDir)).toBe(0);
  } finally {
    rmSync(persistDir, { recursive: true, force: true });
  }
});
