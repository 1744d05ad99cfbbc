import * as z from 'zod';
import { defineHandler, pause, RetryableError, runHandler } from '../../functions/core';
import { generateReport } from '../../functions/handlers/generate-report';
import { processData } from '../../functions/handlers/process-data';
import { echo } from '../../functions/handlers/echo';

const handler = (process: (ctx: { signal: AbortSignal; remainingTimeMs(): number; continueWith(s: never): never }) => Promise<unknown>) =>
  defineHandler({ name: 'h', payload: z.object({}), estimatedDurationMs: 1, process: process as never });

describe('running a handler', () => {
  it('returns the JSON result of echo', async () => {
    const run = await runHandler(echo, { a: [1, 'two'] });
    expect(run.outcome).toEqual({ kind: 'result', data: { a: [1, 'two'] } });
  });

  it('reports at least 5 increasing progress steps for generate_report and a summary', async () => {
    const run = await runHandler(generateReport, { rows: 50, stepDelayMs: 0 });
    expect(run.outcome).toMatchObject({ kind: 'result', data: { rows: 50, summary: expect.any(String) } });
    expect(run.progress.length).toBeGreaterThanOrEqual(5);
    const values = run.progress.map((p) => p.progress);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
  });

  it('runs process_data through its five stages', async () => {
    const run = await runHandler(processData, { items: 3, stepDelayMs: 0 });
    expect(run.outcome).toMatchObject({ kind: 'result', data: { processed: 3, stages: { validate: 3, store: 3 } } });
    expect(run.progress).toHaveLength(5);
  });

  it('refuses generate_report payloads that break its schema', async () => {
    const run = await runHandler(generateReport, { rows: 0, stepDelayMs: 70_000 });
    expect(run.outcome).toMatchObject({ kind: 'error', error: { code: 'VALIDATION_ERROR' } });
  });

  it('maps a thrown RetryableError to a retryable outcome and keeps retry-after', async () => {
    const run = await runHandler(handler(async () => { throw new RetryableError('busy', { retryAfterMs: 500 }); }), {});
    expect(run.outcome).toMatchObject({ kind: 'error', error: { retryable: true, retryAfterMs: 500 } });
  });

  it('fails a handler that returns something that is not JSON, without retrying', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const run = await runHandler(handler(async () => circular), {});
    expect(run.outcome).toMatchObject({ kind: 'error', error: { code: 'INTERNAL_ERROR', retryable: false } });
    const bigint = await runHandler(handler(async () => ({ n: BigInt(1) })), {});
    expect(bigint.outcome).toMatchObject({ kind: 'error', error: { retryable: false } });
  });

  it('ends a handler that overruns its budget with TIMEOUT, even if it ignores its signal', async () => {
    const run = await runHandler(handler(() => new Promise(() => undefined)), {}, { budgetMs: 20 });
    expect(run.outcome).toMatchObject({ kind: 'error', error: { code: 'TIMEOUT', retryable: true } });
  });

  it('aborts the signal with the caller\'s reason when cancelled', async () => {
    const controller = new AbortController();
    const running = runHandler(handler(async ({ signal }) => { await pause(10_000, signal); return 1; }), {}, { signal: controller.signal });
    controller.abort(new (await import('../../functions/core')).StreamerError('CANCELLED', 'stop'));
    await expect(running).resolves.toMatchObject({ outcome: { kind: 'error', error: { code: 'CANCELLED' } } });
  });

  it('returns a continuation with its saved state', async () => {
    const run = await runHandler(handler(async ({ continueWith }) => continueWith({ cursor: 5 } as never)), {});
    expect(run.outcome).toEqual({ kind: 'continuation', state: { cursor: 5 } });
  });

  it('tells the handler how much time it has left', async () => {
    let left = -1;
    await runHandler(handler(async ({ remainingTimeMs }) => { left = remainingTimeMs(); return 1; }), {}, { budgetMs: 10_000 });
    expect(left).toBeGreaterThan(9000);
    expect(left).toBeLessThanOrEqual(10_000);
  });
});
