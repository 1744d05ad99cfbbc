/**
 * Starting many `generate_report` jobs on one socket for the reliability
 * tests: every job acknowledged, then enough of them running (reporting
 * progress) that a crash lands in the middle of the work.
 */
import type { TestSocket } from './socket-client';
import { waitFor } from './wait-for';

type Message = { id?: string | null; type?: string; requestId?: string };

export interface ReportJobs {
  readonly count: number;
  readonly stepDelayMs: number;
  /** Resolve once this many distinct jobs have reported progress. */
  readonly runningAtLeast: number;
}

/** Sends the jobs (ids `job-0` …) and resolves with their request ids, in order. */
export async function startReportJobs(socket: TestSocket, jobs: ReportJobs): Promise<string[]> {
  for (let i = 0; i < jobs.count; i++) {
    socket.send({ id: `job-${i}`, action: 'generate_report', payload: { rows: i + 1, stepDelayMs: jobs.stepDelayMs } });
  }
  const requestIds: string[] = [];
  for (let i = 0; i < jobs.count; i++) {
    const ack = await socket.next<Message>((m) => m.id === `job-${i}` && (m.type === 'ack' || m.type === 'error'), 30_000);
    expect(ack.type).toBe('ack');
    requestIds.push(ack.requestId!);
  }
  const running = (): number => new Set((socket.received as Message[]).filter((m) => m.type === 'progress').map((m) => m.requestId)).size;
  await waitFor(() => running() >= jobs.runningAtLeast, 30_000);
  return requestIds;
}
