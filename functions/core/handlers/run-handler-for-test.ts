/**
 * The test kit: run a handler in one line with a recording progress
 * reporter, the same validation and error mapping as production.
 *
 * @example
 * const run = await runHandler(generateReport, { rows: 10, stepDelayMs: 0 });
 * expect(run.outcome.kind).toBe('result');
 * expect(run.progress.length).toBeGreaterThanOrEqual(5);
 */
import { StreamerError, toStreamerError } from '../errors';
import type { Identity } from '../identity';
import type { JsonObject } from '../protocol/messages';
import { executeHandler, type HandlerOutcome } from '../lifecycle/execute-handler';
import type { AnyHandler, HandlerDefinition } from './define-handler';
import { validatePayload } from './validate-payload';
import type * as z from 'zod';
import type { JsonValue } from '../protocol/messages';

export interface HandlerTestRun {
  readonly outcome: HandlerOutcome;
  /** Every report the handler made, unbatched, in order. */
  readonly progress: Array<{ progress: number; message?: string; metadata?: JsonObject }>;
}

export interface RunHandlerOptions {
  readonly identity?: Identity;
  readonly signal?: AbortSignal;
  readonly budgetMs?: number;
  readonly checkpoint?: JsonValue;
  readonly attempt?: number;
}

export async function runHandler<S extends z.ZodType, R extends JsonValue>(
  handler: HandlerDefinition<S, R>,
  payload: unknown,
  options: RunHandlerOptions = {},
): Promise<HandlerTestRun> {
  const identity = options.identity ?? { userId: 'test-user', tenantId: 'test-tenant', permissions: [] };
  const progress: HandlerTestRun['progress'] = [];
  const erased = handler as unknown as AnyHandler;
  let validated: unknown;
  try {
    validated = await validatePayload(erased, payload, identity);
  } catch (error) {
    return { outcome: { kind: 'error', error: toStreamerError(error) as StreamerError }, progress };
  }
  const outcome = await executeHandler({
    handler: erased,
    payload: validated,
    identity,
    progress: { report: (p, message, metadata) => progress.push({ progress: p, message, metadata }) },
    requestId: 'test-request',
    attempt: options.attempt ?? 1,
    checkpoint: options.checkpoint,
    budgetMs: options.budgetMs ?? 60_000,
    externalSignal: options.signal,
    now: Date.now,
  });
  return { outcome, progress };
}
