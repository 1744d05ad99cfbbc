/**
 * Crashing a persisted local runtime as a power cut would: SIGKILL, so no
 * shutdown runs (no `$disconnect`, no flush beyond what DynamoDB Local had
 * written), then a restart on the same folder finds the tables as they were.
 */
import { execFileSync } from 'node:child_process';
import type { LocalRuntimeHandle } from './local-runtime';
import { waitFor } from './wait-for';

/** DynamoDB Local processes serving `persistDir` (none once a runtime on it is gone). */
export function dynamoDbLocalProcessesFor(persistDir: string): number {
  try {
    return execFileSync('pgrep', ['-f', `DynamoDBLocal.*${persistDir}`]).toString().trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Kills the runtime with SIGKILL and resolves once it and its DynamoDB Local have exited. */
export async function crashRuntime(runtime: LocalRuntimeHandle, persistDir: string): Promise<void> {
  const exited = new Promise((resolve) => runtime.process.once('exit', resolve));
  runtime.process.kill('SIGKILL');
  await exited;
  await waitFor(() => dynamoDbLocalProcessesFor(persistDir) === 0, 10_000);
}
